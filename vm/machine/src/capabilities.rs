//! Capabilities: what a process may reach beyond its own computation. A host function is a
//! capability named after itself; the VM's own doors to the world are capabilities too
//! ([`SYSTEM_CAPABILITIES`]): without `files` a process cannot open, test or delete a file (nor
//! `load` one), without `environment` it cannot read environment variables. Nothing is granted by
//! default: `host-call` of a function not granted, or a procedure whose capability was not, is an
//! error naming the capability. The machine checks grants ([`HostAccess`]); who grants them (a
//! program embedding the VM, the command line's `--grant`) is above it.

use std::collections::BTreeMap;
use std::sync::Arc;

use chenilles_reader::Datum;

use crate::throw::Throw;

/// How a host function may be called again after a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// No effect: its result depends only on its arguments; not journaled.
    Pure,
    /// An effect: checkpointed before and after, journaled; repeated only if in flight at a crash.
    Effect,
    /// An effect that the host makes idempotent with [`HostCall::key`].
    Idempotent,
}

impl HostKind {
    /// Its name in Scheme (`%host-kind`).
    pub fn word(self) -> &'static str {
        match self {
            HostKind::Pure => "pure",
            HostKind::Effect => "effect",
            HostKind::Idempotent => "idempotent",
        }
    }
}

/// The capabilities the VM itself defines, with what each opens. A host function is a capability
/// named after itself; hosts should not register functions under these names.
pub const SYSTEM_CAPABILITIES: &[(&str, &str)] = &[
    (
        FILES,
        "the file system: open-input-file, open-output-file and their binary forms, file-exists?, \
         delete-file, and what is built on them (load, with-input-from-file, call-with-output-file, …)",
    ),
    (ENVIRONMENT, "the host's environment variables: get-environment-variable, get-environment-variables"),
];

/// What the capability to send to a peer starts with: `peer:bob` lets a process send to the
/// processes of the peer its store names `bob`.
pub const PEER_CAPABILITY_PREFIX: &str = "peer:";

/// The capability to send to the processes of peer `peer`.
pub fn peer_capability(peer: &str) -> String {
    format!("{PEER_CAPABILITY_PREFIX}{peer}")
}

/// The capability of the file system (see [`SYSTEM_CAPABILITIES`]).
pub const FILES: &str = "files";
/// The capability of the environment variables (see [`SYSTEM_CAPABILITIES`]).
pub const ENVIRONMENT: &str = "environment";

/// One call of a host function.
pub struct HostCall<'a> {
    /// The calling process.
    pub process: &'a str,
    /// The arguments, as data.
    pub args: &'a [Datum],
    /// `PROCESS/N`: this is the process's Nth effect. A call made again after a crash has the same key.
    pub key: &'a str,
}

/// Why a host function refused or failed a call: raised in the calling process as a Scheme error
/// whose message is `NAME: MESSAGE`, which the process may catch. An effectful call that fails is
/// journaled as failed, as a result would be: it is not made again on resume.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HostError {
    /// What went wrong, for the program and for people.
    pub message: String,
}

impl HostError {
    /// A host error saying `message`.
    pub fn new(message: impl Into<String>) -> HostError {
        HostError { message: message.into() }
    }

    /// A host error from any error of the host's (an I/O error, a client library's), its
    /// `Display` as the message.
    pub fn from_error(error: &dyn std::error::Error) -> HostError {
        HostError::new(error.to_string())
    }
}

impl From<String> for HostError {
    fn from(message: String) -> HostError {
        HostError::new(message)
    }
}

impl From<&str> for HostError {
    fn from(message: &str) -> HostError {
        HostError::new(message)
    }
}

/// A host function: its arguments in, a datum or a [`HostError`] (raised as a Scheme error) out.
/// `Send + Sync`, so that a host and its processes can move to another thread.
pub type HostFn = dyn Fn(&HostCall<'_>) -> Result<Datum, HostError> + Send + Sync;

/// A function the host offers, and how a process calls it.
#[derive(Clone)]
pub struct HostFunction {
    /// Whether its calls are effects (journaled) or queries.
    pub kind: HostKind,
    /// The function.
    pub call: Arc<HostFn>,
}

/// What a process may call: the names it was granted, and the functions the host offers.
#[derive(Clone, Default)]
pub struct HostAccess {
    /// The capabilities granted (host function names and the VM's own, such as `files`).
    pub grants: Vec<String>,
    /// The host functions on offer, by name.
    pub functions: Arc<BTreeMap<String, HostFunction>>,
}

impl HostAccess {
    /// Whether `capability` was granted.
    pub fn has(&self, capability: &str) -> bool {
        self.grants.iter().any(|g| g == capability)
    }

    /// Fails, naming the capability and what was granted, unless `capability` was granted.
    /// `who` is the procedure that needs it.
    pub fn require(&self, who: &str, capability: &str) -> Result<(), Throw> {
        if self.has(capability) {
            return Ok(());
        }
        let granted = if self.grants.is_empty() { "none".to_string() } else { self.grants.join(", ") };
        Err(Throw::error(format!("{who}: capability {capability}{NOT_GRANTED}{granted})"), vec![]))
    }
}

/// What an error message says after the capability's name when a process lacks it.
const NOT_GRANTED: &str = " was not granted to this process (granted: ";

/// The capability an error message (as [`HostAccess::require`] words it) says was missing, so
/// that a host can say how to grant it.
pub fn missing_capability(message: &str) -> Option<&str> {
    let (_, after) = message.split_once(": capability ")?;
    let (capability, _) = after.split_once(NOT_GRANTED)?;
    Some(capability)
}
