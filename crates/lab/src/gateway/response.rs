//! What API Gateway makes of a Lambda proxy response in payload format 2.0.

use base64::Engine;
use bytes::Bytes;
use serde_json::Value;

/// The HTTP answer a function's response maps to.
#[derive(Debug, PartialEq)]
pub struct Mapped {
    pub status: u16,
    /// In order; repeated names are separate entries (multi-value headers, Set-Cookie).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Why a response was refused (API Gateway answers 500 `Internal Server Error`).
#[derive(Debug, PartialEq)]
pub struct Malformed(pub String);

fn header_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Maps the function's output. Valid JSON without `statusCode` is a 200 `application/json`
/// response whose body is that JSON; an object with `statusCode` is read field by field.
pub fn map(output: &Bytes) -> Result<Mapped, Malformed> {
    let value: Value =
        serde_json::from_slice(output).map_err(|e| Malformed(format!("response is not JSON: {e}")))?;
    let Some(obj) = value.as_object().filter(|o| o.contains_key("statusCode")) else {
        return Ok(Mapped {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: output.clone(),
        });
    };
    let status = obj["statusCode"]
        .as_u64()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| Malformed(format!("statusCode {} is not an HTTP status", obj["statusCode"])))?
        as u16;
    let mut headers = Vec::new();
    if let Some(h) = obj.get("headers").filter(|h| !h.is_null()) {
        let h = h
            .as_object()
            .ok_or_else(|| Malformed("headers is not an object".into()))?;
        for (name, v) in h {
            let v = header_value(v).ok_or_else(|| Malformed(format!("header {name} is not a string")))?;
            headers.push((name.to_ascii_lowercase(), v));
        }
    }
    if let Some(h) = obj.get("multiValueHeaders").filter(|h| !h.is_null()) {
        let h = h
            .as_object()
            .ok_or_else(|| Malformed("multiValueHeaders is not an object".into()))?;
        for (name, values) in h {
            let values = values
                .as_array()
                .ok_or_else(|| Malformed(format!("multiValueHeaders.{name} is not a list")))?;
            for v in values {
                let v = header_value(v)
                    .ok_or_else(|| Malformed(format!("multiValueHeaders.{name} holds a non-string")))?;
                headers.push((name.to_ascii_lowercase(), v));
            }
        }
    }
    if let Some(c) = obj.get("cookies").filter(|c| !c.is_null()) {
        let c = c
            .as_array()
            .ok_or_else(|| Malformed("cookies is not a list".into()))?;
        for cookie in c {
            let cookie = cookie
                .as_str()
                .ok_or_else(|| Malformed("cookies holds a non-string".into()))?;
            headers.push(("set-cookie".into(), cookie.to_owned()));
        }
    }
    let base64 = match obj.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(Malformed(format!("isBase64Encoded {other} is not a boolean"))),
    };
    let body = match obj.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if base64 => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| Malformed(format!("body is not valid base64: {e}")))?,
        ),
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(_) => return Err(Malformed("body is not a string".into())),
    };
    Ok(Mapped {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Result<Mapped, Malformed> {
        map(&Bytes::from(s.to_owned()))
    }

    #[test]
    fn plain_json_is_a_200() {
        let r = m(r#"{"ok":true}"#).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            r.headers,
            vec![("content-type".to_string(), "application/json".to_string())]
        );
        assert_eq!(&r.body[..], br#"{"ok":true}"#);
        assert_eq!(m(r#""hello""#).unwrap().status, 200);
    }

    #[test]
    fn structured_responses_map_every_field() {
        let r = m(
            r#"{"statusCode":201,"headers":{"X-A":"1"},"multiValueHeaders":{"x-b":["2","3"]},
            "cookies":["c=1","d=2"],"body":"aGk=","isBase64Encoded":true}"#,
        )
        .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(&r.body[..], b"hi");
        let names: Vec<_> = r.headers.iter().map(|(n, v)| format!("{n}={v}")).collect();
        assert_eq!(
            names,
            ["x-a=1", "x-b=2", "x-b=3", "set-cookie=c=1", "set-cookie=d=2"]
        );
    }

    #[test]
    fn malformed_responses_are_refused() {
        assert!(m("not json").is_err());
        assert!(m(r#"{"statusCode":"200"}"#).is_err());
        assert!(m(r#"{"statusCode":700}"#).is_err());
        assert!(m(r#"{"statusCode":200,"body":{"a":1}}"#).is_err());
        assert!(m(r#"{"statusCode":200,"body":"!!","isBase64Encoded":true}"#).is_err());
        assert!(m(r#"{"statusCode":200,"headers":[1]}"#).is_err());
    }
}
