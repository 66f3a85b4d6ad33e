//! AWS's state-reason wording, as seen in real StateReason values:
//!
//! - `Threshold Crossed: 1 datapoint [5.0 (25/11/26 14:00:00)] was greater than or equal to the threshold (1.0).`
//! - `Threshold Crossed: 3 datapoints [2.0 (..), 3.0 (..), 1.0 (..)] were greater than the threshold (0.0).`
//! - `Threshold Crossed: 2 out of the last 3 datapoints [5.0 (..), 5.0 (..)] were greater than or equal to
//!   the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).`
//! - `Threshold Crossed: 2 out of the last 3 datapoints [..] were not greater than the threshold (0.005)
//!   (minimum 1 datapoint for ALARM -> OK transition).`
//! - `Threshold Crossed: 1 datapoint [2.0 (..)] was not less than or equal to the threshold (0.0) and
//!   7 missing datapoints were treated as [Breaching].`
//! - `Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching].`
//! - `Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].`
//! - `Insufficient Data: 1 datapoint was unknown.`
//!
//! The short form (`K datapoints [...]`) is what AWS writes when DatapointsToAlarm equals
//! EvaluationPeriods; `M out of the last N datapoints ... (minimum ...)` when M < N. The listed
//! datapoints are the ones that decided the state (breaching ones for ALARM, the others for OK),
//! newest first, each with its period start in UTC as dd/MM/yy HH:mm:ss. Numbers print as Java's
//! `Double.toString` does (AWS's services are Java): `5.0`, `0.01758096118768056`, `1.0E7`.

use std::time::SystemTime;

use time::macros::format_description;
use time::OffsetDateTime;

/// `Double.toString`: a decimal point always; scientific notation outside [1e-3, 1e7).
pub(crate) fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let magnitude = v.abs();
    if v == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{v:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

/// A period start as AWS prints it in reasons: UTC `dd/MM/yy HH:mm:ss`.
pub(crate) fn reason_time(t: SystemTime) -> String {
    let fmt = format_description!("[day]/[month]/[year repr:last_two] [hour]:[minute]:[second]");
    OffsetDateTime::from(t)
        .format(&fmt)
        .unwrap_or_else(|_| "??/??/?? ??:??:??".into())
}

/// RFC 3339 with milliseconds, as StateReasonData writes timestamps.
pub(crate) fn data_time(t: SystemTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000");
    OffsetDateTime::from(t).format(&fmt).unwrap_or_default()
}

/// The time in a composite alarm's reason, as AWS writes it: `Wednesday 02 December, 2026 03:30:00 UTC`.
pub(crate) fn long_utc(t: SystemTime) -> String {
    let fmt = format_description!("[weekday] [day] [month repr:long], [year] [hour]:[minute]:[second] UTC");
    OffsetDateTime::from(t).format(&fmt).unwrap_or_default()
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// How the missing periods that filled the evaluation were counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FillKind {
    Breaching,
    NonBreaching,
}

/// Everything a "Threshold Crossed" reason says.
pub(crate) struct Crossing<'a> {
    /// The new state is ALARM (else OK).
    pub alarm: bool,
    pub n: usize,
    pub m: usize,
    /// The datapoints that decided the state, newest first: (value, period start).
    pub listed: &'a [(f64, SystemTime)],
    /// Real datapoints that were evaluated.
    pub received: usize,
    /// Missing periods filled per TreatMissingData.
    pub fills: Option<(usize, FillKind)>,
    pub phrase: &'a str,
    pub threshold: f64,
}

pub(crate) fn threshold_crossed(c: &Crossing<'_>) -> String {
    let fill_clause = match c.fills {
        Some((f, kind)) if f > 0 => format!(
            " and {f} missing {} {} treated as [{}]",
            plural(f, "datapoint", "datapoints"),
            plural(f, "was", "were"),
            match kind {
                FillKind::Breaching => "Breaching",
                FillKind::NonBreaching => "NonBreaching",
            }
        ),
        _ => String::new(),
    };
    if c.listed.is_empty() {
        let received = if c.received == 0 {
            "no datapoints were received".to_owned()
        } else {
            format!(
                "{} {} {} received",
                c.received,
                plural(c.received, "datapoint", "datapoints"),
                plural(c.received, "was", "were")
            )
        };
        return format!(
            "Threshold Crossed: {received} for {} {}{fill_clause}.",
            c.n,
            plural(c.n, "period", "periods")
        );
    }
    let list = c
        .listed
        .iter()
        .map(|(v, t)| format!("{} ({})", java_double(*v), reason_time(*t)))
        .collect::<Vec<_>>()
        .join(", ");
    let k = c.listed.len();
    let verb = plural(k, "was", "were");
    let not = if c.alarm { "" } else { "not " };
    let comparison = format!(
        "{verb} {not}{} the threshold ({})",
        c.phrase,
        java_double(c.threshold)
    );
    if c.m == c.n {
        format!(
            "Threshold Crossed: {k} {} [{list}] {comparison}{fill_clause}.",
            plural(k, "datapoint", "datapoints")
        )
    } else {
        let (minimum, transition) = if c.alarm {
            (c.m, "OK -> ALARM")
        } else {
            (c.n - c.m + 1, "ALARM -> OK")
        };
        format!(
            "Threshold Crossed: {k} out of the last {} datapoints [{list}] {comparison}{fill_clause} (minimum {minimum} {} for {transition} transition).",
            c.n,
            plural(minimum, "datapoint", "datapoints")
        )
    }
}

pub(crate) fn insufficient_data(n: usize) -> String {
    format!(
        "Insufficient Data: {n} {} {} unknown.",
        plural(n, "datapoint", "datapoints"),
        plural(n, "was", "were")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn numbers_print_like_java_doubles() {
        for (v, s) in [
            (5.0, "5.0"),
            (0.0, "0.0"),
            (1.0, "1.0"),
            (0.059, "0.059"),
            (7000.0, "7000.0"),
            (0.01758096118768056, "0.01758096118768056"),
            (-2.5, "-2.5"),
            (1e7, "1.0E7"),
            (1.5e-4, "1.5E-4"),
            (123456789.0, "1.23456789E8"),
            (0.001, "0.001"),
        ] {
            assert_eq!(java_double(v), s, "{v}");
        }
    }

    #[test]
    fn times_print_day_first_in_utc() {
        // 2026-11-25T14:00:00Z
        let t = UNIX_EPOCH + Duration::from_secs(1_795_615_200);
        assert_eq!(reason_time(t), "25/11/26 14:00:00");
        assert_eq!(data_time(t), "2026-11-25T14:00:00.000+0000");
    }
}
