//! Key slots other than passwords, against the real things: an ssh-agent slot unlocked by a real
//! `ssh-agent` (started by the test, keys made by `ssh-keygen`), an age recipient slot unlocked by
//! an age X25519 identity file. Wrong keys and removed slots are refused, the file left as it was;
//! `store rotate` keeps both kinds of slot.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chenilles_store::{
    BlobStore, Credential, Mode, NewSlot, RedbStore, Rotation, StoreError, Unlock, recipients_of_identity_file,
};
use common::{create_encrypted, test_unlock};

/// An `ssh-agent` of the test's own, on a socket in a temporary directory; killed when dropped.
/// `ssh-agent`, `ssh-keygen` and `ssh-add` must be installed (openssh-client): without them the
/// test fails, it does not skip.
struct Agent {
    dir: tempfile::TempDir,
    socket: PathBuf,
    child: Child,
}

impl Agent {
    fn start() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent runs (install openssh-client)");
        let started = Instant::now();
        while !socket.exists() {
            assert!(started.elapsed() < Duration::from_secs(10), "ssh-agent made no socket");
            std::thread::sleep(Duration::from_millis(10));
        }
        Agent { dir, socket, child }
    }

    /// Makes a key (`ssh-keygen -t KIND`) and adds it to the agent; returns its `.pub` file.
    fn add_key(&self, name: &str, kind: &[&str]) -> PathBuf {
        let private = self.dir.path().join(name);
        let made = Command::new("ssh-keygen")
            .args(kind)
            .args(["-q", "-N", "", "-C", name, "-f"])
            .arg(&private)
            .status()
            .expect("ssh-keygen runs");
        assert!(made.success());
        self.ssh_add(&[private.as_os_str()]);
        private.with_extension("pub")
    }

    fn remove_all(&self) {
        self.ssh_add(&["-D".as_ref()]);
    }

    fn ssh_add(&self, args: &[&std::ffi::OsStr]) {
        let added = Command::new("ssh-add")
            .args(args)
            .env("SSH_AUTH_SOCK", &self.socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("ssh-add runs");
        assert!(added.success(), "ssh-add {args:?}");
    }

    fn credential(&self) -> Credential {
        Credential::SshAgent(self.socket.clone())
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes an age X25519 identity file (as `age-keygen` writes one); returns its path.
fn identity_file(dir: &Path, name: &str) -> PathBuf {
    use age::secrecy::ExposeSecret;
    let identity = age::x25519::Identity::generate();
    let path = dir.join(name);
    let text = format!(
        "# created: by the test\n# public key: {}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Commits one blob; returns its hash.
fn put(store: &mut RedbStore, bytes: &[u8]) -> chenilles_store::Hash {
    let mut batch = chenilles_store::Batch::default();
    let hash = batch.put(bytes.to_vec());
    batch.set_ref("kept", None, hash);
    store.commit(batch).unwrap();
    hash
}

fn with(credential: Credential) -> Unlock {
    Unlock::none().with(credential)
}

#[test]
fn an_ssh_agent_slot_opens_the_store_with_the_agents_key_and_no_other() {
    let agent = Agent::start();
    agent.add_key("alice", &["-t", "ed25519"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = create_encrypted(&path);
    let hash = put(&mut store, b"kept behind an ssh-agent");
    let slot = store.add_key_slot(&NewSlot::SshAgent { socket: agent.socket.clone(), key: None }).unwrap();
    assert!(slot.method.starts_with("ssh-agent key SHA256:"), "{}", slot.method);
    assert_eq!(slot.kind, chenilles_store::SlotKind::SshAgent);
    store.close().unwrap();

    let store = RedbStore::open_with(&path, Mode::Existing, &with(agent.credential())).unwrap();
    assert_eq!(store.unlocked_slot(), Some(slot.id));
    assert_eq!(store.get(&hash).unwrap().unwrap(), b"kept behind an ssh-agent");
    store.close().unwrap();

    // Another key in the agent: refused, and the file is as it was.
    agent.remove_all();
    agent.add_key("mallory", &["-t", "ed25519"]);
    let before = std::fs::read(&path).unwrap();
    match RedbStore::open_with(&path, Mode::Existing, &with(agent.credential())) {
        Err(StoreError::WrongKey { tried, .. }) => assert!(tried.contains("ssh-agent"), "{tried}"),
        other => panic!("a wrong agent key should be refused: {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn an_agent_with_only_non_ed25519_keys_makes_no_slot() {
    let agent = Agent::start();
    agent.add_key("rsa", &["-t", "rsa", "-b", "2048"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut store = create_encrypted(&path);
    let refused = store.add_key_slot(&NewSlot::SshAgent { socket: agent.socket.clone(), key: None }).unwrap_err();
    assert!(refused.to_string().contains("Ed25519"), "{refused}");
    assert_eq!(store.key_slots().unwrap().len(), 1);
}

#[test]
fn an_age_recipient_slot_opens_with_its_identity_file_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mine = identity_file(dir.path(), "mine.txt");
    let theirs = identity_file(dir.path(), "theirs.txt");
    let recipients = recipients_of_identity_file(&mine).unwrap();
    assert_eq!(recipients.len(), 1);
    assert!(recipients[0].starts_with("age1"));

    let mut store = create_encrypted(&path);
    let hash = put(&mut store, b"kept for an age recipient");
    let slot = store.add_key_slot(&NewSlot::Recipient(recipients[0].clone())).unwrap();
    assert_eq!(slot.method, format!("age recipient {}", recipients[0]));
    store.close().unwrap();

    let store = RedbStore::open_with(&path, Mode::Existing, &with(Credential::identity_file(&mine).unwrap())).unwrap();
    assert_eq!(store.get(&hash).unwrap().unwrap(), b"kept for an age recipient");
    store.close().unwrap();

    let before = std::fs::read(&path).unwrap();
    let wrong = with(Credential::identity_file(&theirs).unwrap());
    assert!(matches!(RedbStore::open_with(&path, Mode::Existing, &wrong), Err(StoreError::WrongKey { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // A removed slot no longer opens the store.
    let mut store = RedbStore::open_with(&path, Mode::Existing, &test_unlock()).unwrap();
    store.remove_key_slot(slot.id).unwrap();
    store.close().unwrap();
    let mine = with(Credential::identity_file(&mine).unwrap());
    assert!(matches!(RedbStore::open_with(&path, Mode::Existing, &mine), Err(StoreError::WrongKey { .. })));

    // A malformed recipient makes no slot.
    let mut store = RedbStore::open_with(&path, Mode::Existing, &test_unlock()).unwrap();
    let refused = store.add_key_slot(&NewSlot::Recipient("age1notarecipient".into())).unwrap_err();
    assert!(matches!(refused, StoreError::KeySlot { .. }), "{refused}");
    assert_eq!(store.key_slots().unwrap().len(), 1);
}

#[test]
fn a_rotation_keeps_agent_and_age_slots() {
    let agent = Agent::start();
    agent.add_key("alice", &["-t", "ed25519"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let identity = identity_file(dir.path(), "identity.txt");
    let recipient = recipients_of_identity_file(&identity).unwrap().remove(0);
    let mut store = create_encrypted(&path);
    let hash = put(&mut store, b"rotated");
    store.add_key_slot(&NewSlot::SshAgent { socket: agent.socket.clone(), key: None }).unwrap();
    store.add_key_slot(&NewSlot::Recipient(recipient)).unwrap();
    let old_key = store.key().unwrap();
    store.close().unwrap();

    // The password and the agent are offered; the age slot needs nothing (its recipient is public).
    let offered = test_unlock().with(agent.credential());
    let report = RedbStore::rotate(&path, &offered, Rotation::default(), &mut |_, _| {}).unwrap();
    assert_eq!(report.slots.len(), 3, "{report:?}");
    for unlock in [test_unlock(), with(agent.credential()), with(Credential::identity_file(&identity).unwrap())] {
        let store = RedbStore::open_with(&path, Mode::Existing, &unlock).unwrap();
        assert_eq!(store.get(&hash).unwrap().unwrap(), b"rotated");
        store.close().unwrap();
    }
    assert!(RedbStore::open_with(&path, Mode::Existing, &Unlock::key(old_key)).is_err());
}
