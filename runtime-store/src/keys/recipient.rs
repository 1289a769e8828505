//! age recipients and identities: parsing recipients (X25519, plugin, ssh), wrapping a secret in
//! an age file for one of them, reading identity files, and unwrapping with them.
//!
//! Wrapped secrets are binary (not armored) age files. Plugin recipients and identities
//! (`age1yubikey1...`, `AGE-PLUGIN-YUBIKEY-1...`) run the plugin binary found on `PATH`
//! (`age-plugin-yubikey`); its messages go to stderr and its questions (a PIN, say) are asked on
//! the terminal (`/dev/tty`), or fail if there is none.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use age::{DecryptError, EncryptError};
use zeroize::Zeroizing;

/// Identity files larger than this are refused (age's own limit).
const IDENTITY_FILE_LIMIT: u64 = 1 << 24;

/// What went wrong with a recipient, an identity file or a wrapped secret. The messages are
/// meant for people and never carry a secret (nor the text of a line of an identity file).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RecipientError {
    #[error(
        "not a recipient ({cause}); expected an age recipient (age1...), an age plugin \
         recipient (age1<plugin>1...), or an ssh-ed25519 / ssh-rsa public key"
    )]
    InvalidRecipient { cause: String },
    #[error(
        "this is an identity (a secret key), not a recipient: give its public recipient instead \
         (age-keygen -y prints it)"
    )]
    IdentityGivenAsRecipient,
    #[error("ssh keys of type {key_type} cannot be recipients; use an ssh-ed25519 or ssh-rsa key")]
    UnsupportedSshKey { key_type: String },
    #[error("the ssh-rsa key is too small to be a recipient (at least 2048 bits are needed)")]
    RsaKeyTooSmall,
    #[error("the ssh-rsa key is too large to be a recipient")]
    RsaKeyTooLarge,
    #[error("the age plugin '{binary_name}' is not on PATH; it is needed for this key")]
    PluginMissing { binary_name: String },
    #[error("cannot wrap the secret for this recipient: {cause}")]
    Wrap { cause: String },
    #[error("cannot read the identity file {}: {cause}", path.display())]
    ReadIdentityFile { path: PathBuf, cause: String },
    #[error("the identity file {} is too large (more than 16 MiB)", path.display())]
    IdentityFileTooLarge { path: PathBuf },
    #[error("the identity file {} is not text (UTF-8)", path.display())]
    IdentityFileNotText { path: PathBuf },
    #[error(
        "line {line} of the identity file {} is not an age identity (expected \
         AGE-SECRET-KEY-1... or AGE-PLUGIN-...){}",
        path.display(),
        if *looks_like_recipient { "; it looks like a recipient (a public key)" } else { "" }
    )]
    BadIdentityLine { path: PathBuf, line: usize, looks_like_recipient: bool },
    #[error("the identity file {} contains no identity", path.display())]
    NoIdentity { path: PathBuf },
    #[error(
        "{} is a passphrase-protected ssh key, and no passphrase could be asked for (no \
         terminal); use it at a terminal, an unencrypted copy, an age identity, or the key \
         through ssh-agent",
        path.display()
    )]
    EncryptedSshKey { path: PathBuf },
    #[error("the passphrase does not open the ssh key {}", path.display())]
    WrongSshPassphrase { path: PathBuf },
    #[error("{} is an ssh key that cannot be used: {detail}", path.display())]
    UnsupportedSshIdentity { path: PathBuf, detail: String },
    #[error(
        "{} looks like a private key, but not an OpenSSH ssh-ed25519 or ssh-rsa one",
        path.display()
    )]
    BadSshKey { path: PathBuf },
    #[error("the wrapped key is damaged or is not an age file: {cause}")]
    Malformed { cause: String },
    #[error("cannot unwrap the key: {cause}")]
    Unwrap { cause: String },
}

#[derive(Clone)]
enum Kind {
    X25519(age::x25519::Recipient),
    Plugin(age::plugin::Recipient),
    Ssh(age::ssh::Recipient),
}

/// A recipient that [`wrap`] can encrypt to, with its canonical text.
#[derive(Clone)]
pub(crate) struct ParsedRecipient {
    text: String,
    kind: Kind,
}

