//! The keys of an encrypted store: key slots, each wrapping the one master key for one way of
//! unlocking (a password, an ssh-agent key, an age recipient), and the credentials a person
//! offers to open one. The slots' bytes are drawn in `spec/store.md` (*Key slots*).
//!
//! A slot holds the master key sealed under a key-encryption key (KEK) that only its unlocking
//! method gives back: argon2id of the password, or a key derived from an ssh-agent's Ed25519
//! signature of the slot's challenge; an age slot holds an age file of the master key for its
//! recipient. So a password changes, or a device is added, by writing one slot: nothing else
//! in the store is encrypted again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chacha20poly1305::KeyInit;
use chacha20poly1305::XChaCha20Poly1305;
use zeroize::Zeroizing;

use crate::sealing::{self, MasterKey, SealFailure};

mod agent;
pub(crate) mod recipient;

/// The argon2id parameters of a password slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub passes: u32,
    /// Lanes (the degree of parallelism the hash is defined with).
    pub lanes: u32,
}

impl Default for KdfParams {
    /// RFC 9106's second recommended option (section 4): argon2id, 64 MiB, 3 passes, 4 lanes.
    fn default() -> KdfParams {
        KdfParams { memory_kib: 64 * 1024, passes: 3, lanes: 4 }
    }
}

impl std::fmt::Display for KdfParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let memory = if self.memory_kib.is_multiple_of(1024) {
            format!("{} MiB", self.memory_kib / 1024)
        } else {
            format!("{} KiB", self.memory_kib)
        };
        let passes = if self.passes == 1 { "pass" } else { "passes" };
        let lanes = if self.lanes == 1 { "lane" } else { "lanes" };
        write!(f, "argon2id, {memory}, {} {passes}, {} {lanes}", self.passes, self.lanes)
    }
}

/// What a person offers to unlock an encrypted store. Secrets are zeroed when dropped and never
/// printed.
#[derive(Clone)]
pub enum Credential {
    /// A password, for the password slots.
    Password(Zeroizing<String>),
    /// The Ed25519 keys of the ssh-agent listening at this socket, for the ssh-agent slots.
    SshAgent(PathBuf),
    /// The age identities of an identity file, for the age recipient slots.
    Identities(Arc<IdentityFile>),
}

/// The age identities read from one file (X25519 keys, plugin identities such as
/// `age-plugin-yubikey`'s, unencrypted OpenSSH keys). Never printed.
pub struct IdentityFile {
    path: PathBuf,
    identities: recipient::Identities,
}

impl IdentityFile {
    /// The identities read.
    pub(crate) fn identities(&self) -> &recipient::Identities {
        &self.identities
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Password(_) => f.write_str("Password(…)"),
            Credential::SshAgent(socket) => write!(f, "SshAgent({})", socket.display()),
            Credential::Identities(file) => write!(f, "Identities({})", file.path.display()),
        }
    }
}

/// A credential could not be had: no ssh-agent, an unreadable identity file, a key that cannot
/// make a slot. The message says why, for people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CredentialError(String);

impl Credential {
    /// What the credential is, for messages: never its secret.
    pub fn describe(&self) -> String {
        match self {
            Credential::Password(_) => "the password given".to_string(),
            Credential::SshAgent(_) => "the ssh-agent's keys".to_string(),
            Credential::Identities(file) => format!("the identities of {}", file.path.display()),
        }
    }

    /// The ssh-agent that `SSH_AUTH_SOCK` names.
    pub fn ssh_agent() -> Result<Credential, CredentialError> {
        agent::socket_from_env().map(Credential::SshAgent).map_err(|e| CredentialError(e.to_string()))
    }

    /// The age identities of the file at `path`. A passphrase-protected ssh key is refused.
    pub fn identity_file(path: &Path) -> Result<Credential, CredentialError> {
        Credential::read_identity_file(path, None)
    }

    /// The age identities of the file at `path`; if it is a passphrase-protected ssh key, `ask`
    /// gives its passphrase (it is asked again after a wrong one, three times in all; `None`
    /// refuses the key). The key is decrypted once, here.
    pub fn identity_file_asking(
        path: &Path,
        ask: &dyn Fn(&Path) -> Option<Zeroizing<String>>,
    ) -> Result<Credential, CredentialError> {
        Credential::read_identity_file(path, Some(ask))
    }

