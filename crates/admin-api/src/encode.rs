//! Percent-encoding for query values and path segments, and the decoding of a query string:
//! written once for the client and the server.

use std::collections::BTreeMap;

/// Percent-encodes a query value or a path segment (RFC 3986 unreserved characters stay).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; a malformed escape is kept as it is.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `name=value&...` with `+` as a space, each side decoded; a repeated name keeps the last value.
pub fn parse_query(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// `?a=1&b=2` from pairs, each value encoded; empty when there are none.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let parts: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(&v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_through_the_query_parser() {
        let value = "AWS/Lambda $default a+b&c=d é";
        let q = query_string([("dim.Stage", value.to_owned())]);
        assert_eq!(q, "?dim.Stage=AWS%2FLambda%20%24default%20a%2Bb%26c%3Dd%20%C3%A9");
        assert_eq!(parse_query(&q[1..])["dim.Stage"], value);
        assert_eq!(parse_query("filter=a+b&x=%zz&y=%4")["filter"], "a b");
        assert_eq!(parse_query("x=%zz")["x"], "%zz");
        assert_eq!(parse_query("y=%4")["y"], "%4");
    }
}