impl ParsedRecipient {
    /// The canonical text: `age1...` in lower case, or `ssh-ed25519 AAAA...` without comment.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for ParsedRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ParsedRecipient").field(&self.text).finish()
    }
}

impl fmt::Display for ParsedRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses `age1...` (X25519), `age1<plugin>1...` (plugin) and `ssh-ed25519` / `ssh-rsa` public
/// key lines (a trailing comment is allowed and dropped).
pub(crate) fn parse_recipient(text: &str) -> Result<ParsedRecipient, RecipientError> {
    let text = text.trim();
    let upper = text.to_ascii_uppercase();
    if upper.starts_with("AGE-SECRET-KEY-") || upper.starts_with("AGE-PLUGIN-") {
        return Err(RecipientError::IdentityGivenAsRecipient);
    }
    if upper.starts_with("-----BEGIN") {
        return Err(RecipientError::IdentityGivenAsRecipient);
    }
    if upper.starts_with("AGE1") {
        let lower = text.to_ascii_lowercase();
        let x25519_error = match lower.parse::<age::x25519::Recipient>() {
            Ok(r) => {
                return Ok(ParsedRecipient { text: r.to_string(), kind: Kind::X25519(r) });
            }
            Err(e) => e,
        };
        return match lower.parse::<age::plugin::Recipient>() {
            Ok(r) => Ok(ParsedRecipient { text: r.to_string(), kind: Kind::Plugin(r) }),
            // "age1" followed by the separator: an X25519 recipient gone wrong.
            Err(_) if lower.rfind('1') == Some(3) => {
                Err(RecipientError::InvalidRecipient { cause: bech32_reason(x25519_error) })
            }
            Err(e) => Err(RecipientError::InvalidRecipient { cause: bech32_reason(e) }),
        };
    }
    if text.starts_with("ssh-") || text.starts_with("ecdsa-") || text.starts_with("sk-") {
        use age::ssh::ParseRecipientKeyError as E;
        return match text.parse::<age::ssh::Recipient>() {
            Ok(r) => Ok(ParsedRecipient { text: r.to_string(), kind: Kind::Ssh(r) }),
            Err(E::RsaModulusTooSmall) => Err(RecipientError::RsaKeyTooSmall),
            Err(E::RsaModulusTooLarge) => Err(RecipientError::RsaKeyTooLarge),
            Err(E::Unsupported(key_type)) => Err(RecipientError::UnsupportedSshKey { key_type }),
            Err(E::Ignore) | Err(E::Invalid(_)) => {
                Err(RecipientError::InvalidRecipient { cause: "the ssh public key is malformed".to_owned() })
            }
        };
    }
    Err(RecipientError::InvalidRecipient {
        cause: if text.is_empty() { "it is empty".to_owned() } else { "unknown kind".to_owned() },
    })
}

fn bech32_reason(reason: &str) -> String {
    match reason {
        "invalid Bech32 encoding" => {
            "its Bech32 encoding is invalid: a character is mistyped, missing or extra".to_owned()
        }
        other => other.to_owned(),
    }
}

fn encrypt_error(error: EncryptError) -> RecipientError {
    match error {
        EncryptError::MissingPlugin { binary_name } => RecipientError::PluginMissing { binary_name },
        other => RecipientError::Wrap { cause: other.to_string() },
    }
}

/// An age encryptor to every one of `recipients` (plugins are run now, to make their stanzas).
pub(crate) fn encryptor(recipients: &[ParsedRecipient]) -> Result<age::Encryptor, RecipientError> {
    let mut plugins = Vec::new();
    for recipient in recipients {
        if let Kind::Plugin(r) = &recipient.kind {
            let plugin =
                age::plugin::RecipientPluginV1::new(r.plugin(), std::slice::from_ref(r), &[], TerminalCallbacks)
                    .map_err(encrypt_error)?;
            plugins.push(plugin);
        }
    }
    let mut plugins = plugins.iter();
    let mut as_dyn: Vec<&dyn age::Recipient> = Vec::new();
    for recipient in recipients {
        match &recipient.kind {
            Kind::X25519(r) => as_dyn.push(r),
            Kind::Ssh(r) => as_dyn.push(r),
            Kind::Plugin(_) => {
                if let Some(plugin) = plugins.next() {
                    as_dyn.push(plugin);
                }
            }
        }
    }
    age::Encryptor::with_recipients(as_dyn.into_iter()).map_err(encrypt_error)
}

