//! Identifiers shaped like the ones AWS hands out, so that logs and headers read the same
//! locally as in the console.

use rand::Rng;
use time::OffsetDateTime;

const HEX: &[u8; 16] = b"0123456789abcdef";

fn random_hex(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n).map(|_| HEX[rng.random_range(0..16)] as char).collect()
}

/// A Lambda request id: a random (version 4) UUID, lower-case.
pub fn lambda_request_id() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 0x0f) as usize] as char);
    }
    s
}

/// An API Gateway request id (`apigw-requestid`, `requestContext.requestId`): 16 characters
/// such as `Ej1yVgnGIAMEbNg=`, which is what base64 of 11 random bytes looks like.
pub fn apigw_request_id() -> String {
    use base64::Engine;
    let b: [u8; 11] = rand::rng().random();
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// An X-Ray trace header value for `Lambda-Runtime-Trace-Id`.
pub fn trace_id(now: OffsetDateTime) -> String {
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        now.unix_timestamp(),
        random_hex(24),
        random_hex(16)
    )
}

/// A log stream name as Lambda writes it: `2026/11/25/[$LATEST]<32 hex>`, the version that
/// runs in the brackets.
pub fn log_stream_name(now: OffsetDateTime, version: &str) -> String {
    format!(
        "{:04}/{:02}/{:02}/[{version}]{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        random_hex(32)
    )
}

/// The lab's stand-in for an HTTP API id: ten lower-case letters and digits, as AWS uses.
pub fn api_id() -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
        .collect()
}

/// The admin token: 256 random bits in hex. `rand::rng()` is a CSPRNG seeded from the OS.
pub fn admin_token() -> String {
    random_hex(64)
}

/// A release's id (`r-` and 8 hex), as short as a person types it.
pub fn release_id() -> String {
    random_hex(8)
}

/// A short id for an execution environment (admin API, console).
pub fn environment_id() -> String {
    random_hex(12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_aws() {
        let id = lambda_request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_eq!(apigw_request_id().len(), 16);
        let now = time::macros::datetime!(2026-11-05 10:00 UTC);
        let stream = log_stream_name(now, "$LATEST");
        assert!(stream.starts_with("2026/11/05/[$LATEST]"), "{stream}");
        assert_eq!(stream.len(), "2026/11/05/[$LATEST]".len() + 32);
        assert!(log_stream_name(now, "4").starts_with("2026/11/05/[4]"));
        assert_eq!(admin_token().len(), 64);
        assert_ne!(admin_token(), admin_token());
    }
}
