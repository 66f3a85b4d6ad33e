//! The AWS adapter over a real HTTP connection: the client built by
//! `AwsTarget::from_environment` (rustls/ring client, credential chain, SigV4 signing, the
//! Lambda REST-JSON protocol) talks to a listener on loopback that answers as Lambda does.
//! The endpoint comes from AWS_ENDPOINT_URL, as the SDK documents; credentials from the
//! environment, so nothing ever leaves this machine.
#![cfg(feature = "aws")]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use smoke_test::ports::ControlPlane;
use smoke_test::targets::aws::AwsTarget;

/// Answers one request per body, in order, and hands back each request's head and body.
fn lambda(bodies: Vec<&'static str>) -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for body in bodies {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let mut request_body = vec![0; length];
            reader.read_exact(&mut request_body).unwrap();
            let mut stream = stream;
            write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-amzn-requestid: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
            tx.send((head, String::from_utf8(request_body).unwrap())).unwrap();
        }
    });
    (url, rx)
}

fn isolate_from_the_machine(endpoint: &str) {
    // Static credentials end the chain before any instance-metadata lookup; no shared config.
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
        ("AWS_ENDPOINT_URL", endpoint),
    ] {
        std::env::set_var(k, v);
    }
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_SESSION_TOKEN");
}

#[tokio::test]
async fn the_control_plane_goes_over_http_signed_for_the_region() {
    let (url, requests) = lambda(vec![
        r#"{"FunctionName":"dev-payment-fixed","Environment":{"Variables":{"A":"1"}},"RevisionId":"rev-7","LastUpdateStatus":"Successful"}"#,
        r#"{"FunctionName":"dev-payment-fixed","Environment":{"Variables":{"A":"1","FAULT_MODE":"exception"}},"RevisionId":"rev-8","LastUpdateStatus":"InProgress"}"#,
        r#"{"FunctionName":"dev-payment-fixed","Version":"9"}"#,
        r#"{"Name":"live","FunctionVersion":"9","RoutingConfig":{"AdditionalVersionWeights":{}}}"#,
    ]);
    isolate_from_the_machine(&url);
    let names = BTreeMap::from([("payment-fixed".to_owned(), "dev-payment-fixed".to_owned())]);
    let target = AwsTarget::from_environment("eu-west-1", names).await;

    let config = target.configuration("payment-fixed").await.unwrap();
    assert_eq!(config.function_name, "dev-payment-fixed");
    assert_eq!(
        config.variables,
        BTreeMap::from([("A".to_owned(), "1".to_owned())])
    );
    assert_eq!(config.revision_id.as_deref(), Some("rev-7"));

    let (head, _) = requests.recv().unwrap();
    assert!(
        head.starts_with("GET /2015-03-31/functions/dev-payment-fixed/configuration"),
        "{head}"
    );
    let auth = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .unwrap();
    assert!(
        auth.contains("AWS4-HMAC-SHA256") && auth.contains("/eu-west-1/lambda/aws4_request"),
        "{auth}"
    );

    let vars = BTreeMap::from([
        ("A".to_owned(), "1".to_owned()),
        ("FAULT_MODE".to_owned(), "exception".to_owned()),
    ]);
    let updated = target
        .replace_variables("payment-fixed", &vars, Some("rev-7"))
        .await
        .unwrap();
    assert_eq!(updated.last_update_status.as_deref(), Some("InProgress"));
    let (head, body) = requests.recv().unwrap();
    assert!(
        head.starts_with("PUT /2015-03-31/functions/dev-payment-fixed/configuration"),
        "{head}"
    );
    let sent: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        sent["Environment"]["Variables"],
        serde_json::json!({"A": "1", "FAULT_MODE": "exception"})
    );
    assert_eq!(sent["RevisionId"], "rev-7");

    // serve_latest: PublishVersion, then `live` to that version with the weights cleared on the
    // wire (an absent RoutingConfig would leave a canary's split in place).
    let version = target.serve_latest("payment-fixed").await.unwrap();
    assert_eq!(version, "9");
    let (head, _) = requests.recv().unwrap();
    assert!(
        head.starts_with("POST /2015-03-31/functions/dev-payment-fixed/versions"),
        "{head}"
    );
    let (head, body) = requests.recv().unwrap();
    assert!(
        head.starts_with("PUT /2015-03-31/functions/dev-payment-fixed/aliases/live"),
        "{head}"
    );
    let sent: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        sent,
        serde_json::json!({"FunctionVersion": "9", "RoutingConfig": {"AdditionalVersionWeights": {}}})
    );
}