/// An age file (binary) holding `secret`, readable by `recipient`'s identity.
pub(crate) fn wrap(recipient: &ParsedRecipient, secret: &[u8]) -> Result<Vec<u8>, RecipientError> {
    let encryptor = encryptor(std::slice::from_ref(recipient))?;
    let io_error = |e: std::io::Error| RecipientError::Wrap { cause: e.to_string() };
    let mut out = Vec::with_capacity(secret.len() + 256);
    let mut writer = encryptor.wrap_output(&mut out).map_err(io_error)?;
    writer.write_all(secret).map_err(io_error)?;
    writer.finish().map_err(io_error)?;
    Ok(out)
}

/// The identities of an identity file: age X25519 identities, plugin identities, or one
/// unencrypted OpenSSH private key. Its `Debug` shows counts, never keys.
pub(crate) struct Identities {
    path: PathBuf,
    x25519: Vec<age::x25519::Identity>,
    plugin: Vec<age::plugin::Identity>,
    ssh: Vec<age::ssh::Identity>,
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plugins: Vec<&str> = self.plugin.iter().map(|i| i.plugin()).collect();
        f.debug_struct("Identities")
            .field("path", &self.path)
            .field("x25519", &self.x25519.len())
            .field("ssh", &self.ssh.len())
            .field("plugins", &plugins)
            .finish()
    }
}

/// The recipients of the identity file at `path` (see [`recipients_of`]); a passphrase-protected
/// ssh key gives its recipient without its passphrase (the public key is in clear in the file).
pub(crate) fn recipients_of_file(path: &Path) -> Result<Vec<String>, RecipientError> {
    let no_passphrase = |_: &Path| None;
    match read_identity_file(path, Some(&no_passphrase)) {
        Err(RecipientError::EncryptedSshKey { .. }) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| RecipientError::ReadIdentityFile { path: path.to_owned(), cause: e.to_string() })?;
            let identity = age::ssh::Identity::from_buffer(text.trim_start().as_bytes(), None)
                .map_err(|_| RecipientError::BadSshKey { path: path.to_owned() })?;
            let recipient = age::ssh::Recipient::try_from(identity)
                .map_err(|_| RecipientError::BadSshKey { path: path.to_owned() })?;
            Ok(vec![recipient.to_string()])
        }
        other => other.map(|identities| recipients_of(&identities)),
    }
}

/// Asks for the passphrase of a protected ssh key (`None`: it cannot be asked).
pub(crate) type AskPassphrase<'a> = &'a dyn Fn(&Path) -> Option<Zeroizing<String>>;

