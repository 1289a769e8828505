//! Talking to an ssh-agent: listing its Ed25519 keys, choosing one, and having it sign (the
//! signature checked against the key before anyone uses it).
//!
//! Only Ed25519 keys are accepted: their signatures are deterministic (RFC 8032), so signing the
//! same message again gives the same bytes, which is what lets a signature stand for a secret.
//! Other kinds (RSA, ECDSA, security keys, certificates) are listed apart, with the reason, so
//! that error messages can say why they were passed over.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature as DalekSignature, VerifyingKey};
use ssh_agent_client_rs::{Client, Error as ClientError, Identity};
use ssh_key::public::{Ed25519PublicKey, KeyData};
use ssh_key::{Algorithm, HashAlg, PublicKey};
use zeroize::Zeroizing;

/// What went wrong talking to the ssh-agent or choosing one of its keys. The messages are meant
/// for people; none carries a secret (public keys, fingerprints and comments are not secrets).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AgentError {
    #[error("no ssh-agent: SSH_AUTH_SOCK is not set")]
    NoSocket,
    #[error("cannot reach the ssh-agent at {}: {cause}", path.display())]
    Unreachable { path: PathBuf, cause: String },
    #[error("the ssh-agent at {} gave an answer that cannot be understood: {cause}", path.display())]
    Protocol { path: PathBuf, cause: String },
    #[error("the ssh-agent does not hold the Ed25519 key {fingerprint} (add it with ssh-add)")]
    KeyAbsent { fingerprint: String },
    #[error("the ssh-agent refused to sign with the key {fingerprint}")]
    Refused { fingerprint: String },
    #[error(
        "the ssh-agent answered with a {algorithm} signature for the Ed25519 key {fingerprint}; \
         refusing it"
    )]
    NotEd25519Signature { fingerprint: String, algorithm: String },
    #[error(
        "the ssh-agent returned a signature that does not verify with the key {fingerprint}; \
         refusing it"
    )]
    BadSignature { fingerprint: String },
    #[error("{}", no_ed25519_message(others))]
    NoEd25519Key { others: Vec<String> },
    #[error(
        "the ssh-agent holds several Ed25519 keys{}; choose one by fingerprint, comment or .pub \
         file: {}",
        matching_suffix(wanted),
        keys.join("; ")
    )]
    Ambiguous { wanted: Option<String>, keys: Vec<String> },
    #[error(
        "no Ed25519 key in the ssh-agent has the fingerprint or comment '{wanted}' (and it is not \
         a .pub file); the agent holds: {}",
        list_or_none(available)
    )]
    NoMatch { wanted: String, available: Vec<String> },
    #[error("cannot read the public key file {}: {cause}", path.display())]
    ReadPublicKey { path: PathBuf, cause: String },
    #[error("{what} is not an OpenSSH public key line (expected 'ssh-ed25519 AAAA... comment')")]
    NotPublicKey { what: String },
    #[error(
        "{} is a private key; give its public half (the .pub file) instead",
        path.display()
    )]
    PrivateKeyGiven { path: PathBuf },
    #[error("{what} is a {algorithm} key; only Ed25519 keys give deterministic signatures")]
    NotEd25519Key { what: String, algorithm: String },
}

fn no_ed25519_message(others: &[String]) -> String {
    if others.is_empty() {
        "the ssh-agent holds no Ed25519 key (add one with ssh-add; create one with \
         ssh-keygen -t ed25519)"
            .to_owned()
    } else {
        format!("the ssh-agent holds no Ed25519 key; it holds only keys that cannot be used: {}", others.join("; "))
    }
}

fn matching_suffix(wanted: &Option<String>) -> String {
    match wanted {
        Some(w) => format!(" matching '{w}'"),
        None => String::new(),
    }
}

fn list_or_none(keys: &[String]) -> String {
    if keys.is_empty() { "no Ed25519 key".to_owned() } else { keys.join("; ") }
}

/// The path of the ssh-agent's socket, from `SSH_AUTH_SOCK`.
pub(crate) fn socket_from_env() -> Result<PathBuf, AgentError> {
    socket_from(std::env::var_os("SSH_AUTH_SOCK"))
}

fn socket_from(var: Option<std::ffi::OsString>) -> Result<PathBuf, AgentError> {
    match var {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Err(AgentError::NoSocket),
    }
}