    fn read_identity_file(
        path: &Path,
        ask: Option<recipient::AskPassphrase<'_>>,
    ) -> Result<Credential, CredentialError> {
        let identities = recipient::read_identity_file(path, ask).map_err(|e| CredentialError(e.to_string()))?;
        Ok(Credential::Identities(Arc::new(IdentityFile { path: path.to_path_buf(), identities })))
    }
}

/// The identities of the identity files among `credentials`.
pub(crate) fn identity_files(credentials: &[Credential]) -> Vec<&recipient::Identities> {
    credentials
        .iter()
        .filter_map(|credential| match credential {
            Credential::Identities(file) => Some(file.identities()),
            _ => None,
        })
        .collect()
}

/// The age recipients of the identities in the file at `path` (to make a slot that the file
/// unlocks); plugin identities are left out (only their plugin knows their recipient).
pub fn recipients_of_identity_file(path: &Path) -> Result<Vec<String>, CredentialError> {
    recipient::recipients_of_file(path).map_err(|e| CredentialError(e.to_string()))
}

/// A new way of unlocking a store, to be added as a slot.
#[derive(Clone)]
pub enum NewSlot {
    /// A password, stretched by argon2id with `params`.
    Password {
        /// The password.
        password: Zeroizing<String>,
        /// The argon2id parameters.
        params: KdfParams,
    },
    /// An Ed25519 key of the ssh-agent at `socket`: `key` names it (a fingerprint `SHA256:…`,
    /// its comment, an OpenSSH public key line or the path of its `.pub` file), or `None` for
    /// the agent's only Ed25519 key.
    SshAgent {
        /// The agent's socket.
        socket: PathBuf,
        /// Which key.
        key: Option<String>,
    },
    /// An age recipient: `age1…` (X25519), a plugin's (`age1yubikey1…`, through the plugin on
    /// `PATH`), or an OpenSSH public key (`ssh-ed25519 …`).
    Recipient(String),
}

impl std::fmt::Debug for NewSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NewSlot::Password { params, .. } => write!(f, "NewSlot::Password({params})"),
            NewSlot::SshAgent { key, .. } => write!(f, "NewSlot::SshAgent({key:?})"),
            NewSlot::Recipient(recipient) => write!(f, "NewSlot::Recipient({recipient})"),
        }
    }
}

impl NewSlot {
    /// A password slot with the default parameters ([`KdfParams::default`]).
    pub fn password(password: Zeroizing<String>) -> NewSlot {
        NewSlot::Password { password, params: KdfParams::default() }
    }
}

/// What one key slot says of itself, without its secret: what `store unlock-methods` lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotInfo {
    /// The slot's number, unique in its store.
    pub id: u32,
    /// What kind of slot it is.
    pub kind: SlotKind,
    /// Its unlocking method, for people ("password (argon2id, 64 MiB, 3 passes, 4 lanes)").
    pub method: String,
}

/// The kinds of key slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotKind {
    /// A password (argon2id).
    Password,
    /// An Ed25519 key of an ssh-agent.
    SshAgent,
    /// An age recipient.
    Recipient,
    /// A slot this build cannot read (damaged, or of a kind it does not know).
    Unreadable,
}

impl SlotInfo {
    /// The description of a slot that cannot be read, with why.
    pub(crate) fn unreadable(id: u32, error: impl std::fmt::Display) -> SlotInfo {
        SlotInfo { id, kind: SlotKind::Unreadable, method: format!("unreadable ({error})") }
    }
}

/// How a slot unlocks, with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Method {
    Password {
        params: KdfParams,
        salt: [u8; SALT_LEN],
    },
    /// The KEK derives from the agent's signature of the challenge (with the store and slot).
    SshAgent {
        public: [u8; 32],
        challenge: [u8; CHALLENGE_LEN],
    },
    /// The wrapped key is an age file for the recipient.
    Recipient {
        recipient: String,
    },
}

