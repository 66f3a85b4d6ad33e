//! The payload format 2.0 event API Gateway's HTTP API sends to a Lambda proxy integration,
//! with the fields filled the way API Gateway fills them.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use base64::Engine;
use hyper::HeaderMap;
use serde::Serialize;
use time::OffsetDateTime;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    version: &'static str,
    route_key: &'a str,
    raw_path: &'a str,
    raw_query_string: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cookies: Option<Vec<&'a str>>,
    headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_string_parameters: Option<BTreeMap<String, String>>,
    request_context: RequestContext<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_parameters: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    is_base64_encoded: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext<'a> {
    account_id: &'a str,
    api_id: &'a str,
    domain_name: &'a str,
    domain_prefix: &'a str,
    http: Http<'a>,
    request_id: &'a str,
    route_key: &'a str,
    stage: &'static str,
    time: String,
    time_epoch: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Http<'a> {
    method: &'a str,
    path: &'a str,
    protocol: &'a str,
    source_ip: String,
    user_agent: &'a str,
}

/// What the gateway knows about one request.
pub struct EventInput<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub raw_query: &'a str,
    pub protocol: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub route_key: &'a str,
    pub path_parameters: &'a BTreeMap<String, String>,
    pub account_id: &'a str,
    pub api_id: &'a str,
    pub request_id: &'a str,
    pub client: SocketAddr,
    pub local_port: u16,
    pub trace_id: &'a str,
    pub now: OffsetDateTime,
}

/// Content types API Gateway passes as text; every other body arrives base64-encoded.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    ct.starts_with("text/")
        || ct == "application/json"
        || ct.ends_with("+json")
        || ct == "application/xml"
        || ct.ends_with("+xml")
        || ct == "application/javascript"
        || ct == "application/x-www-form-urlencoded"
}

// Percent-decoding of a query component (API Gateway decodes `queryStringParameters`).
use lab_admin_api::encode::decode;

/// Repeated names joined by commas, as both headers and query parameters are in format 2.0.
fn join_into(map: &mut BTreeMap<String, String>, name: String, value: &str) {
    map.entry(name)
        .and_modify(|v| {
            v.push(',');
            v.push_str(value);
        })
        .or_insert_with(|| value.to_owned());
}