/// An Ed25519 key held by the agent.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct AgentKey {
    /// The Ed25519 public key.
    pub(crate) public: [u8; 32],
    /// The comment the agent gives it (often `user@host` or the key file's path).
    pub(crate) comment: String,
    /// `SHA256:...`, as `ssh-add -l` prints it.
    pub(crate) fingerprint: String,
}

impl fmt::Debug for AgentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentKey").field("fingerprint", &self.fingerprint).field("comment", &self.comment).finish()
    }
}

impl fmt::Display for AgentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.comment.is_empty() {
            write!(f, "{}", self.fingerprint)
        } else {
            write!(f, "{} '{}'", self.fingerprint, self.comment)
        }
    }
}

/// What an agent holds: the Ed25519 keys that can be used, and a description of each other key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AgentKeys {
    pub(crate) ed25519: Vec<AgentKey>,
    /// One line per refused key, e.g. "ssh-rsa key 'me@host' (only Ed25519 keys give
    /// deterministic signatures)".
    pub(crate) others: Vec<String>,
}

/// `SHA256:...` (base64 without padding) of an Ed25519 public key, as `ssh-add -l` prints it.
pub(crate) fn fingerprint(public: &[u8; 32]) -> String {
    KeyData::Ed25519(Ed25519PublicKey(*public)).fingerprint(HashAlg::Sha256).to_string()
}

fn connect(socket: &Path) -> Result<Client, AgentError> {
    Client::connect(socket).map_err(|e| client_error(socket, e))
}

fn client_error(socket: &Path, error: ClientError) -> AgentError {
    match error {
        ClientError::AgentCommunicationError(e) => {
            AgentError::Unreachable { path: socket.to_owned(), cause: e.to_string() }
        }
        other => AgentError::Protocol { path: socket.to_owned(), cause: other.to_string() },
    }
}

fn describe_other(kind: &str, algorithm: &Algorithm, comment: &str, why: &str) -> String {
    if comment.is_empty() {
        format!("{} {kind} ({why})", algorithm.as_str())
    } else {
        format!("{} {kind} '{comment}' ({why})", algorithm.as_str())
    }
}

fn sort_identities(identities: &[Identity<'_>]) -> AgentKeys {
    let mut keys = AgentKeys::default();
    for identity in identities {
        match identity {
            Identity::PublicKey(pk) => match pk.key_data() {
                KeyData::Ed25519(ed) => keys.ed25519.push(AgentKey {
                    public: ed.0,
                    comment: pk.comment().to_owned(),
                    fingerprint: fingerprint(&ed.0),
                }),
                other => keys.others.push(describe_other(
                    "key",
                    &other.algorithm(),
                    pk.comment(),
                    "only Ed25519 keys give deterministic signatures",
                )),
            },
            Identity::Certificate(cert) => keys.others.push(describe_other(
                "certificate",
                &cert.algorithm(),
                cert.comment(),
                "certificates are not used; add the plain Ed25519 key",
            )),
        }
    }
    keys
}

/// The keys the agent at `socket` holds, Ed25519 apart from the others.
pub(crate) fn list_keys(socket: &Path) -> Result<AgentKeys, AgentError> {
    let mut client = connect(socket)?;
    let identities = client.list_all_identities().map_err(|e| client_error(socket, e))?;
    Ok(sort_identities(&identities))
}

/// Has the agent sign `message` with the Ed25519 key `public`, and checks the signature against
/// `public` before returning it (an agent that lies is refused).
pub(crate) fn sign(socket: &Path, public: &[u8; 32], message: &[u8]) -> Result<Zeroizing<[u8; 64]>, AgentError> {
    let fingerprint = fingerprint(public);
    let mut client = connect(socket)?;
    let identities = client.list_all_identities().map_err(|e| client_error(socket, e))?;
    if !sort_identities(&identities).ed25519.iter().any(|k| &k.public == public) {
        return Err(AgentError::KeyAbsent { fingerprint });
    }
    let key = PublicKey::new(KeyData::Ed25519(Ed25519PublicKey(*public)), "");
    let signature = match client.sign(&key, message) {
        Ok(signature) => signature,
        Err(ClientError::RemoteFailure) => return Err(AgentError::Refused { fingerprint }),
        Err(e) => return Err(client_error(socket, e)),
    };
    if signature.algorithm() != Algorithm::Ed25519 {
        return Err(AgentError::NotEd25519Signature {
            fingerprint,
            algorithm: signature.algorithm().as_str().to_owned(),
        });
    }
    let mut bytes = Zeroizing::new([0u8; 64]);
    if signature.as_bytes().len() != bytes.len() {
        return Err(AgentError::BadSignature { fingerprint });
    }
    bytes.copy_from_slice(signature.as_bytes());
    let verifying =
        VerifyingKey::from_bytes(public).map_err(|_| AgentError::BadSignature { fingerprint: fingerprint.clone() })?;
    verifying
        .verify_strict(message, &DalekSignature::from_bytes(&bytes))
        .map_err(|_| AgentError::BadSignature { fingerprint })?;
    Ok(bytes)
}

/// An Ed25519 public key from an OpenSSH public key line (`ssh-ed25519 AAAA... comment`).
/// `what` names the line's origin in errors.
fn parse_public_line(line: &str, what: &str) -> Result<[u8; 32], AgentError> {
    let key = PublicKey::from_openssh(line.trim()).map_err(|_| AgentError::NotPublicKey { what: what.to_owned() })?;
    match key.key_data() {
        KeyData::Ed25519(ed) => Ok(ed.0),
        other => {
            Err(AgentError::NotEd25519Key { what: what.to_owned(), algorithm: other.algorithm().as_str().to_owned() })
        }
    }
}

/// The Ed25519 public key in a `.pub` file (its first line that is not blank nor a comment).
fn read_public_file(path: &Path) -> Result<[u8; 32], AgentError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AgentError::ReadPublicKey { path: path.to_owned(), cause: e.to_string() })?;
    if text.trim_start().starts_with("-----BEGIN") {
        // Do not keep a private key's text around longer than needed.
        drop(Zeroizing::new(text));
        return Err(AgentError::PrivateKeyGiven { path: path.to_owned() });
    }
    let what = path.display().to_string();
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| AgentError::NotPublicKey { what: what.clone() })?;
    parse_public_line(line, &what)
}