/// Reads an identity file: `AGE-SECRET-KEY-1...` and `AGE-PLUGIN-...-1...` lines, with blank
/// lines and `#` comments; or an OpenSSH (or PEM RSA) private key, which `ask` is asked the
/// passphrase of if it has one (at most three times; `ask` giving `None` refuses the key).
pub(crate) fn read_identity_file(path: &Path, ask: Option<AskPassphrase<'_>>) -> Result<Identities, RecipientError> {
    let read_error =
        |e: std::io::Error| RecipientError::ReadIdentityFile { path: path.to_owned(), cause: e.to_string() };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(IDENTITY_FILE_LIMIT + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > IDENTITY_FILE_LIMIT {
        return Err(RecipientError::IdentityFileTooLarge { path: path.to_owned() });
    }
    let text =
        std::str::from_utf8(&bytes).map_err(|_| RecipientError::IdentityFileNotText { path: path.to_owned() })?;
    let mut identities = Identities { path: path.to_owned(), x25519: Vec::new(), plugin: Vec::new(), ssh: Vec::new() };
    if text.trim_start().starts_with("-----BEGIN") {
        let identity = age::ssh::Identity::from_buffer(text.trim_start().as_bytes(), None)
            .map_err(|_| RecipientError::BadSshKey { path: path.to_owned() })?;
        match identity {
            age::ssh::Identity::Unencrypted(_) => identities.ssh.push(identity),
            age::ssh::Identity::Encrypted(key) => {
                let ask = ask.ok_or_else(|| RecipientError::EncryptedSshKey { path: path.to_owned() })?;
                for _ in 0..3 {
                    let passphrase =
                        ask(path).ok_or_else(|| RecipientError::EncryptedSshKey { path: path.to_owned() })?;
                    if let Ok(key) = key.decrypt(SecretString::from(passphrase.to_string())) {
                        identities.ssh.push(age::ssh::Identity::Unencrypted(key));
                        return Ok(identities);
                    }
                }
                return Err(RecipientError::WrongSshPassphrase { path: path.to_owned() });
            }
            age::ssh::Identity::Unsupported(key) => {
                return Err(RecipientError::UnsupportedSshIdentity {
                    path: path.to_owned(),
                    detail: unsupported_detail(&key),
                });
            }
        }
        return Ok(identities);
    }
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Ok(identity) = line.parse::<age::x25519::Identity>() {
            identities.x25519.push(identity);
        } else if let Ok(identity) = line.parse::<age::plugin::Identity>() {
            identities.plugin.push(identity);
        } else {
            return Err(RecipientError::BadIdentityLine {
                path: path.to_owned(),
                line: index + 1,
                looks_like_recipient: line.starts_with("age1") || line.starts_with("ssh-"),
            });
        }
    }
    if identities.x25519.is_empty() && identities.plugin.is_empty() {
        return Err(RecipientError::NoIdentity { path: path.to_owned() });
    }
    Ok(identities)
}

fn unsupported_detail(key: &age::ssh::UnsupportedKey) -> String {
    use age::ssh::UnsupportedKey as U;
    match key {
        U::EncryptedPem => "it is an encrypted PEM key, a format age does not read".to_owned(),
        U::EncryptedSsh(cipher) => format!("it is encrypted with the unsupported cipher {cipher}"),
        U::Hardware(key_type) => format!(
            "{key_type} keys live on a security key; use age-plugin-yubikey or the ssh-agent \
             instead"
        ),
        U::Type(key_type) => format!("keys of type {key_type} are not supported"),
    }
}

/// The recipients matching the identities that can be turned into one without a plugin: the
/// X25519 ones (`age1...`), then the ssh one (`ssh-ed25519 ...` / `ssh-rsa ...`).
pub(crate) fn recipients_of(identities: &Identities) -> Vec<String> {
    let x25519 = identities.x25519.iter().map(|i| i.to_public().to_string());
    let ssh =
        identities.ssh.iter().filter_map(|i| age::ssh::Recipient::try_from(i.clone()).ok()).map(|r| r.to_string());
    x25519.chain(ssh).collect()
}