const SALT_LEN: usize = 16;
const CHALLENGE_LEN: usize = 32;
const KIND_PASSWORD: u8 = 1;
const KIND_SSH_AGENT: u8 = 2;
const KIND_RECIPIENT: u8 = 3;
const SLOT_DOMAIN: &[u8] = b"chenilles slot\0";
/// What an ssh-agent slot asks the agent to sign, before the store id, slot number and challenge.
const AGENT_SIGNED_DOMAIN: &[u8] = b"chenilles-store ssh-agent slot\0";
/// The blake3 context that turns the agent's signature into the slot's KEK.
const AGENT_KEK_CONTEXT: &str = "chenilles-store 2026-12 ssh-agent slot";
/// The longest recipient a slot holds (a plugin's may be long; an RSA key's is about 700 bytes).
const MOST_RECIPIENT_LEN: u32 = 16 * 1024;

/// A key slot as stored: its method and the master key it wraps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeySlot {
    method: Method,
    wrapped: Vec<u8>,
}

/// Why a slot could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SlotError {
    #[error("{0}")]
    Seal(#[from] SealFailure),
    #[error("the argon2id parameters are refused: {0}")]
    Kdf(String),
    #[error("key slot {id} is malformed: {cause}")]
    Malformed { id: u32, cause: String },
    #[error("{0}")]
    Agent(#[from] agent::AgentError),
    #[error("{0}")]
    Recipient(#[from] recipient::RecipientError),
}

impl KeySlot {
    /// A new slot of the store `store_id`, numbered `id`, wrapping `master` for `new`.
    pub(crate) fn new(new: &NewSlot, master: &MasterKey, store_id: &[u8; 16], id: u32) -> Result<KeySlot, SlotError> {
        match new {
            NewSlot::Password { password, params } => {
                let mut salt = [0u8; SALT_LEN];
                getrandom::fill(&mut salt).map_err(SealFailure::NoRandomness)?;
                let method = Method::Password { params: *params, salt };
                let kek = password_kek(password, params, &salt)?;
                let header = encode_method(&method);
                let wrapped =
                    sealing::seal(&kek, &[SLOT_DOMAIN, store_id, &id.to_be_bytes(), &header], master.bytes())?;
                Ok(KeySlot { method, wrapped })
            }
            NewSlot::SshAgent { socket, key } => {
                let chosen = agent::find_key(&agent::list_keys(socket)?, key.as_deref())?;
                let mut challenge = [0u8; CHALLENGE_LEN];
                getrandom::fill(&mut challenge).map_err(SealFailure::NoRandomness)?;
                let method = Method::SshAgent { public: chosen.public, challenge };
                let kek = agent_kek(socket, &chosen.public, &challenge, store_id, id)?;
                let header = encode_method(&method);
                let wrapped =
                    sealing::seal(&kek, &[SLOT_DOMAIN, store_id, &id.to_be_bytes(), &header], master.bytes())?;
                Ok(KeySlot { method, wrapped })
            }
            NewSlot::Recipient(text) => {
                let parsed = recipient::parse_recipient(text)?;
                let wrapped = recipient::wrap(&parsed, &age_payload(master, store_id, id))?;
                Ok(KeySlot { method: Method::Recipient { recipient: parsed.text().to_string() }, wrapped })
            }
        }
    }

    /// The master key, if `credential` is this slot's; `Ok(None)` when it is not (another
    /// password, another kind of slot).
    pub(crate) fn unwrap(
        &self,
        credential: &Credential,
        store_id: &[u8; 16],
        id: u32,
    ) -> Result<Option<MasterKey>, SlotError> {
        match (&self.method, credential) {
            (Method::Password { params, salt }, Credential::Password(password)) => {
                let kek = password_kek(password, params, salt)?;
                let header = encode_method(&self.method);
                Ok(sealing::open(&kek, &[SLOT_DOMAIN, store_id, &id.to_be_bytes(), &header], &self.wrapped)
                    .ok()
                    .map(Zeroizing::new)
                    .and_then(|bytes| MasterKey::from_bytes(&bytes)))
            }
            (Method::SshAgent { public, challenge }, Credential::SshAgent(socket)) => {
                // Not this agent's key: not this slot (the agent is not asked to sign).
                if !agent::list_keys(socket)?.ed25519.iter().any(|key| key.public == *public) {
                    return Ok(None);
                }
                let kek = agent_kek(socket, public, challenge, store_id, id)?;
                let header = encode_method(&self.method);
                Ok(sealing::open(&kek, &[SLOT_DOMAIN, store_id, &id.to_be_bytes(), &header], &self.wrapped)
                    .ok()
                    .map(Zeroizing::new)
                    .and_then(|bytes| MasterKey::from_bytes(&bytes)))
            }
            (Method::Recipient { .. }, Credential::Identities(file)) => {
                let Some(payload) = recipient::unwrap(&file.identities, &self.wrapped)? else {
                    return Ok(None);
                };
                // The age file must be this slot's, of this store: not one moved from elsewhere.
                let expected_tail = [&store_id[..], &id.to_be_bytes()].concat();
                if payload.len() != 32 + expected_tail.len() || payload[32..] != expected_tail[..] {
                    return Ok(None);
                }
                Ok(MasterKey::from_bytes(&payload[..32]))
            }
            _ => Ok(None),
        }
    }

    /// The same slot, wrapping `new_master` instead (for a new master key: `store rotate`), if
    /// one of `credentials` opens this slot; `Ok(None)` when none does.
    pub(crate) fn rewrap(
        &self,
        credentials: &[Credential],
        store_id: &[u8; 16],
        id: u32,
        new_master: &MasterKey,
    ) -> Result<Option<KeySlot>, SlotError> {
        // An age slot needs no secret to be made again: its recipient is public.
        if let Method::Recipient { recipient } = &self.method {
            return KeySlot::new(&NewSlot::Recipient(recipient.clone()), new_master, store_id, id).map(Some);
        }
        for credential in credentials {
            if self.unwrap(credential, store_id, id)?.is_none() {
                continue;
            }
            let new = match (&self.method, credential) {
                (Method::Password { params, .. }, Credential::Password(password)) => {
                    NewSlot::Password { password: password.clone(), params: *params }
                }
                (Method::SshAgent { public, .. }, Credential::SshAgent(socket)) => {
                    NewSlot::SshAgent { socket: socket.clone(), key: Some(agent::fingerprint(public)) }
                }
                _ => continue,
            };
            return KeySlot::new(&new, new_master, store_id, id).map(Some);
        }
        Ok(None)
    }

    /// What the slot says of itself.
    pub(crate) fn info(&self, id: u32) -> SlotInfo {
        let (kind, method) = match &self.method {
            Method::Password { params, .. } => (SlotKind::Password, format!("password ({params})")),
            Method::SshAgent { public, .. } => {
                (SlotKind::SshAgent, format!("ssh-agent key {}", agent::fingerprint(public)))
            }
            Method::Recipient { recipient } => (SlotKind::Recipient, format!("age recipient {recipient}")),
        };
        SlotInfo { id, kind, method }
    }

    /// The slot's bytes (see `spec/store.md`, *Key slots*).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut bytes = encode_method(&self.method);
        bytes.extend_from_slice(&(self.wrapped.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&self.wrapped);
        bytes
    }

    /// The slot numbered `id` held in `bytes`.
    pub(crate) fn decode(id: u32, bytes: &[u8]) -> Result<KeySlot, SlotError> {
        let malformed = |cause: &str| SlotError::Malformed { id, cause: cause.to_string() };
        let mut reader = Reader(bytes);
        let method = match reader.byte().ok_or_else(|| malformed("it is empty"))? {
            KIND_PASSWORD => {
                let mut numbers = [0u32; 3];
                for number in &mut numbers {
                    *number = reader.u32().ok_or_else(|| malformed("its argon2id parameters are cut short"))?;
                }
                let [memory_kib, passes, lanes] = numbers;
                let salt = reader.array::<SALT_LEN>().ok_or_else(|| malformed("its salt is cut short"))?;
                Method::Password { params: KdfParams { memory_kib, passes, lanes }, salt }
            }
            KIND_SSH_AGENT => {
                let public = reader.array::<32>().ok_or_else(|| malformed("its public key is cut short"))?;
                let challenge =
                    reader.array::<CHALLENGE_LEN>().ok_or_else(|| malformed("its challenge is cut short"))?;
                Method::SshAgent { public, challenge }
            }
            KIND_RECIPIENT => {
                let len = reader.u32().ok_or_else(|| malformed("its recipient's length is cut short"))?;
                if len > MOST_RECIPIENT_LEN {
                    return Err(malformed(&format!("its recipient is {len} bytes long")));
                }
                let text = reader.take(len as usize).ok_or_else(|| malformed("its recipient is cut short"))?;
                let recipient = std::str::from_utf8(text).map_err(|_| malformed("its recipient is not UTF-8"))?;
                Method::Recipient { recipient: recipient.to_string() }
            }
            other => return Err(malformed(&format!("its kind {other} is unknown to this build"))),
        };
        let len = reader.u32().ok_or_else(|| malformed("its wrapped key's length is cut short"))?;
        let wrapped = reader.take(len as usize).ok_or_else(|| malformed("its wrapped key is cut short"))?.to_vec();
        if !reader.0.is_empty() {
            return Err(malformed(&format!("{} bytes follow its wrapped key", reader.0.len())));
        }
        Ok(KeySlot { method, wrapped })
    }
}

/// The bytes of a slot before its wrapped key: its kind and parameters, bound into the wrapping
/// as associated data (so that lowering a slot's argon2id cost in the file makes it unusable).
fn encode_method(method: &Method) -> Vec<u8> {
    let mut bytes = Vec::new();
    match method {
        Method::Password { params, salt } => {
            bytes.push(KIND_PASSWORD);
            for number in [params.memory_kib, params.passes, params.lanes] {
                bytes.extend_from_slice(&number.to_le_bytes());
            }
            bytes.extend_from_slice(salt);
        }
        Method::SshAgent { public, challenge } => {
            bytes.push(KIND_SSH_AGENT);
            bytes.extend_from_slice(public);
            bytes.extend_from_slice(challenge);
        }
        Method::Recipient { recipient } => {
            bytes.push(KIND_RECIPIENT);
            bytes.extend_from_slice(&(recipient.len() as u32).to_le_bytes());
            bytes.extend_from_slice(recipient.as_bytes());
        }
    }
    bytes
}

/// The cipher an ssh-agent slot's KEK keys: derived from the agent's Ed25519 signature (which is
/// deterministic: the same key signs the same message the same way, every time) of the slot's
/// challenge, bound to the store and the slot.
fn agent_kek(
    socket: &Path,
    public: &[u8; 32],
    challenge: &[u8; CHALLENGE_LEN],
    store_id: &[u8; 16],
    id: u32,
) -> Result<XChaCha20Poly1305, SlotError> {
    let message = [AGENT_SIGNED_DOMAIN, store_id, &id.to_be_bytes(), challenge].concat();
    let signature = agent::sign(socket, public, &message)?;
    let kek = Zeroizing::new(blake3::derive_key(AGENT_KEK_CONTEXT, signature.as_ref()));
    Ok(XChaCha20Poly1305::new(kek.as_ref().into()))
}

/// What an age slot's file holds: the master key, then the store's id and the slot's number
/// (checked when it is opened, so that a slot copied from another store or slot is refused).
fn age_payload(master: &MasterKey, store_id: &[u8; 16], id: u32) -> Zeroizing<Vec<u8>> {
    Zeroizing::new([&master.bytes()[..], store_id, &id.to_be_bytes()].concat())
}

/// The cipher a password's argon2id hash keys.
fn password_kek(password: &str, params: &KdfParams, salt: &[u8]) -> Result<XChaCha20Poly1305, SlotError> {
    let argon_params = argon2::Params::new(params.memory_kib, params.passes, params.lanes, Some(32))
        .map_err(|e| SlotError::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, argon_params);
    let mut kek = Zeroizing::new([0u8; 32]);
    argon.hash_password_into(password.as_bytes(), salt, kek.as_mut()).map_err(|e| SlotError::Kdf(e.to_string()))?;
    Ok(XChaCha20Poly1305::new(kek.as_ref().into()))
}

/// Reads a slot's fields from the front of its bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.array::<4>().map(u32::from_le_bytes)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|b| <[u8; N]>::try_from(b).ok())
    }
}

