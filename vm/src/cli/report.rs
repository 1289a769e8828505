//! What `ps` and `inspect` say about a process: its status as people should read it (a process
//! left running by a host that is gone is `interrupted`), and the JSON objects scripts read
//! (`--json`). The JSON field names are a promise to scripts: add fields, never rename them.

use chenilles_durable::{Record, Status};
use serde::Serialize;

use super::store::Driven;

/// The word for how a process stands: the record's status, except that a process whose record
/// says it runs but that no live host runs is `interrupted` (`resume` goes on with it).
pub fn status_word(status: &Status, driven: Driven) -> String {
    match status {
        Status::Running if driven == Driven::No => "interrupted".to_string(),
        status => status.word(),
    }
}

/// One process as `ps --json` lists it, and as `inspect --json` begins.
#[derive(Serialize, Default)]
pub struct ProcessSummary {
    /// The process's name.
    pub name: String,
    /// `running`, `interrupted`, `waiting`, `finished`, `exited(N)`, `failed`, or `damaged`
    /// (its record cannot be read: see `error`).
    pub status: String,
    /// For `exited(N)`: N.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// For `cancelled`: the reason given (may be empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// For `waiting` with a deadline: the Unix time (seconds) at which it resumes anyway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_until: Option<f64>,
    /// The program, as given to `start`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// Checkpoints committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<u64>,
    /// When it was started (Unix milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_unix_ms: Option<u64>,
    /// When its last checkpoint was taken (Unix milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_checkpoint_unix_ms: Option<u64>,
    /// Steps run so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<u64>,
    /// The length of its output in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_bytes: Option<u64>,
    /// Messages received so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_received: Option<u64>,
    /// Messages waiting in its mailbox (`null`: the mailbox cannot be read).
    pub messages_waiting: Option<usize>,
    /// The capabilities it was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<String>>,
    /// Why its record (or mailbox) cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ProcessSummary {
    /// The summary of a process whose record reads.
    pub fn of(record: &Record, driven: Driven, waiting: Option<usize>) -> ProcessSummary {
        ProcessSummary {
            name: record.name.clone(),
            status: status_word(&record.status, driven),
            exit_code: match record.status {
                Status::Exited(code) => Some(code),
                _ => None,
            },
            cancel_reason: match &record.status {
                Status::Cancelled { reason } => Some(reason.clone()),
                _ => None,
            },
            waiting_until: match record.status {
                Status::Waiting { until } => until,
                _ => None,
            },
            program: Some(record.program.clone()),
            checkpoints: Some(record.checkpoints),
            started_unix_ms: Some(record.started_ms),
            last_checkpoint_unix_ms: Some(record.time_ms),
            steps: Some(record.steps),
            output_bytes: Some(record.output_len),
            messages_received: Some(record.received),
            messages_waiting: waiting,
            grants: Some(record.grants.clone()),
            error: None,
        }
    }

    /// The summary of a process whose record cannot be read.
    pub fn damaged(name: &str, error: String) -> ProcessSummary {
        ProcessSummary {
            name: name.to_string(),
            status: "damaged".to_string(),
            error: Some(error),
            ..ProcessSummary::default()
        }
    }
}

/// JSON text for scripts, one document, pretty-printed, with a newline.
pub fn json(value: &impl Serialize) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(text) => text + "\n",
        // Plain strings and numbers only: this cannot fail, but a listing never panics.
        Err(error) => format!("{{\"error\": {:?}}}\n", error.to_string()),
    }
}