/// Decrypts `wrapped` with the first identity that matches one of its recipients. `Ok(None)`
/// when none matches; an error when the file is damaged (a damaged file never yields a wrong
/// secret) or a plugin fails.
pub(crate) fn unwrap(identities: &Identities, wrapped: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, RecipientError> {
    let Some(mut reader) = decrypt(wrapped, &[identities], &[])? else {
        return Ok(None);
    };
    let mut secret = Zeroizing::new(Vec::new());
    reader.read_to_end(&mut secret).map_err(|e| RecipientError::Malformed { cause: e.to_string() })?;
    Ok(Some(secret))
}

/// Reads the header of the age file `input` and opens its payload with the first of `files`'
/// identities, or of `keys`, that matches one of its recipients: a reader of the plaintext, which
/// fails (never yields a wrong byte) where the payload is damaged or cut short. `Ok(None)` when
/// no identity matches; an error when the header is damaged, the file is encrypted with a
/// passphrase, or a plugin fails.
pub(crate) fn decrypt<R: Read>(
    input: R,
    files: &[&Identities],
    keys: &[age::x25519::Identity],
) -> Result<Option<age::stream::StreamReader<R>>, RecipientError> {
    let malformed = |e: DecryptError| RecipientError::Malformed { cause: e.to_string() };
    let decryptor = age::Decryptor::new(input).map_err(malformed)?;
    if decryptor.is_scrypt() {
        return Err(RecipientError::Unwrap {
            cause: "it is encrypted with a passphrase, not to a recipient".to_owned(),
        });
    }

    let mut candidates: Vec<Box<dyn age::Identity>> = Vec::new();
    for identity in keys.iter().chain(files.iter().flat_map(|f| &f.x25519)) {
        candidates.push(Box::new(identity.clone()));
    }
    for identity in files.iter().flat_map(|f| &f.ssh) {
        candidates.push(Box::new(identity.clone()));
    }
    let mut missing_plugin = None;
    let plugin_identities: Vec<age::plugin::Identity> = files.iter().flat_map(|f| f.plugin.iter().cloned()).collect();
    let mut plugin_names: Vec<&str> = plugin_identities.iter().map(|i| i.plugin()).collect();
    plugin_names.sort_unstable();
    plugin_names.dedup();
    for name in plugin_names {
        match age::plugin::IdentityPluginV1::new(name, &plugin_identities, TerminalCallbacks) {
            Ok(plugin) => candidates.push(Box::new(plugin)),
            Err(DecryptError::MissingPlugin { binary_name }) => {
                missing_plugin.get_or_insert(binary_name);
            }
            Err(e) => {
                return Err(RecipientError::Unwrap { cause: e.to_string() });
            }
        }
    }

    match decryptor.decrypt(candidates.iter().map(|i| i.as_ref())) {
        Ok(reader) => Ok(Some(reader)),
        Err(DecryptError::NoMatchingKeys) => match missing_plugin {
            Some(binary_name) => Err(RecipientError::PluginMissing { binary_name }),
            None => Ok(None),
        },
        Err(
            e @ (DecryptError::InvalidHeader
            | DecryptError::InvalidMac
            | DecryptError::DecryptionFailed
            | DecryptError::UnknownFormat
            | DecryptError::Io(_)),
        ) => Err(malformed(e)),
        Err(e) => Err(RecipientError::Unwrap { cause: e.to_string() }),
    }
}

/// Lets plugins talk to the user: messages on stderr, questions on the terminal.
#[derive(Clone, Copy)]
struct TerminalCallbacks;

/// Asks `prompt` on the terminal and returns the line typed, or `None` without a terminal.
fn ask_terminal(prompt: &str) -> Option<String> {
    let mut tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").ok()?;
    tty.write_all(prompt.as_bytes()).ok()?;
    tty.flush().ok()?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(tty), &mut line).ok()?;
    Some(line.trim_end_matches(['\r', '\n']).to_owned())
}

impl age::Callbacks for TerminalCallbacks {
    fn display_message(&self, message: &str) {
        eprintln!("{message}");
    }