fn by_public(keys: &AgentKeys, public: &[u8; 32]) -> Result<AgentKey, AgentError> {
    keys.ed25519
        .iter()
        .find(|k| &k.public == public)
        .cloned()
        .ok_or_else(|| AgentError::KeyAbsent { fingerprint: fingerprint(public) })
}

fn looks_like_key_line(wanted: &str) -> bool {
    let first = wanted.split_whitespace().next().unwrap_or("");
    wanted.contains(char::is_whitespace)
        && (first.starts_with("ssh-")
            || first.starts_with("ecdsa-")
            || first.starts_with("sk-")
            || first.contains("@openssh.com"))
}

/// Chooses a key of the agent. `wanted` may be a fingerprint (`SHA256:...`), a comment, an
/// OpenSSH public key line, or the path of a `.pub` file; `None` means the agent's only Ed25519
/// key.
pub(crate) fn find_key(keys: &AgentKeys, wanted: Option<&str>) -> Result<AgentKey, AgentError> {
    let all = || keys.ed25519.iter().map(ToString::to_string).collect();
    let Some(wanted) = wanted.map(str::trim) else {
        return match keys.ed25519.as_slice() {
            [] => Err(AgentError::NoEd25519Key { others: keys.others.clone() }),
            [only] => Ok(only.clone()),
            _ => Err(AgentError::Ambiguous { wanted: None, keys: all() }),
        };
    };
    if wanted.starts_with("SHA256:") {
        return keys
            .ed25519
            .iter()
            .find(|k| k.fingerprint == wanted)
            .cloned()
            .ok_or_else(|| AgentError::KeyAbsent { fingerprint: wanted.to_owned() });
    }
    if looks_like_key_line(wanted) {
        let public = parse_public_line(wanted, "the given public key")?;
        return by_public(keys, &public);
    }
    let by_comment: Vec<&AgentKey> = keys.ed25519.iter().filter(|k| k.comment == wanted).collect();
    match by_comment.as_slice() {
        [only] => return Ok((*only).clone()),
        [] => {}
        several => {
            return Err(AgentError::Ambiguous {
                wanted: Some(wanted.to_owned()),
                keys: several.iter().map(ToString::to_string).collect(),
            });
        }
    }
    let path = Path::new(wanted);
    if path.is_file() {
        let public = read_public_file(path)?;
        return by_public(keys, &public);
    }
    Err(AgentError::NoMatch { wanted: wanted.to_owned(), available: all() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    /// A real ssh-agent on a private socket, killed when dropped.
    struct Agent {
        child: Child,
        socket: PathBuf,
        dir: tempfile::TempDir,
    }

    impl Agent {
        fn start() -> Agent {
            let dir = tempfile::Builder::new().prefix("chenilles-agent-").tempdir().expect("temp dir");
            let socket = dir.path().join("agent.sock");
            let child = Command::new("ssh-agent")
                .arg("-D")
                .arg("-a")
                .arg(&socket)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cannot run ssh-agent (install openssh-client): these tests need it");
            let mut agent = Agent { child, socket, dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            while !agent.socket.exists() {
                if let Ok(Some(status)) = agent.child.try_wait() {
                    panic!("ssh-agent exited early: {status}");
                }
                assert!(Instant::now() < deadline, "ssh-agent did not create its socket");
                std::thread::sleep(Duration::from_millis(20));
            }
            agent
        }

        /// Generates a key pair with ssh-keygen; returns the private key's path.
        fn keygen(&self, name: &str, kind: &[&str], comment: &str) -> PathBuf {
            let path = self.dir.path().join(name);
            let status = Command::new("ssh-keygen")
                .args(kind)
                .args(["-q", "-N", "", "-C", comment, "-f"])
                .arg(&path)
                .stdin(Stdio::null())
                .status()
                .expect("cannot run ssh-keygen (install openssh-client)");
            assert!(status.success(), "ssh-keygen failed");
            path
        }

        fn add(&self, private: &Path) {
            let output = Command::new("ssh-add")
                .env("SSH_AUTH_SOCK", &self.socket)
                .arg(private)
                .stdin(Stdio::null())
                .output()
                .expect("cannot run ssh-add (install openssh-client)");
            assert!(output.status.success(), "ssh-add failed: {output:?}");
        }

        fn ed25519(&self, name: &str, comment: &str, add: bool) -> ([u8; 32], PathBuf) {
            let private = self.keygen(name, &["-t", "ed25519"], comment);
            if add {
                self.add(&private);
            }
            let pub_path = private.with_extension("pub");
            let public = read_public_file(&pub_path).expect("ssh-keygen's .pub");
            (public, pub_path)
        }
    }

    impl Drop for Agent {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    #[test]
    fn listing_sorts_ed25519_from_others() {
        let agent = Agent::start();
        let (public, _) = agent.ed25519("ed", "alice@example", true);
        let rsa = agent.keygen("rsa", &["-t", "rsa", "-b", "2048"], "bob-rsa");
        agent.add(&rsa);
        let keys = list_keys(&agent.socket).unwrap();
        assert_eq!(keys.ed25519.len(), 1);
        assert_eq!(keys.ed25519[0].public, public);
        assert_eq!(keys.ed25519[0].comment, "alice@example");
        assert_eq!(keys.ed25519[0].fingerprint, fingerprint(&public));
        assert_eq!(keys.others, vec!["ssh-rsa key 'bob-rsa' (only Ed25519 keys give deterministic signatures)"]);
    }

    #[test]
    fn fingerprint_is_what_ssh_keygen_prints() {
        let agent = Agent::start();
        let (public, pub_path) = agent.ed25519("ed", "fp", false);
        let output = Command::new("ssh-keygen").args(["-l", "-E", "sha256", "-f"]).arg(&pub_path).output().unwrap();
        let printed = String::from_utf8(output.stdout).unwrap();
        // "256 SHA256:... fp (ED25519)"
        assert_eq!(printed.split_whitespace().nth(1), Some(&*fingerprint(&public)));
        assert!(fingerprint(&public).starts_with("SHA256:"));
        assert!(!fingerprint(&public).ends_with('='));
    }

    #[test]
    fn signing_is_deterministic_and_verified() {
        let agent = Agent::start();
        let (public, _) = agent.ed25519("ed", "signer", true);
        let message = b"chenilles key slot challenge";
        let first = sign(&agent.socket, &public, message).unwrap();
        let second = sign(&agent.socket, &public, message).unwrap();
        assert_eq!(*first, *second);
        VerifyingKey::from_bytes(&public).unwrap().verify_strict(message, &DalekSignature::from_bytes(&first)).unwrap();
        let other = sign(&agent.socket, &public, b"another message").unwrap();
        assert_ne!(*first, *other);
    }

    #[test]
    fn signing_with_a_key_not_in_the_agent_is_key_absent() {
        let agent = Agent::start();
        agent.ed25519("in", "in", true);
        let (absent, _) = agent.ed25519("out", "out", false);
        match sign(&agent.socket, &absent, b"m") {
            Err(AgentError::KeyAbsent { fingerprint: fp }) => assert_eq!(fp, fingerprint(&absent)),
            other => panic!("expected KeyAbsent, got {other:?}"),
        }
    }

    #[test]
    fn unreachable_agent_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("nobody.sock");
        let err = list_keys(&socket).unwrap_err();
        assert!(matches!(err, AgentError::Unreachable { .. }), "{err:?}");
        assert!(err.to_string().starts_with("cannot reach the ssh-agent at "));
        let err = sign(&socket, &[7; 32], b"m").unwrap_err();
        assert!(matches!(err, AgentError::Unreachable { .. }), "{err:?}");
    }

    #[test]
    fn find_key_by_fingerprint_comment_line_and_pub_file() {
        let agent = Agent::start();
        let (a, a_pub) = agent.ed25519("a", "alice", true);
        let (b, _) = agent.ed25519("b", "bob", true);
        let keys = list_keys(&agent.socket).unwrap();
        assert_eq!(keys.ed25519.len(), 2);

        assert_eq!(find_key(&keys, Some(&fingerprint(&a))).unwrap().public, a);
        assert_eq!(find_key(&keys, Some("bob")).unwrap().public, b);
        let pub_text = a_pub.to_str().unwrap();
        assert_eq!(find_key(&keys, Some(pub_text)).unwrap().public, a);
        let line = std::fs::read_to_string(&a_pub).unwrap();
        assert_eq!(find_key(&keys, Some(&line)).unwrap().public, a);

        // Several keys and no choice: the error lists them.
        let err = find_key(&keys, None).unwrap_err();
        assert!(matches!(err, AgentError::Ambiguous { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(&fingerprint(&a)) && message.contains("'bob'"), "{message}");

        // Unknown choices.
        let err = find_key(&keys, Some("carol")).unwrap_err();
        assert!(matches!(err, AgentError::NoMatch { .. }), "{err:?}");
        assert!(err.to_string().contains("'alice'"), "{err}");
        let err = find_key(&keys, Some("SHA256:nope")).unwrap_err();
        assert!(matches!(err, AgentError::KeyAbsent { .. }), "{err:?}");
        let (c, c_pub) = agent.ed25519("c", "carol", false);
        match find_key(&keys, Some(c_pub.to_str().unwrap())) {
            Err(AgentError::KeyAbsent { fingerprint: fp }) => assert_eq!(fp, fingerprint(&c)),
            other => panic!("expected KeyAbsent, got {other:?}"),
        }
        // A private key file is refused with a hint.
        let private = a_pub.with_extension("");
        let err = find_key(&keys, Some(private.to_str().unwrap())).unwrap_err();
        assert!(matches!(err, AgentError::PrivateKeyGiven { .. }), "{err:?}");
    }

    #[test]
    fn find_key_with_no_choice_takes_the_only_ed25519_key() {
        let agent = Agent::start();
        let (a, _) = agent.ed25519("a", "alice", true);
        let rsa = agent.keygen("rsa", &["-t", "rsa", "-b", "2048"], "bob-rsa");
        agent.add(&rsa);
        let keys = list_keys(&agent.socket).unwrap();
        assert_eq!(find_key(&keys, None).unwrap().public, a);
    }

    #[test]
    fn rsa_keys_are_refused_with_a_clear_message() {
        let agent = Agent::start();
        let rsa = agent.keygen("rsa", &["-t", "rsa", "-b", "2048"], "bob-rsa");
        agent.add(&rsa);
        let keys = list_keys(&agent.socket).unwrap();
        assert!(keys.ed25519.is_empty());
        let err = find_key(&keys, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the ssh-agent holds no Ed25519 key; it holds only keys that cannot be used: \
             ssh-rsa key 'bob-rsa' (only Ed25519 keys give deterministic signatures)"
        );
        // Naming the RSA key by its .pub file says why it is refused.
        let err = find_key(&keys, Some(rsa.with_extension("pub").to_str().unwrap())).unwrap_err();
        assert!(matches!(err, AgentError::NotEd25519Key { .. }), "{err:?}");
        assert!(
            err.to_string().ends_with("is a ssh-rsa key; only Ed25519 keys give deterministic signatures"),
            "{err}"
        );
    }

    #[test]
    fn empty_agent_says_how_to_add_a_key() {
        let agent = Agent::start();
        let keys = list_keys(&agent.socket).unwrap();
        assert_eq!(keys, AgentKeys::default());
        let err = find_key(&keys, None).unwrap_err();
        assert!(err.to_string().contains("ssh-add"), "{err}");
    }

    #[test]
    fn socket_comes_from_ssh_auth_sock() {
        let err = socket_from(None).unwrap_err();
        assert_eq!(err.to_string(), "no ssh-agent: SSH_AUTH_SOCK is not set");
        assert!(matches!(socket_from(Some("".into())), Err(AgentError::NoSocket)));
        assert_eq!(socket_from(Some("/tmp/some/agent.sock".into())).unwrap(), PathBuf::from("/tmp/some/agent.sock"));
    }

    /// A fake agent on a Unix socket: holds one Ed25519 key and answers every signature request
    /// with `signature` (algorithm name, bytes).
    fn lying_agent(public: [u8; 32], algorithm: &'static str, signature: Vec<u8>) -> (tempfile::TempDir, PathBuf) {
        use std::io::{Read, Write};
        use std::os::unix::net::UnixListener;
        fn string(out: &mut Vec<u8>, bytes: &[u8]) {
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("liar.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                loop {
                    let mut len = [0u8; 4];
                    if stream.read_exact(&mut len).is_err() {
                        break;
                    }
                    let mut request = vec![0u8; u32::from_be_bytes(len) as usize];
                    if stream.read_exact(&mut request).is_err() {
                        break;
                    }
                    let mut body = Vec::new();
                    match request.first() {
                        Some(11) => {
                            // SSH_AGENT_IDENTITIES_ANSWER with our one key.
                            body.push(12);
                            body.extend_from_slice(&1u32.to_be_bytes());
                            let mut blob = Vec::new();
                            string(&mut blob, b"ssh-ed25519");
                            string(&mut blob, &public);
                            string(&mut body, &blob);
                            string(&mut body, b"liar");
                        }
                        Some(13) => {
                            // SSH_AGENT_SIGN_RESPONSE with the planted signature.
                            body.push(14);
                            let mut sig = Vec::new();
                            string(&mut sig, algorithm.as_bytes());
                            string(&mut sig, &signature);
                            string(&mut body, &sig);
                        }
                        _ => body.push(5), // SSH_AGENT_FAILURE
                    }
                    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
                    frame.extend_from_slice(&body);
                    if stream.write_all(&frame).is_err() {
                        break;
                    }
                }
            }
        });
        (dir, socket)
    }

    #[test]
    fn a_lying_agent_is_refused() {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let public = signing.verifying_key().to_bytes();
        let message = b"the real message";
        use ed25519_dalek::Signer;

        // A signature of another message.
        let wrong = signing.sign(b"another message").to_bytes().to_vec();
        let (_dir, socket) = lying_agent(public, "ssh-ed25519", wrong);
        assert_eq!(list_keys(&socket).unwrap().ed25519[0].public, public);
        let err = sign(&socket, &public, message).unwrap_err();
        assert!(matches!(err, AgentError::BadSignature { .. }), "{err:?}");
        assert!(err.to_string().contains("does not verify"), "{err}");

        // Garbage.
        let (_dir, socket) = lying_agent(public, "ssh-ed25519", vec![0; 64]);
        let err = sign(&socket, &public, message).unwrap_err();
        assert!(matches!(err, AgentError::BadSignature { .. }), "{err:?}");

        // The right signature passes, so the fake agent itself is sound.
        let right = signing.sign(message).to_bytes().to_vec();
        let (_dir, socket) = lying_agent(public, "ssh-ed25519", right.clone());
        assert_eq!(&sign(&socket, &public, message).unwrap()[..], &right[..]);

        // A signature of another kind.
        let (_dir, socket) = lying_agent(public, "rsa-sha2-512", vec![1; 256]);
        let err = sign(&socket, &public, message).unwrap_err();
        assert!(matches!(err, AgentError::NotEd25519Signature { .. } | AgentError::Protocol { .. }), "{err:?}");
    }
}