/// The credentials a command offers to open an encrypted store, and the key of a store it has
/// opened before (to take it back after a wait without asking again).
#[derive(Clone, Debug, Default)]
pub struct Unlock {
    pub(crate) credentials: Vec<Credential>,
    pub(crate) known: Option<StoreKey>,
}

impl Unlock {
    /// Nothing: opens plain stores only; an encrypted one is [`crate::StoreError::KeyNeeded`].
    pub fn none() -> Unlock {
        Unlock::default()
    }

    /// Offers `credential` too.
    pub fn with(mut self, credential: Credential) -> Unlock {
        self.credentials.push(credential);
        self
    }

    /// Offers a password.
    pub fn password(password: Zeroizing<String>) -> Unlock {
        Unlock::none().with(Credential::Password(password))
    }

    /// Offers the key of a store opened before (see [`crate::RedbStore::key`]).
    pub fn key(key: StoreKey) -> Unlock {
        Unlock { credentials: Vec::new(), known: Some(key) }
    }

    /// Whether anything is offered.
    pub fn is_empty(&self) -> bool {
        self.credentials.is_empty() && self.known.is_none()
    }
}

/// The master key of one encrypted store, as an open handle holds it: what opens that store
/// again without its credentials. Zeroed when dropped; never printed.
#[derive(Clone, Debug)]
pub struct StoreKey {
    pub(crate) master: MasterKey,
    pub(crate) store_id: [u8; 16],
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> KdfParams {
        KdfParams { memory_kib: 64, passes: 1, lanes: 1 }
    }