    fn confirm(&self, message: &str, yes_string: &str, no_string: Option<&str>) -> Option<bool> {
        let no = no_string.unwrap_or("no");
        loop {
            let answer = ask_terminal(&format!("{message} [{yes_string}/{no}]: "))?;
            if answer.eq_ignore_ascii_case(yes_string) {
                return Some(true);
            }
            if answer.eq_ignore_ascii_case(no) {
                return Some(false);
            }
        }
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        ask_terminal(&format!("{description} "))
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        rpassword::prompt_password(format!("{description} ")).ok().map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;
    use std::process::Command;

    fn identity_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn x25519_pair() -> (String, String) {
        let identity = age::x25519::Identity::generate();
        (identity.to_string().expose_secret().to_owned(), identity.to_public().to_string())
    }

    /// A Bech32 string (for plugin recipients, which need a plugin binary to be made).
    fn bech32(hrp: &str, data: &[u8]) -> String {
        const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
        fn polymod(values: &[u8]) -> u32 {
            const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
            let mut chk = 1u32;
            for &v in values {
                let top = chk >> 25;
                chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
                for (i, g) in GEN.iter().enumerate() {
                    if (top >> i) & 1 == 1 {
                        chk ^= g;
                    }
                }
            }
            chk
        }
        let mut five = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for &byte in data {
            acc = (acc << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                five.push(((acc >> bits) & 31) as u8);
            }
        }
        if bits > 0 {
            five.push(((acc << (5 - bits)) & 31) as u8);
        }
        let mut values: Vec<u8> = hrp.bytes().map(|b| b >> 5).collect();
        values.push(0);
        values.extend(hrp.bytes().map(|b| b & 31));
        values.extend(&five);
        values.extend([0; 6]);
        let checksum = polymod(&values) ^ 1;
        five.extend((0..6).map(|i| ((checksum >> (5 * (5 - i))) & 31) as u8));
        let mut out = format!("{hrp}1");
        out.extend(five.iter().map(|&v| CHARSET[v as usize] as char));
        out
    }

    #[test]
    fn wrap_unwrap_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (secret_key, public) = x25519_pair();
        let path = identity_file(dir.path(), "id.txt", &format!("{secret_key}\n"));
        let identities = read_identity_file(&path, None).unwrap();
        let recipient = parse_recipient(&public).unwrap();
        assert_eq!(recipient.text(), public);

        let secret = b"32 bytes of store key material!!";
        let wrapped = wrap(&recipient, secret).unwrap();
        assert!(wrapped.starts_with(b"age-encryption.org/v1\n"));
        let unwrapped = unwrap(&identities, &wrapped).unwrap().unwrap();
        assert_eq!(&unwrapped[..], &secret[..]);
        // Wrapping again gives another file (fresh file key), same secret.
        let again = wrap(&recipient, secret).unwrap();
        assert_ne!(again, wrapped);
        assert_eq!(&unwrap(&identities, &again).unwrap().unwrap()[..], &secret[..]);
        // Empty secrets are fine too.
        let empty = wrap(&recipient, b"").unwrap();
        assert!(unwrap(&identities, &empty).unwrap().unwrap().is_empty());
    }

