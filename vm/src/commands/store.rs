//! `chenilles-vm store`: making a store, and the key slots of an encrypted one (`init`,
//! `unlock-methods`, `add-key`, `remove-key`, `passwd`, `rotate`), and its bundle recipient
//! (`recipient`).

use std::path::PathBuf;
use std::process::ExitCode;

use chenilles_store::{Credential, NewSlot, RedbStore, Rotation, SlotKind, StoreError};

use crate::cli::args::StoreArgs;
use crate::cli::store::{Open, open_for_writing, store_path};
use crate::cli::unlocking::{self, KdfArgs, NEW_PASSWORD_VAR, PASSWORD_VAR};
use crate::note;

#[derive(clap::Args)]
pub struct Store {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Make a new, empty store; with --encrypt, one whose every blob, ref and name is encrypted
    /// under a random master key, unlocked by a password (asked twice, or --password-file, or
    /// CHENILLES_PASSWORD).
    Init(Init),
    /// List the ways an encrypted store can be unlocked (its key slots); needs no key.
    UnlockMethods(UnlockMethods),
    /// Add a way of unlocking an encrypted store: a new password (asked twice, or
    /// --new-password-file, or CHENILLES_NEW_PASSWORD), an ssh-agent key (--ssh-agent-key), or
    /// an age recipient (--recipient, --recipient-of). Nothing else is encrypted again.
    AddKey(AddKey),
    /// Remove a key slot of an encrypted store (never its last).
    RemoveKey(RemoveKey),
    /// Change a password: its slot is replaced in one commit (the old password stops working
    /// exactly when the new one starts).
    Passwd(Passwd),
    /// Give an encrypted store a new master key: every blob and ref is encrypted again and every
    /// key slot wrapped again (the same passwords and keys open it; a leaked old master key opens
    /// nothing). Crash-safe: interrupted, the store is as it was, and running it again goes on
    /// from where it stopped.
    Rotate(Rotate),
    /// Print the age recipient that bundles for this encrypted store are sealed to: what another
    /// store's `export --to` takes, so that only this store can import them.
    Recipient(Recipient),
}