    fn password(text: &str) -> Zeroizing<String> {
        Zeroizing::new(text.to_string())
    }

    #[test]
    fn a_password_slot_gives_back_its_master_key_and_no_other() {
        let master = MasterKey::generate().unwrap();
        let store_id = [3; 16];
        let new = NewSlot::Password { password: password("correct horse"), params: quick() };
        let slot = KeySlot::new(&new, &master, &store_id, 1).unwrap();
        let decoded = KeySlot::decode(1, &slot.encode()).unwrap();
        assert_eq!(decoded, slot);
        let opened = decoded.unwrap(&Credential::Password(password("correct horse")), &store_id, 1).unwrap();
        assert_eq!(opened.map(|k| *k.bytes()), Some(*master.bytes()));
        assert!(decoded.unwrap(&Credential::Password(password("wrong")), &store_id, 1).unwrap().is_none());
        assert!(decoded.unwrap(&Credential::Password(password("correct horse")), &store_id, 2).unwrap().is_none());
        assert!(decoded.unwrap(&Credential::Password(password("correct horse")), &[4; 16], 1).unwrap().is_none());
    }

    #[test]
    fn lowering_a_slots_cost_in_the_file_makes_it_useless() {
        let master = MasterKey::generate().unwrap();
        let new = NewSlot::Password { password: password("pw"), params: KdfParams { memory_kib: 128, ..quick() } };
        let mut bytes = KeySlot::new(&new, &master, &[0; 16], 1).unwrap().encode();
        bytes[1..5].copy_from_slice(&64u32.to_le_bytes());
        let weakened = KeySlot::decode(1, &bytes).unwrap();
        assert!(weakened.unwrap(&Credential::Password(password("pw")), &[0; 16], 1).unwrap().is_none());
    }

    #[test]
    fn malformed_slots_are_refused_not_misread() {
        let master = MasterKey::generate().unwrap();
        let new = NewSlot::Password { password: password("pw"), params: quick() };
        let bytes = KeySlot::new(&new, &master, &[0; 16], 1).unwrap().encode();
        for len in 0..bytes.len() {
            assert!(KeySlot::decode(1, &bytes[..len]).is_err(), "cut at {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(KeySlot::decode(1, &longer).is_err());
        let mut unknown = bytes;
        unknown[0] = 99;
        assert!(KeySlot::decode(1, &unknown).unwrap_err().to_string().contains("unknown"));
    }

    #[test]
    fn the_default_parameters_are_rfc_9106s_second_option() {
        assert_eq!(KdfParams::default().to_string(), "argon2id, 64 MiB, 3 passes, 4 lanes");
    }
}
