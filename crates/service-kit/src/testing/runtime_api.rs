//! A minimal Lambda Runtime API on 127.0.0.1, enough to run a real function binary in a test:
//! it hands out queued events on `GET .../invocation/next` and records every request the
//! function makes (responses, errors, init errors) with the instant it arrived.
//!
//! Plain std networking on purpose: it must be obviously correct, and the full runtime host
//! with AWS-faithful behaviour lives in the lab.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// An event to hand out, with the headers Lambda sends with it.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    pub request_id: String,
    /// Epoch milliseconds (`Lambda-Runtime-Deadline-Ms`).
    pub deadline_ms: u64,
    pub body: String,
}

/// One request the function made to the Runtime API.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<QueuedEvent>,
    received: Vec<Received>,
}

/// The server; it stops accepting when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
    stopped: Arc<AtomicBool>,
}

impl RuntimeApi {
    /// Listens on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let (accept_state, accept_stopped) = (state.clone(), stopped.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (state, stopped) = (accept_state.clone(), accept_stopped.clone());
                thread::spawn(move || serve(stream, &state, &stopped));
            }
        });
        Ok(RuntimeApi { addr, state, stopped })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    pub fn push(&self, event: QueuedEvent) {
        let (lock, signal) = &*self.state;
        lock.lock()
            .unwrap_or_else(|p| p.into_inner())
            .queue
            .push_back(event);
        signal.notify_all();
    }

    /// Waits up to `limit` for a request whose path ends with `suffix`.
    pub fn wait_for(&self, suffix: &str, limit: Duration) -> Option<Received> {
        let (lock, signal) = &*self.state;
        let deadline = Instant::now() + limit;
        let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(found) = state.received.iter().find(|r| r.path.ends_with(suffix)) {
                return Some(found.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            state = signal
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Every request made so far, except the polls for the next event.
    pub fn received(&self) -> Vec<Received> {
        let state = self.state.0.lock().unwrap_or_else(|p| p.into_inner());
        state
            .received
            .iter()
            .filter(|r| !r.path.ends_with("/invocation/next"))
            .cloned()
            .collect()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.state.1.notify_all();
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Serves one keep-alive connection.
fn serve(stream: TcpStream, state: &(Mutex<State>, Condvar), stopped: &AtomicBool) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let reply = if request.method == "GET" && request.path.ends_with("/runtime/invocation/next") {
            let (lock, signal) = state;
            let mut guard = lock.lock().unwrap_or_else(|p| p.into_inner());
            guard.received.push(request);
            signal.notify_all();
            // Long poll, as Lambda does, until an event is queued or the server stops.
            loop {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                if let Some(event) = guard.queue.pop_front() {
                    break next_event_reply(&event);
                }
                guard = signal
                    .wait_timeout(guard, Duration::from_millis(100))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        } else {
            let (lock, signal) = state;
            lock.lock()
                .unwrap_or_else(|p| p.into_inner())
                .received
                .push(request);
            signal.notify_all();
            reply(202, &[], r#"{"status":"OK"}"#)
        };
        if writer
            .write_all(reply.as_bytes())
            .and_then(|()| writer.flush())
            .is_err()
        {
            return;
        }
    }
}

fn next_event_reply(event: &QueuedEvent) -> String {
    let deadline = event.deadline_ms.to_string();
    reply(
        200,
        &[
            ("Lambda-Runtime-Aws-Request-Id", event.request_id.as_str()),
            ("Lambda-Runtime-Deadline-Ms", deadline.as_str()),
            (
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:eu-west-1:123456789012:function:test",
            ),
            (
                "Lambda-Runtime-Trace-Id",
                "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent=1;Sampled=0",
            ),
        ],
        &event.body,
    )
}

fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> String {
    let mut text = format!(
        "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok().filter(|&n| n > 0)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        at: Instant::now(),
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
