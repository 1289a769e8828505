//! The arguments several commands share: the program and its limits, the store, and how a
//! durable process is run.

use std::path::PathBuf;

/// Where a program's libraries are, the limits it runs under and the capabilities it is granted.
#[derive(clap::Args)]
pub struct MachineArgs {
    /// A directory to search for libraries (`(a b)` is `DIR/a/b.sld`) and library images; may be
    /// repeated. CHENILLES_LIBRARY_PATH (colon-separated) adds more; the program's own directory
    /// is always searched.
    #[arg(short = 'L', value_name = "DIR")]
    pub library_path: Vec<PathBuf>,
    /// Stop the program after this many procedure calls and loop iterations.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// Stop the program when its live heap exceeds this size: bytes, or with a unit, as 512MiB
    /// or 1.5GiB (powers of 1024), 64K or 1.5G (powers of 1000).
    #[arg(long, value_name = "SIZE", value_parser = super::present::parse_size)]
    pub max_heap: Option<usize>,
    /// Stop the program when more than this many calls are nested.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
    /// Grant the program a capability: `files` (open, test and delete files; `load`),
    /// `environment` (read environment variables) or `peer:NAME` (send to the processes of the
    /// peer NAME: `(send '(NAME process) datum)`). May be repeated or comma-separated. Nothing
    /// is granted by default; a durable process keeps the grants it was started with.
    #[arg(long, value_name = "CAPABILITY", value_delimiter = ',', value_parser = parse_capability)]
    pub grant: Vec<String>,
}

impl MachineArgs {
    pub fn limits(&self) -> chenilles_machine::runtime::Limits {
        chenilles_machine::runtime::Limits {
            max_steps: self.max_steps,
            max_heap: self.max_heap,
            max_depth: self.max_depth,
        }
    }
}

/// The program to run, as a file, and what it runs with.
#[derive(clap::Args)]
pub struct ProgramArgs {
    #[command(flatten)]
    pub machine: MachineArgs,
    /// The program: PROG.scm or PROG.chb, or `-` to read its source from standard input.
    pub program: PathBuf,
    /// Arguments the program sees in (command-line).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(clap::Args, Clone)]
pub struct StoreArgs {
    /// The store [default: .chenilles/store.redb in the current directory].
    #[arg(long, value_name = "PATH", env = "CHENILLES_STORE")]
    pub store: Option<PathBuf>,
    /// When another chenilles-vm holds the store, wait for it instead of failing.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub unlock: super::unlocking::UnlockArgs,
}

#[derive(clap::Args, Clone)]
pub struct DurableArgs {
    /// The longest stretch of pure computation between two checkpoints, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub checkpoint_every: u64,
    /// The most of the process's time periodic checkpoints may take, in percent: a costly
    /// checkpoint (a large heap much changed) comes later than --checkpoint-every, and so does
    /// the one after it, so that durability slows the program by at most this share. 100: never
    /// later.
    #[arg(long, value_name = "PERCENT", default_value_t = chenilles_durable::DEFAULT_CHECKPOINT_SHARE,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub checkpoint_share: u32,
    /// Checkpoint after every N steps (calls, loop iterations and charged work) instead of by time:
    /// the same points in every run (for testing durability).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every_steps: Option<u64>,
    /// Write the same store in every run: records carry no clock readings and `current-jiffy`
    /// stands still; with --checkpoint-every-steps, a program that reads no other clock commits
    /// the same bytes every time (for replaying crash tests).
    #[arg(long, requires = "checkpoint_every_steps")]
    pub reproducible: bool,
    /// After each checkpoint, reload the process from the store and check that it re-serializes
    /// to the same state (slow; for testing durability).
    #[arg(long)]
    pub reload_each_checkpoint: bool,
    /// Keep every checkpoint of a new process in the store, so that `verify --replay` can check
    /// the run (the store grows with the whole history).
    #[arg(long)]
    pub keep_history: bool,
    /// Exit as soon as every process waits for a message, instead of waiting with them (`resume`
    /// goes on later).
    #[arg(long)]
    pub exit_when_waiting: bool,
    /// Hold back what a checkpoint shows the world (its output, the messages it sends, the
    /// effects it journals) until this many of the store's replicas hold it: durability against
    /// the loss of this machine, at the cost of a round trip to the replicas per such checkpoint.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub replicas_required: usize,
}

/// One of the VM's own capabilities (the CLI offers no host functions), or `peer:NAME`: sending
/// to the processes of the peer the store names NAME.
fn parse_capability(text: &str) -> Result<String, String> {
    let known = chenilles_machine::capabilities::SYSTEM_CAPABILITIES;
    if let Some(peer) = text.strip_prefix(chenilles_machine::capabilities::PEER_CAPABILITY_PREFIX) {
        return match chenilles_net::check_peer_name(peer) {
            Ok(()) => Ok(text.to_string()),
            Err(error) => Err(format!("{error}")),
        };
    }
    if known.iter().any(|(name, _)| *name == text) {
        Ok(text.to_string())
    } else {
        let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
        Err(format!("unknown capability `{text}`: the capabilities are {}, and peer:NAME", names.join(", ")))
    }
}