pub fn build(input: &EventInput<'_>) -> Vec<u8> {
    let mut headers = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in input.headers {
        let value = value.to_str().unwrap_or("");
        if name == hyper::header::COOKIE {
            cookies.extend(value.split(';').map(str::trim).filter(|c| !c.is_empty()));
            continue;
        }
        join_into(&mut headers, name.as_str().to_owned(), value);
    }
    // Headers API Gateway adds on its way to the integration.
    let client_ip = input.client.ip().to_string();
    join_into(&mut headers, "x-forwarded-for".into(), &client_ip);
    headers.insert("x-forwarded-port".into(), input.local_port.to_string());
    headers.insert("x-forwarded-proto".into(), "http".into());
    headers.insert("x-amzn-trace-id".into(), input.trace_id.to_owned());
    if !input.body.is_empty() {
        headers
            .entry("content-length".into())
            .or_insert_with(|| input.body.len().to_string());
    }

    let query = (!input.raw_query.is_empty()).then(|| {
        let mut q = BTreeMap::new();
        for pair in input.raw_query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            join_into(&mut q, decode(k), &decode(v));
        }
        q
    });

    let content_type = input
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (body, is_base64_encoded) = if input.body.is_empty() {
        (None, false)
    } else {
        match std::str::from_utf8(input.body) {
            Ok(text) if is_text(content_type) => (Some(text.to_owned()), false),
            _ => (
                Some(base64::engine::general_purpose::STANDARD.encode(input.body)),
                true,
            ),
        }
    };

    let host = input
        .headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let domain_prefix = host.split('.').next().unwrap_or(host);
    let user_agent = input
        .headers
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let event = Event {
        version: "2.0",
        route_key: input.route_key,
        raw_path: input.path,
        raw_query_string: input.raw_query,
        cookies: (!cookies.is_empty()).then_some(cookies),
        headers,
        query_string_parameters: query,
        request_context: RequestContext {
            account_id: input.account_id,
            api_id: input.api_id,
            domain_name: host,
            domain_prefix,
            http: Http {
                method: input.method,
                path: input.path,
                protocol: input.protocol,
                source_ip: client_ip,
                user_agent,
            },
            request_id: input.request_id,
            route_key: input.route_key,
            stage: outage_config::stage::API_STAGE_NAME,
            time: crate::time_fmt::apigw_time(input.now),
            time_epoch: (input.now.unix_timestamp_nanos() / 1_000_000) as i64,
        },
        path_parameters: (!input.path_parameters.is_empty()).then_some(input.path_parameters),
        body,
        is_base64_encoded,
    };
    serde_json::to_vec(&event).expect("the event serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_the_event_as_api_gateway_does() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:3000".parse().unwrap());
        headers.insert("user-agent", "curl/8".parse().unwrap());
        headers.append("x-multi", "a".parse().unwrap());
        headers.append("x-multi", "b".parse().unwrap());
        headers.insert("cookie", "a=1; b=2".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        let params = BTreeMap::from([("id".to_string(), "7".to_string())]);
        let json = build(&EventInput {
            method: "POST",
            path: "/items/7",
            raw_query: "x=1&x=2&q=a%20b",
            protocol: "HTTP/1.1",
            headers: &headers,
            body: br#"{"k":1}"#,
            route_key: "POST /items/{id}",
            path_parameters: &params,
            account_id: "123456789012",
            api_id: "abc123defg",
            request_id: "Ej1yVgnGIAMEbNg=",
            client: "127.0.0.1:5555".parse().unwrap(),
            local_port: 3000,
            trace_id: "Root=1-x",
            now: time::macros::datetime!(2020-03-12 19:03:58.5 UTC),
        });
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["version"], "2.0");
        assert_eq!(v["routeKey"], "POST /items/{id}");
        assert_eq!(v["cookies"], serde_json::json!(["a=1", "b=2"]));
        assert!(v["headers"].get("cookie").is_none());
        assert_eq!(v["headers"]["x-multi"], "a,b");
        assert_eq!(v["headers"]["x-forwarded-for"], "127.0.0.1");
        assert_eq!(v["queryStringParameters"]["x"], "1,2");
        assert_eq!(v["queryStringParameters"]["q"], "a b");
        assert_eq!(v["pathParameters"]["id"], "7");
        assert_eq!(v["body"], r#"{"k":1}"#);
        assert_eq!(v["isBase64Encoded"], false);
        assert_eq!(v["requestContext"]["time"], "12/Mar/2020:19:03:58 +0000");
        assert_eq!(v["requestContext"]["timeEpoch"], 1584039838500i64);
        assert_eq!(v["requestContext"]["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(v["requestContext"]["stage"], "$default");

        // The functions parse events with aws_lambda_events: the event must read back whole.
        let parsed: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
            serde_json::from_slice(&json).unwrap();
        assert_eq!(parsed.request_context.http.method, hyper::Method::POST);
        assert_eq!(
            parsed.request_context.request_id.as_deref(),
            Some("Ej1yVgnGIAMEbNg=")
        );
        assert_eq!(parsed.path_parameters["id"], "7");
        assert_eq!(parsed.cookies.unwrap().len(), 2);
    }

    #[test]
    fn binary_bodies_are_base64() {
        let headers = HeaderMap::new();
        let params = BTreeMap::new();
        let json = build(&EventInput {
            method: "POST",
            path: "/",
            raw_query: "",
            protocol: "HTTP/1.1",
            headers: &headers,
            body: &[0xff, 0x00],
            route_key: "$default",
            path_parameters: &params,
            account_id: "1",
            api_id: "a",
            request_id: "r",
            client: "127.0.0.1:1".parse().unwrap(),
            local_port: 1,
            trace_id: "t",
            now: OffsetDateTime::now_utc(),
        });
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            (
                v["body"].as_str().unwrap(),
                v["isBase64Encoded"].as_bool().unwrap()
            ),
            ("/wA=", true)
        );
        assert!(v.get("queryStringParameters").is_none() && v.get("pathParameters").is_none());
    }
}