#[derive(clap::Args)]
struct Recipient {
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
struct Rotate {
    #[command(flatten)]
    store: StoreArgs,
    /// Drop the key slots the credentials given do not open, instead of refusing to rotate.
    #[arg(long)]
    drop_unusable_slots: bool,
    /// Throw away the copy an interrupted rotation left, and start again.
    #[arg(long, conflicts_with = "abandon")]
    restart: bool,
    /// Only throw away the copy an interrupted rotation left (the store is not touched).
    #[arg(long)]
    abandon: bool,
}

#[derive(clap::Args)]
struct Init {
    #[command(flatten)]
    store: StoreArgs,
    /// Encrypt the store.
    #[arg(long)]
    encrypt: bool,
    #[command(flatten)]
    kdf: KdfArgs,
}

#[derive(clap::Args)]
struct UnlockMethods {
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
struct AddKey {
    #[command(flatten)]
    store: StoreArgs,
    /// The new password, in this file (its first line); else CHENILLES_NEW_PASSWORD, else asked.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ssh_agent_key", "recipient", "recipient_of"])]
    new_password_file: Option<PathBuf>,
    /// A key of the ssh-agent (SSH_AUTH_SOCK): its fingerprint (SHA256:…), comment, public key
    /// line or .pub file; `--ssh-agent-key` alone takes the agent's only Ed25519 key. Only
    /// Ed25519 keys (their signatures are deterministic).
    #[arg(long, value_name = "KEY", num_args = 0..=1, default_missing_value = "", conflicts_with_all = ["recipient", "recipient_of"])]
    ssh_agent_key: Option<String>,
    /// An age recipient: age1… (X25519), a plugin's such as age1yubikey1… (its plugin must be on
    /// PATH), or an OpenSSH public key line.
    #[arg(long, value_name = "RECIPIENT", conflicts_with = "recipient_of")]
    recipient: Option<String>,
    /// The recipient of the age identity in this file (an X25519 identity of age-keygen's).
    #[arg(long, value_name = "FILE")]
    recipient_of: Option<PathBuf>,
    #[command(flatten)]
    kdf: KdfArgs,
}

#[derive(clap::Args)]
struct RemoveKey {
    #[command(flatten)]
    store: StoreArgs,
    /// The slot's number, as `store unlock-methods` lists it.
    slot: u32,
}

#[derive(clap::Args)]
struct Passwd {
    #[command(flatten)]
    store: StoreArgs,
    /// The password slot to change [default: the one whose password unlocked the store].
    #[arg(long, value_name = "N")]
    slot: Option<u32>,
    /// The new password, in this file (its first line); else CHENILLES_NEW_PASSWORD, else asked.
    #[arg(long, value_name = "FILE")]
    new_password_file: Option<PathBuf>,
    #[command(flatten)]
    kdf: KdfArgs,
}

impl Store {
    pub fn execute(self) -> ExitCode {
        match self.action {
            Action::Init(init) => init.execute(),
            Action::UnlockMethods(list) => list.execute(),
            Action::AddKey(add) => add.execute(),
            Action::RemoveKey(remove) => remove.execute(),
            Action::Passwd(passwd) => passwd.execute(),
            Action::Rotate(rotate) => rotate.execute(),
            Action::Recipient(recipient) => recipient.execute(),
        }
    }
}

fn failed(error: StoreError) -> ExitCode {
    note!("error: {error}");
    ExitCode::FAILURE
}

impl Init {
    fn execute(self) -> ExitCode {
        let path = store_path(&self.store);
        if std::fs::symlink_metadata(&path).is_ok() {
            note!("error: {}: a file is already there; nothing was written", path.display());
            return ExitCode::FAILURE;
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(error) = std::fs::create_dir_all(dir)
        {
            note!("error: cannot create {}: {error}", dir.display());
            return ExitCode::FAILURE;
        }
        if !self.encrypt {
            return match RedbStore::open(&path).and_then(RedbStore::close) {
                Ok(()) => {
                    note!("chenilles-vm: made the store {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(error) => failed(error),
            };
        }
        let password = match unlocking::new_password(
            self.store.unlock.password_file.as_deref(),
            PASSWORD_VAR,
            "New password for the store",
        ) {
            Ok(password) => password,
            Err(code) => return code,
        };
        let params = self.kdf.params();
        match RedbStore::create_encrypted(&path, &NewSlot::Password { password, params }).and_then(RedbStore::close) {
            Ok(()) => {
                note!("chenilles-vm: made the encrypted store {}, unlocked by a password ({params})", path.display());
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        }
    }
}

impl Recipient {
    fn execute(self) -> ExitCode {
        let store = match crate::cli::store::open_for_reading(&self.store) {
            Ok(store) => store,
            Err(code) => return code,
        };
        match store.bundle_recipient() {
            Ok(Some(recipient)) => {
                let mut listing = crate::cli::Listing::default();
                listing.line(format_args!("{recipient}"));
                listing.finish(ExitCode::SUCCESS)
            }
            Ok(None) => {
                note!(
                    "error: {} is not encrypted, so it keeps no key for bundles: seal bundles for it to an age \
                     recipient of yours (--to), and import them with --identity",
                    store.path().display()
                );
                ExitCode::FAILURE
            }
            Err(error) => failed(error),
        }
    }
}

impl UnlockMethods {
    fn execute(self) -> ExitCode {
        let path = store_path(&self.store);
        let header = match RedbStore::header(&path) {
            Ok(header) => header,
            Err(error) => return failed(error),
        };
        if !header.is_encrypted() {
            note!("{}: the store is not encrypted: it opens without a key", path.display());
            return ExitCode::SUCCESS;
        }
        let mut listing = crate::cli::Listing::default();
        for slot in &header.slots {
            listing.line(format_args!("{:>4}  {}", slot.id, slot.method));
        }
        listing.finish(ExitCode::SUCCESS)
    }
}

impl AddKey {
    fn execute(self) -> ExitCode {
        let mut store = match open_for_writing(&self.store, Open::Existing) {
            Ok(store) => store,
            Err(code) => return code,
        };
        if !store.is_encrypted() {
            note!("error: {}: the store is not encrypted: it has no key slots", store.path().display());
            return ExitCode::FAILURE;
        }
        let new = match self.new_slot() {
            Ok(new) => new,
            Err(code) => return code,
        };
        match store.add_key_slot(&new) {
            Ok(slot) => {
                note!("chenilles-vm: added key slot {}: {}", slot.id, slot.method);
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        }
    }
}

impl AddKey {
    /// The slot the flags ask for: an ssh-agent key, an age recipient, else a new password.
    fn new_slot(&self) -> Result<NewSlot, ExitCode> {
        if let Some(key) = &self.ssh_agent_key {
            let Credential::SshAgent(socket) = Credential::ssh_agent().map_err(|error| {
                note!("error: --ssh-agent-key: {error}");
                ExitCode::FAILURE
            })?
            else {
                return Err(ExitCode::FAILURE);
            };
            return Ok(NewSlot::SshAgent { socket, key: Some(key.clone()).filter(|key| !key.is_empty()) });
        }
        if let Some(recipient) = &self.recipient {
            return Ok(NewSlot::Recipient(recipient.trim().to_string()));
        }
        if let Some(file) = &self.recipient_of {
            let recipients = chenilles_store::recipients_of_identity_file(file).map_err(|error| {
                note!("error: --recipient-of: {error}");
                ExitCode::FAILURE
            })?;
            return match recipients.as_slice() {
                [recipient] => Ok(NewSlot::Recipient(recipient.clone())),
                [] => {
                    note!(
                        "error: {} holds no identity whose recipient is known (a plugin's: give --recipient)",
                        file.display()
                    );
                    Err(ExitCode::FAILURE)
                }
                _ => {
                    note!(
                        "error: {} holds {} identities: give the one recipient to add with --recipient",
                        file.display(),
                        recipients.len()
                    );
                    Err(ExitCode::FAILURE)
                }
            };
        }
        let password = unlocking::new_password(self.new_password_file.as_deref(), NEW_PASSWORD_VAR, "New password")?;
        Ok(NewSlot::Password { password, params: self.kdf.params() })
    }
}

impl RemoveKey {
    fn execute(self) -> ExitCode {
        let mut store = match open_for_writing(&self.store, Open::Existing) {
            Ok(store) => store,
            Err(code) => return code,
        };
        match store.remove_key_slot(self.slot) {
            Ok(slot) => {
                note!("chenilles-vm: removed key slot {}: {}", slot.id, slot.method);
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        }
    }
}

impl Passwd {
    fn execute(self) -> ExitCode {
        let mut store = match open_for_writing(&self.store, Open::Existing) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let slots = match store.key_slots() {
            Ok(slots) => slots,
            Err(error) => return failed(error),
        };
        if !store.is_encrypted() {
            note!("error: {}: the store is not encrypted: it has no password", store.path().display());
            return ExitCode::FAILURE;
        }
        let Some(id) = self.slot.or_else(|| store.unlocked_slot()) else {
            note!("error: say which password slot to change with --slot N (see `chenilles-vm store unlock-methods`)");
            return ExitCode::FAILURE;
        };
        match slots.iter().find(|slot| slot.id == id) {
            Some(slot) if slot.kind == SlotKind::Password => {}
            Some(slot) => {
                note!("error: key slot {id} is not a password slot: {}", slot.method);
                return ExitCode::FAILURE;
            }
            None => {
                note!("error: the store has no key slot {id}");
                return ExitCode::FAILURE;
            }
        }
        let password =
            match unlocking::new_password(self.new_password_file.as_deref(), NEW_PASSWORD_VAR, "New password") {
                Ok(password) => password,
                Err(code) => return code,
            };
        match store.replace_key_slot(id, &NewSlot::Password { password, params: self.kdf.params() }) {
            Ok(slot) => {
                note!("chenilles-vm: changed the password of key slot {id}; it is key slot {} now", slot.id);
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        }
    }
}

impl Rotate {
    fn execute(self) -> ExitCode {
        let path = store_path(&self.store);
        if self.abandon {
            return match RedbStore::abandon_rotation(&path) {
                Ok(true) => {
                    note!("chenilles-vm: threw away the unfinished rotation of {}", path.display());
                    ExitCode::SUCCESS
                }
                Ok(false) => {
                    note!("chenilles-vm: {} has no unfinished rotation", path.display());
                    ExitCode::SUCCESS
                }
                Err(error) => failed(error),
            };
        }
        let mut unlock = match unlocking::offered(&self.store.unlock) {
            Ok(unlock) => unlock,
            Err(code) => return code,
        };
        if unlock.is_empty()
            && let Some(password) = unlocking::ask(&format!("Password for {}: ", path.display()))
        {
            unlock = unlock.with(Credential::Password(password));
        }
        let options = Rotation { drop_unusable_slots: self.drop_unusable_slots, restart: self.restart };
        let show = unlocking::can_ask();
        let mut on_batch = |done: u64, total: u64| {
            if show {
                eprint!("\rchenilles-vm: rotating: {done} of {total} blobs");
            }
        };
        let rotated = loop {
            match RedbStore::rotate(&path, &unlock, options, &mut on_batch) {
                Err(StoreError::Locked { .. }) if self.store.wait => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                rotated => break rotated,
            }
        };
        if show {
            eprintln!();
        }
        let report = match rotated {
            Ok(report) => report,
            Err(error) => return failed(error),
        };
        let resumed = if report.resumed { " (finishing an interrupted rotation)" } else { "" };
        let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        note!(
            "chenilles-vm: rotated the master key of {}{resumed}; encrypted again: {} ({}), {}",
            path.display(),
            plural(report.blobs_copied, "blob"),
            crate::cli::present::size(report.bytes_copied),
            plural(report.refs, "ref")
        );
        for slot in &report.slots {
            note!("  key slot {} kept: {}", slot.id, slot.method);
        }
        for slot in &report.dropped {
            note!("  key slot {} dropped: {}", slot.id, slot.method);
        }
        ExitCode::SUCCESS
    }
}
