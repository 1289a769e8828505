//! How a command unlocks an encrypted store: the credentials its flags and environment offer,
//! a prompt on the terminal when they offer none, and the key of a store this command has
//! opened already (a host taking its store back after a wait asks nobody again). Also where a
//! new password comes from, for `store init --encrypt`, `store add-key` and `store passwd`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use chenilles_store::{Credential, KdfParams, StoreKey, Unlock};
use zeroize::Zeroizing;

use crate::note;

/// The environment variable holding a password for scripts: weaker than a file (other
/// processes of the same user may read a process's environment), documented as such.
pub const PASSWORD_VAR: &str = "CHENILLES_PASSWORD";
/// The environment variable holding the new password of `store add-key` and `store passwd`.
pub const NEW_PASSWORD_VAR: &str = "CHENILLES_NEW_PASSWORD";

/// The heading the unlocking flags are listed under in `--help`.
const UNLOCKING: &str = "Unlocking an encrypted store";

/// The flags that unlock an encrypted store, which every command that opens one takes.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct UnlockArgs {
    /// The password, in this file (its first line). Without a flag, CHENILLES_PASSWORD if set
    /// (weaker: the user's other processes may read it), else asked on the terminal.
    #[arg(long, value_name = "FILE", help_heading = UNLOCKING)]
    pub password_file: Option<PathBuf>,
    /// Unlock with an Ed25519 key of the ssh-agent (SSH_AUTH_SOCK).
    #[arg(long, help_heading = UNLOCKING)]
    pub ssh_agent: bool,
    /// Unlock with the age identities in this file (age-keygen's, age-plugin-yubikey's, an
    /// OpenSSH key: its passphrase, if it has one, is asked on the terminal); `import` opens
    /// sealed bundles with them too.
    #[arg(long, value_name = "FILE", help_heading = UNLOCKING)]
    pub identity: Option<PathBuf>,
}

/// The key of the store this command opened last, to open it again without asking.
static KNOWN_KEY: Mutex<Option<StoreKey>> = Mutex::new(None);

/// Remembers the key of a store this command opened.
pub fn remember(key: Option<StoreKey>) {
    if let (Some(key), Ok(mut known)) = (key, KNOWN_KEY.lock()) {
        *known = Some(key);
    }
}

/// The key of the store this command opened last, if it opened an encrypted one.
pub fn known() -> Unlock {
    match KNOWN_KEY.lock().ok().and_then(|known| known.clone()) {
        Some(key) => Unlock::key(key),
        None => Unlock::none(),
    }
}

/// Reads a password from `path`: its first line, without the line ending. An empty one is
/// refused.
fn password_from_file(path: &Path) -> Result<Zeroizing<String>, ExitCode> {
    let text = match std::fs::read(path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(error) => {
            note!("error: cannot read the password file {}: {error}", path.display());
            return Err(ExitCode::FAILURE);
        }
    };
    let line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match std::str::from_utf8(line) {
        Ok("") => {
            note!("error: the password file {} holds no password on its first line", path.display());
            Err(ExitCode::FAILURE)
        }
        Ok(password) => Ok(Zeroizing::new(password.to_string())),
        Err(_) => {
            note!("error: the password file {} is not UTF-8 text", path.display());
            Err(ExitCode::FAILURE)
        }
    }
}

/// What the flags and the environment offer, and the key of a store opened before.
pub fn offered(args: &UnlockArgs) -> Result<Unlock, ExitCode> {
    let mut unlock = known();
    if args.ssh_agent {
        match Credential::ssh_agent() {
            Ok(agent) => unlock = unlock.with(agent),
            Err(error) => {
                note!("error: --ssh-agent: {error}");
                return Err(ExitCode::FAILURE);
            }
        }
    }
    if let Some(path) = &args.identity {
        unlock = unlock.with(identity_file(path)?);
    }
    if let Some(path) = &args.password_file {
        unlock = unlock.with(Credential::Password(password_from_file(path)?));
    } else if let Some(password) = std::env::var_os(PASSWORD_VAR) {
        match password.into_string() {
            Ok(password) if !password.is_empty() => {
                unlock = unlock.with(Credential::Password(Zeroizing::new(password)));
            }
            _ => {
                note!("error: {PASSWORD_VAR} is set but holds no password (or not UTF-8)");
                return Err(ExitCode::FAILURE);
            }
        }
    }
    Ok(unlock)
}

