//! One module per subcommand of `chenilles-vm`, each with its arguments and its `execute`.

pub mod bundle;
pub mod cancel;
pub mod completions;
pub mod gc;
pub mod inspect;
pub mod node;
pub mod output;
pub mod peer;
pub mod ps;
pub mod repl;
pub mod replica;
pub mod restore;
pub mod resume;
pub mod rm;
pub mod run;
pub mod send;
pub mod serve;
pub mod start;
pub mod store;
pub mod verify;