    #[test]
    fn another_identity_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        let (_, public) = x25519_pair();
        let (other_key, _) = x25519_pair();
        let path = identity_file(dir.path(), "other.txt", &other_key);
        let identities = read_identity_file(&path, None).unwrap();
        let wrapped = wrap(&parse_recipient(&public).unwrap(), b"secret").unwrap();
        assert!(unwrap(&identities, &wrapped).unwrap().is_none());
    }

    #[test]
    fn damaged_files_never_give_a_wrong_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (secret_key, public) = x25519_pair();
        let identities = read_identity_file(&identity_file(dir.path(), "id", &secret_key), None).unwrap();
        let secret = b"the secret";
        let wrapped = wrap(&parse_recipient(&public).unwrap(), secret).unwrap();

        for len in 0..wrapped.len() {
            match unwrap(&identities, &wrapped[..len]) {
                Err(_) | Ok(None) => {}
                Ok(Some(got)) => panic!("truncated to {len} bytes gave {got:?}"),
            }
        }
        for i in 0..wrapped.len() {
            for bit in [0x01, 0x20, 0x80] {
                let mut altered = wrapped.clone();
                altered[i] ^= bit;
                if let Ok(Some(got)) = unwrap(&identities, &altered) {
                    assert_eq!(&got[..], &secret[..], "byte {i} bit {bit:#x} altered");
                }
            }
        }
        // Not an age file at all.
        let err = unwrap(&identities, b"hello").unwrap_err();
        assert!(matches!(err, RecipientError::Malformed { .. }), "{err:?}");
        assert!(err.to_string().starts_with("the wrapped key is damaged or is not an age file"), "{err}");
    }

    #[test]
    fn malformed_recipients_are_clear_errors() {
        let (secret_key, public) = x25519_pair();
        let mut typo = public.clone();
        let last = typo.pop().unwrap();
        typo.push(if last == 'q' { 'p' } else { 'q' });
        for bad in [typo.as_str(), "age1", "", "hello", "ssh-ed25519 AAAA!!!"] {
            let err = parse_recipient(bad).unwrap_err();
            assert!(matches!(err, RecipientError::InvalidRecipient { .. }), "{bad}: {err:?}");
            assert!(err.to_string().starts_with("not a recipient ("), "{err}");
        }
        let err = parse_recipient(&typo).unwrap_err();
        assert!(err.to_string().contains("mistyped"), "{err}");

        // A secret key given as a recipient is recognised and not echoed.
        let err = parse_recipient(&secret_key).unwrap_err();
        assert!(matches!(err, RecipientError::IdentityGivenAsRecipient));
        assert!(!format!("{err} {err:?}").contains(&secret_key[15..]));

        // Upper case and surrounding blanks are accepted; the text is canonical.
        let parsed = parse_recipient(&format!("  {}\n", public.to_uppercase())).unwrap();
        assert_eq!(parsed.text(), public);
    }

    #[test]
    fn ssh_recipients_and_identities() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_ed25519");
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "me@host", "-f"])
            .arg(&key)
            .status()
            .expect("cannot run ssh-keygen (install openssh-client)");
        assert!(status.success());
        let line = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let recipient = parse_recipient(&line).unwrap();
        let canonical: Vec<&str> = line.split_whitespace().take(2).collect();
        assert_eq!(recipient.text(), canonical.join(" "));

        let identities = read_identity_file(&key, None).unwrap();
        assert_eq!(recipients_of(&identities), vec![recipient.text().to_owned()]);
        let wrapped = wrap(&recipient, b"via ssh").unwrap();
        assert_eq!(&unwrap(&identities, &wrapped).unwrap().unwrap()[..], b"via ssh");

        // An ssh identity does not open a file for an X25519 recipient.
        let (_, public) = x25519_pair();
        let other = wrap(&parse_recipient(&public).unwrap(), b"x").unwrap();
        assert!(unwrap(&identities, &other).unwrap().is_none());

        // Debug shows no key material.
        let debug = format!("{identities:?}");
        assert!(debug.contains("ssh: 1") && !debug.contains("BEGIN"), "{debug}");

        // A passphrase-protected key is refused clearly.
        let locked = dir.path().join("locked");
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "a passphrase", "-f"])
            .arg(&locked)
            .status()
            .unwrap();
        assert!(status.success());
        let err = read_identity_file(&locked, None).unwrap_err();
        assert!(matches!(err, RecipientError::EncryptedSshKey { .. }), "{err:?}");
        // With its passphrase it opens, as the unprotected key would; a wrong one is refused.
        let given = |passphrase: &'static str| move |_: &Path| Some(Zeroizing::new(passphrase.to_string()));
        let opened = read_identity_file(&locked, Some(&given("a passphrase"))).unwrap();
        let public = std::fs::read_to_string(locked.with_extension("pub")).unwrap();
        assert_eq!(recipients_of(&opened), vec![public.split_whitespace().take(2).collect::<Vec<_>>().join(" ")]);
        let err = read_identity_file(&locked, Some(&given("not it"))).unwrap_err();
        assert!(matches!(err, RecipientError::WrongSshPassphrase { .. }), "{err:?}");
        let err = read_identity_file(&locked, Some(&|_: &Path| None)).unwrap_err();
        assert!(matches!(err, RecipientError::EncryptedSshKey { .. }), "{err:?}");
        // Its recipient needs no passphrase.
        assert_eq!(recipients_of_file(&locked).unwrap(), recipients_of(&opened));

        // Unsupported ssh recipient kinds.
        let ecdsa = dir.path().join("ecdsa");
        let status =
            Command::new("ssh-keygen").args(["-q", "-t", "ecdsa", "-N", "", "-f"]).arg(&ecdsa).status().unwrap();
        assert!(status.success());
        let line = std::fs::read_to_string(ecdsa.with_extension("pub")).unwrap();
        let err = parse_recipient(&line).unwrap_err();
        assert!(matches!(err, RecipientError::UnsupportedSshKey { .. }), "{err:?}");
    }

    #[test]
    fn comments_and_blank_lines_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let (a_key, a_public) = x25519_pair();
        let (b_key, b_public) = x25519_pair();
        let text = format!(
            "# created: 2024-01-01T00:00:00Z\n# public key: {a_public}\n{a_key}\n\n   \n\
             # another\r\n{b_key}\r\n"
        );
        let identities = read_identity_file(&identity_file(dir.path(), "ids", &text), None).unwrap();
        assert_eq!(recipients_of(&identities), vec![a_public.clone(), b_public.clone()]);
        let wrapped = wrap(&parse_recipient(&b_public).unwrap(), b"b's").unwrap();
        assert_eq!(&unwrap(&identities, &wrapped).unwrap().unwrap()[..], b"b's");
        let debug = format!("{identities:?}");
        assert!(debug.contains("x25519: 2"), "{debug}");
        assert!(!debug.contains(&a_key[15..]) && !debug.contains(&b_key[15..]));
    }

    #[test]
    fn files_without_identities_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (secret_key, public) = x25519_pair();

        let empty = identity_file(dir.path(), "empty", "# nothing here\n\n");
        let err = read_identity_file(&empty, None).unwrap_err();
        assert!(matches!(err, RecipientError::NoIdentity { .. }), "{err:?}");
        assert!(err.to_string().ends_with("contains no identity"), "{err}");

        let recipients = identity_file(dir.path(), "recipients", &format!("{public}\n"));
        let err = read_identity_file(&recipients, None).unwrap_err();
        assert!(matches!(err, RecipientError::BadIdentityLine { line: 1, looks_like_recipient: true, .. }), "{err:?}");
        assert!(err.to_string().contains("looks like a recipient"), "{err}");

        // A bad line is named by number; the file's lines are never echoed.
        let garbage = format!("{secret_key}\nnot a key {secret_key}x\n");
        let err = read_identity_file(&identity_file(dir.path(), "garbage", &garbage), None).unwrap_err();
        assert!(matches!(err, RecipientError::BadIdentityLine { line: 2, .. }), "{err:?}");
        assert!(!format!("{err} {err:?}").contains(&secret_key[15..]));

        let err = read_identity_file(&dir.path().join("absent"), None).unwrap_err();
        assert!(matches!(err, RecipientError::ReadIdentityFile { .. }), "{err:?}");

        let binary = dir.path().join("binary");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        let err = read_identity_file(&binary, None).unwrap_err();
        assert!(matches!(err, RecipientError::IdentityFileNotText { .. }), "{err:?}");

        let bad_pem = identity_file(dir.path(), "pem", "-----BEGIN NONSENSE-----\nabc\n");
        let err = read_identity_file(&bad_pem, None).unwrap_err();
        assert!(matches!(err, RecipientError::BadSshKey { .. }), "{err:?}");
    }

    #[test]
    fn plugin_recipients_and_identities_need_their_binary() {
        let dir = tempfile::tempdir().unwrap();
        let text = bech32("age1chenillestest", &[7; 33]);
        let recipient = parse_recipient(&text.to_uppercase()).unwrap();
        assert_eq!(recipient.text(), text);
        let err = wrap(&recipient, b"secret").unwrap_err();
        match &err {
            RecipientError::PluginMissing { binary_name } => {
                assert_eq!(binary_name, "age-plugin-chenillestest")
            }
            other => panic!("expected PluginMissing, got {other:?}"),
        }
        assert!(err.to_string().contains("is not on PATH"), "{err}");

        // A file holding a plugin identity and an X25519 one: the X25519 one still works, and
        // the missing plugin is reported only when nothing else matched.
        let plugin_identity = age::plugin::Identity::default_for_plugin("chenillestest");
        let (secret_key, public) = x25519_pair();
        let path = identity_file(dir.path(), "mixed", &format!("{plugin_identity}\n{secret_key}\n"));
        let identities = read_identity_file(&path, None).unwrap();
        assert!(format!("{identities:?}").contains("chenillestest"));
        assert_eq!(recipients_of(&identities), vec![public.clone()]);
        let wrapped = wrap(&parse_recipient(&public).unwrap(), b"ok").unwrap();
        assert_eq!(&unwrap(&identities, &wrapped).unwrap().unwrap()[..], b"ok");
        let (_, stranger) = x25519_pair();
        let other = wrap(&parse_recipient(&stranger).unwrap(), b"no").unwrap();
        let err = unwrap(&identities, &other).unwrap_err();
        assert!(matches!(err, RecipientError::PluginMissing { .. }), "{err:?}");

        // Plugin identities only.
        let only = identity_file(dir.path(), "plugin", &format!("{plugin_identity}\n"));
        let identities = read_identity_file(&only, None).unwrap();
        assert!(recipients_of(&identities).is_empty());
    }
}
