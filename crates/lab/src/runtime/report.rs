//! The platform lines Lambda writes around every invocation, in the text format CloudWatch shows:
//! `START`, `END`, `REPORT` (with `Init Duration` on a cold start and `Status`/`Error Type` when
//! the invocation failed in a way only the platform can see), and the error lines for timeouts and
//! crashes.

use std::fmt::Write;
use std::time::Duration;

pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// How the invocation ended, as far as the REPORT line is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus<'a> {
    /// The runtime posted a response or a function error: no status on the line.
    Success,
    Timeout,
    /// A platform-detected failure, e.g. `Runtime.ExitError`.
    Error(&'a str),
}

pub struct Report<'a> {
    pub request_id: &'a str,
    pub duration: Duration,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: u64,
    pub init_duration: Option<Duration>,
    pub status: ReportStatus<'a>,
}

/// Milliseconds with two decimals, as Lambda prints them (`26.73`).
fn ms2(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Billed duration: whole milliseconds, rounded up (Lambda bills per 1 ms).
pub fn billed_ms(d: Duration) -> u128 {
    d.as_nanos().div_ceil(1_000_000).max(1)
}

impl Report<'_> {
    pub fn line(&self) -> String {
        let mut s = format!(
            "REPORT RequestId: {}\tDuration: {} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            self.request_id,
            ms2(self.duration),
            billed_ms(self.duration + self.init_duration.unwrap_or_default()),
            self.memory_size_mb,
            self.max_memory_used_mb,
        );
        if let Some(init) = self.init_duration {
            let _ = write!(s, "Init Duration: {} ms\t", ms2(init));
        }
        match self.status {
            ReportStatus::Success => {}
            ReportStatus::Timeout => s.push_str("Status: timeout\tError Type: Sandbox.Timedout\t"),
            ReportStatus::Error(kind) => {
                let _ = write!(s, "Status: error\tError Type: {kind}\t");
            }
        }
        s
    }
}

/// The line Lambda writes when it stops an invocation at its timeout.
pub fn timeout_line(request_id: &str, timeout: Duration) -> String {
    format!(
        "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
        timeout.as_secs_f64()
    )
}

/// The line Lambda writes when the runtime process dies during an invocation.
pub fn exit_line(request_id: &str, detail: &str) -> String {
    format!("RequestId: {request_id} Error: Runtime exited with error: {detail}\nRuntime.ExitError")
}

/// How Lambda describes a process's end: `exit status 1`, `signal: aborted (core dumped)`.
pub fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(6) => "signal: aborted (core dumped)".into(),
        Some(9) => "signal: killed".into(),
        Some(11) => "signal: segmentation fault (core dumped)".into(),
        Some(15) => "signal: terminated".into(),
        Some(n) => format!("signal: {n}"),
        None => "unknown exit".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_matches_the_aws_text_format() {
        let r = Report {
            request_id: "8f5a-1",
            duration: Duration::from_micros(26_730),
            memory_size_mb: 128,
            max_memory_used_mb: 75,
            init_duration: Some(Duration::from_micros(130_490)),
            status: ReportStatus::Success,
        };
        assert_eq!(
            r.line(),
            "REPORT RequestId: 8f5a-1\tDuration: 26.73 ms\tBilled Duration: 158 ms\tMemory Size: 128 MB\tMax Memory Used: 75 MB\tInit Duration: 130.49 ms\t"
        );
        let t = Report {
            init_duration: None,
            status: ReportStatus::Timeout,
            duration: Duration::from_secs(1),
            ..r
        };
        assert_eq!(
            t.line(),
            "REPORT RequestId: 8f5a-1\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 128 MB\tMax Memory Used: 75 MB\tStatus: timeout\tError Type: Sandbox.Timedout\t"
        );
        let e = Report {
            status: ReportStatus::Error("Runtime.ExitError"),
            ..t
        };
        assert!(e
            .line()
            .ends_with("Status: error\tError Type: Runtime.ExitError\t"));
        assert_eq!(start_line("x", "$LATEST"), "START RequestId: x Version: $LATEST");
        assert_eq!(start_line("x", "3"), "START RequestId: x Version: 3");
        assert_eq!(
            timeout_line("x", Duration::from_secs(3)),
            "RequestId: x Error: Task timed out after 3.00 seconds"
        );
    }
}
