//! CloudWatch Logs, locally: one log group per function (`/aws/lambda/<stage>-<key>`), one
//! stream per execution environment. Events are kept in a bounded ring per group for queries and
//! appended as JSON lines to `<run_dir>/logs/<function name>.jsonl` by a background writer, so
//! the invoke path never waits for the disk.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::mpsc;

/// Events kept in memory per log group; older ones stay only in the run folder's files.
pub const RING_CAPACITY: usize = 20_000;

#[derive(Debug, Clone, Serialize)]
pub struct LogEvent {
    /// Epoch milliseconds, as CloudWatch Logs stores them.
    pub timestamp: i64,
    #[serde(serialize_with = "as_str")]
    pub log_group: Arc<str>,
    #[serde(serialize_with = "as_str")]
    pub log_stream: Arc<str>,
    pub message: String,
}

fn as_str<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

struct Group {
    name: Arc<str>,
    file_index: usize,
    ring: Mutex<VecDeque<LogEvent>>,
}

/// What a query asks for; every part is optional.
#[derive(Debug, Default, Clone)]
pub struct LogQuery {
    /// Keep events whose message contains this text (case-sensitive, like a CloudWatch term).
    pub filter: Option<String>,
    /// Keep events at or after this epoch millisecond.
    pub since_ms: Option<i64>,
    /// Keep only the newest N of the matches.
    pub limit: Option<usize>,
}

pub struct LogStore {
    groups: BTreeMap<String, Group>,
    files: mpsc::UnboundedSender<(usize, String)>,
    dir: PathBuf,
}

impl LogStore {
    /// A store for these `(function key, log group)` pairs; files go to `dir`.
    pub fn new(
        dir: &Path,
        groups: impl IntoIterator<Item = (String, String)>,
    ) -> std::io::Result<Arc<LogStore>> {
        std::fs::create_dir_all(dir)?;
        let mut files = Vec::new();
        let mut map = BTreeMap::new();
        for (i, (key, group)) in groups.into_iter().enumerate() {
            let file_name = format!("{}.jsonl", group.trim_start_matches("/aws/lambda/"));
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(file_name))?;
            files.push(std::io::BufWriter::new(file));
            map.insert(
                key,
                Group {
                    name: group.into(),
                    file_index: i,
                    ring: Mutex::new(VecDeque::new()),
                },
            );
        }
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_files(rx, files));
        Ok(Arc::new(LogStore {
            groups: map,
            files: tx,
            dir: dir.to_owned(),
        }))
    }

    /// Where the JSON-lines files are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn group_name(&self, key: &str) -> Option<Arc<str>> {
        self.groups.get(key).map(|g| g.name.clone())
    }

    /// Appends one event to a function's group (unknown keys are ignored: they cannot happen
    /// because the store is built from the same stage as the pools).
    pub fn append(&self, key: &str, stream: &Arc<str>, timestamp: i64, message: String) {
        let Some(group) = self.groups.get(key) else { return };
        let event = LogEvent {
            timestamp,
            log_group: group.name.clone(),
            log_stream: stream.clone(),
            message,
        };
        if let Ok(line) = serde_json::to_string(&event) {
            let _ = self.files.send((group.file_index, line));
        }
        let mut ring = group.ring.lock().expect("log ring lock");
        if ring.len() == RING_CAPACITY {
            ring.pop_front();
        }
        ring.push_back(event);
    }

    /// The matching events of one function, oldest first; `None` for an unknown function.
    pub fn query(&self, key: &str, q: &LogQuery) -> Option<Vec<LogEvent>> {
        let group = self.groups.get(key)?;
        let ring = group.ring.lock().expect("log ring lock");
        let mut out: Vec<LogEvent> = ring
            .iter()
            .filter(|e| q.since_ms.is_none_or(|s| e.timestamp >= s))
            .filter(|e| q.filter.as_deref().is_none_or(|f| e.message.contains(f)))
            .cloned()
            .collect();
        if let Some(limit) = q.limit {
            let drop = out.len().saturating_sub(limit);
            out.drain(..drop);
        }
        Some(out)
    }
}

/// How long a written line may sit in the buffer before `tail -f` sees it.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Appends lines to the files, flushing every [`FLUSH_EVERY`] while lines keep coming and
/// [`FLUSH_EVERY`] after the last one: one write per batch instead of one per line.
async fn write_files(
    mut rx: mpsc::UnboundedReceiver<(usize, String)>,
    mut files: Vec<std::io::BufWriter<std::fs::File>>,
) {
    let mut last_flush = std::time::Instant::now();
    let mut dirty = false;
    loop {
        let next = if dirty {
            match tokio::time::timeout(FLUSH_EVERY, rx.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    flush_all(&mut files);
                    dirty = false;
                    last_flush = std::time::Instant::now();
                    continue;
                }
            }
        } else {
            rx.recv().await
        };
        let Some((i, line)) = next else {
            flush_all(&mut files);
            return;
        };
        let f = &mut files[i];
        let _ = f.write_all(line.as_bytes()).and_then(|_| f.write_all(b"\n"));
        dirty = true;
        if last_flush.elapsed() >= FLUSH_EVERY {
            flush_all(&mut files);
            dirty = false;
            last_flush = std::time::Instant::now();
        }
    }
}

fn flush_all(files: &mut [std::io::BufWriter<std::fs::File>]) {
    for f in files {
        let _ = f.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn queries_filter_and_bound() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::new(
            dir.path(),
            [("auth".to_string(), "/aws/lambda/dev-auth".to_string())],
        )
        .unwrap();
        let stream: Arc<str> = "s".into();
        for i in 0..5 {
            store.append("auth", &stream, 1000 + i, format!("line {i}"));
        }
        let all = store.query("auth", &LogQuery::default()).unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(&*all[0].log_group, "/aws/lambda/dev-auth");
        let q = LogQuery {
            filter: Some("line".into()),
            since_ms: Some(1002),
            limit: Some(2),
        };
        let got: Vec<_> = store
            .query("auth", &q)
            .unwrap()
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(got, ["line 3", "line 4"]);
        assert!(store.query("nope", &q).is_none());
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let text = std::fs::read_to_string(dir.path().join("dev-auth.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 5);
    }
}