/// The identities of `--identity FILE` this command read already, so that a passphrase is asked
/// once.
static IDENTITIES: Mutex<Option<(PathBuf, Credential)>> = Mutex::new(None);

/// The identities of `--identity FILE`; the passphrase of a protected ssh key is asked on the
/// terminal, once per command.
pub fn identity_file(path: &Path) -> Result<Credential, ExitCode> {
    if let Ok(read) = IDENTITIES.lock()
        && let Some((read_from, credential)) = read.as_ref()
        && read_from == path
    {
        return Ok(credential.clone());
    }
    let ask = |key: &Path| ask(&format!("Passphrase for the ssh key {}: ", key.display()));
    let credential = Credential::identity_file_asking(path, &ask).map_err(|error| {
        note!("error: --identity: {error}");
        ExitCode::FAILURE
    })?;
    if let Ok(mut read) = IDENTITIES.lock() {
        *read = Some((path.to_path_buf(), credential.clone()));
    }
    Ok(credential)
}

/// Whether a password can be asked for: a person is at a terminal.
pub fn can_ask() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks for a password on the terminal, without echo. `None`: no terminal, or an empty answer.
pub fn ask(prompt: &str) -> Option<Zeroizing<String>> {
    if !can_ask() {
        return None;
    }
    match rpassword::prompt_password(prompt) {
        Ok(password) if !password.is_empty() => Some(Zeroizing::new(password)),
        Ok(_) => None,
        Err(error) => {
            note!("error: cannot read a password from the terminal: {error}");
            None
        }
    }
}

/// A new password, from `file`, or from `variable`, or asked twice on the terminal.
pub fn new_password(file: Option<&Path>, variable: &str, what: &str) -> Result<Zeroizing<String>, ExitCode> {
    if let Some(file) = file {
        return password_from_file(file);
    }
    if let Some(password) = std::env::var_os(variable) {
        return match password.into_string() {
            Ok(password) if !password.is_empty() => Ok(Zeroizing::new(password)),
            _ => {
                note!("error: {variable} is set but holds no password (or not UTF-8)");
                Err(ExitCode::FAILURE)
            }
        };
    }
    if !can_ask() {
        note!("error: no terminal to ask for {what} on: give it in a file (--new-password-file) or in {variable}");
        return Err(ExitCode::FAILURE);
    }
    let Some(first) = ask(&format!("{what}: ")) else {
        note!("error: no password given");
        return Err(ExitCode::FAILURE);
    };
    let Some(again) = ask(&format!("{what}, again: ")) else {
        note!("error: no password given");
        return Err(ExitCode::FAILURE);
    };
    if *first != *again {
        note!("error: the two passwords differ; nothing was changed");
        return Err(ExitCode::FAILURE);
    }
    Ok(first)
}

/// The argon2id parameters of a new password slot.
#[derive(clap::Args, Clone, Debug)]
pub struct KdfArgs {
    /// The memory argon2id takes to check the password: a size such as 64MiB. The default is
    /// RFC 9106's second recommendation (64 MiB, 3 passes, 4 lanes).
    #[arg(long, value_name = "SIZE", value_parser = super::present::parse_size)]
    pub kdf_memory: Option<usize>,
    /// The passes argon2id makes over its memory.
    #[arg(long, value_name = "N")]
    pub kdf_passes: Option<u32>,
    /// The lanes argon2id is defined with.
    #[arg(long, value_name = "N")]
    pub kdf_lanes: Option<u32>,
}

impl KdfArgs {
    pub fn params(&self) -> KdfParams {
        let default = KdfParams::default();
        KdfParams {
            memory_kib: self
                .kdf_memory
                .map_or(default.memory_kib, |bytes| u32::try_from(bytes / 1024).unwrap_or(u32::MAX)),
            passes: self.kdf_passes.unwrap_or(default.passes),
            lanes: self.kdf_lanes.unwrap_or(default.lanes),
        }
    }
}
