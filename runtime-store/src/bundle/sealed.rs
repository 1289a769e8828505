//! Sealed bundles: a bundle inside an age file, readable only with the identity of one of the
//! recipients it was sealed to; and the age identities an encrypted store keeps so that bundles
//! sealed to it can be imported into it.
//!
//! The age format (<https://age-encryption.org/v1>) is the envelope because every age tool reads
//! it: `age -d -i KEY bundle.age` gives the plain bundle back. Its payload is authenticated in
//! 64 KiB chunks, the last one marked as last, so a sealed bundle that is damaged, cut short or
//! extended is refused before anything of it is committed (the plain bundle inside is read whole
//! and checked as ever).

use std::io::{self, Read, Write};

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::{Bundle, GetBlob, Plan};
use crate::keys::recipient::{self, Identities, ParsedRecipient, RecipientError};
use crate::{BundleSummary, StoreError};

/// How an age file begins (binary, then armored): the first bytes [`looks_sealed`] compares.
const AGE_BINARY: &[u8] = b"age-encryption.org/v1\n";
const AGE_ARMORED: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// Whether a bundle beginning with `prefix` is an age file rather than a plain bundle.
pub(super) fn looks_sealed(prefix: &[u8]) -> bool {
    !prefix.is_empty() && (AGE_BINARY.starts_with(prefix) || AGE_ARMORED.starts_with(prefix))
}

/// The age X25519 identities an encrypted store keeps for bundles: the first is the store's
/// current one (what bundles of the store are sealed to); the others are those it had before
/// `store rotate`s, kept so that bundles sealed earlier still import. Zeroed when dropped (the
/// age crate zeroes its keys); never printed.
pub(crate) struct BundleKeys {
    keys: Vec<age::x25519::Identity>,
}

impl std::fmt::Debug for BundleKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BundleKeys({} keys)", self.keys.len())
    }
}

impl BundleKeys {
    /// One new identity.
    pub(crate) fn generate() -> BundleKeys {
        BundleKeys { keys: vec![age::x25519::Identity::generate()] }
    }

    /// A new current identity, the ones before kept for import.
    pub(crate) fn rotated(&self) -> BundleKeys {
        let mut keys = vec![age::x25519::Identity::generate()];
        keys.extend(self.keys.iter().cloned());
        BundleKeys { keys }
    }

    /// The identities, one `AGE-SECRET-KEY-1...` line each, current first.
    pub(crate) fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut text = Zeroizing::new(Vec::new());
        for key in &self.keys {
            text.extend_from_slice(key.to_string().expose_secret().as_bytes());
            text.push(b'\n');
        }
        text
    }

    /// The identities [`BundleKeys::encode`] wrote; `None` if any line is not one.
    pub(crate) fn decode(bytes: &[u8]) -> Option<BundleKeys> {
        let text = std::str::from_utf8(bytes).ok()?;
        let keys = text.lines().map(|line| line.parse::<age::x25519::Identity>().ok()).collect::<Option<Vec<_>>>()?;
        (!keys.is_empty()).then_some(BundleKeys { keys })
    }

    /// The recipient of the current identity (`age1...`).
    pub(crate) fn recipient(&self) -> String {
        self.keys.first().map(|key| key.to_public().to_string()).unwrap_or_default()
    }

    /// Every identity, current first.
    pub(crate) fn identities(&self) -> &[age::x25519::Identity] {
        &self.keys
    }
}

/// A writer that counts what passes through it.
struct Counting<'w> {
    inner: &'w mut dyn Write,
    written: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn bundle_io(error: impl std::fmt::Display) -> StoreError {
    StoreError::BundleIo { cause: error.to_string() }
}

/// Parses the recipients a bundle is to be sealed to, naming the one that is wrong.
pub(crate) fn parse_recipients(texts: &[String]) -> Result<Vec<ParsedRecipient>, StoreError> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            recipient::parse_recipient(text).map_err(|e| bundle_io(format!("recipient {} ({text:?}) {e}", i + 1)))
        })
        .collect()
}

/// Writes the bundle `plan` describes, sealed to every one of `recipients` (at least one).
/// `summary.bytes` is the length of the sealed file.
pub(crate) fn export_sealed(
    plan: Plan,
    get: GetBlob<'_>,
    recipients: &[ParsedRecipient],
    writer: &mut dyn Write,
) -> Result<BundleSummary, StoreError> {
    if recipients.is_empty() {
        return Err(bundle_io("a sealed bundle needs at least one recipient"));
    }
    let encryptor = recipient::encryptor(recipients).map_err(bundle_io)?;
    let mut counting = Counting { inner: writer, written: 0 };
    let mut stream = encryptor.wrap_output(&mut counting).map_err(bundle_io)?;
    let mut summary = super::write(plan, get, &mut stream)?;
    stream.finish().map_err(bundle_io)?;
    counting.flush().map_err(bundle_io)?;
    summary.bytes = counting.written;
    summary.sealed = true;
    Ok(summary)
}

/// A reader that counts what it hands out.
struct CountingReader<'r> {
    inner: &'r mut dyn Read,
    read: u64,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Opens a sealed bundle with the first of `files`' identities or of `keys` it was sealed to,
/// and reads and checks the bundle inside whole. `summary.bytes` is the sealed file's length.
pub(super) fn read(
    reader: &mut dyn Read,
    files: &[&Identities],
    keys: &[age::x25519::Identity],
) -> Result<Bundle, StoreError> {
    if files.is_empty() && keys.is_empty() {
        return Err(StoreError::BundleLocked {
            cause: "no key was offered: import it into the encrypted store it was sealed to, or offer an \
                    identity of one of its recipients"
                .to_string(),
        });
    }
    let mut counting = CountingReader { inner: reader, read: 0 };
    let armored = age::armor::ArmoredReader::new(&mut counting);
    let stream = match recipient::decrypt(armored, files, keys) {
        Ok(Some(stream)) => stream,
        Ok(None) => {
            return Err(StoreError::BundleLocked {
                cause: "none of the keys offered opens it (it was sealed to other recipients)".to_string(),
            });
        }
        Err(RecipientError::Malformed { cause }) => {
            return Err(StoreError::BadBundle { cause: format!("the sealed bundle's age header is damaged: {cause}") });
        }
        Err(error) => return Err(StoreError::BundleLocked { cause: error.to_string() }),
    };
    let mut stream = stream;
    let mut bundle = super::read(&mut stream).map_err(|error| match error {
        StoreError::BadBundle { cause } => {
            StoreError::BadBundle { cause: format!("inside the sealed bundle: {cause}") }
        }
        other => other,
    })?;
    drop(stream);
    bundle.summary.bytes = counting.read;
    bundle.summary.sealed = true;
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_keys_round_trip_and_keep_older_keys_on_rotation() {
        let keys = BundleKeys::generate();
        let again = BundleKeys::decode(&keys.encode()).unwrap();
        assert_eq!(again.recipient(), keys.recipient());
        let rotated = keys.rotated();
        assert_ne!(rotated.recipient(), keys.recipient());
        let decoded = BundleKeys::decode(&rotated.encode()).unwrap();
        assert_eq!(decoded.identities().len(), 2);
        assert_eq!(decoded.identities()[1].to_public().to_string(), keys.recipient());
        assert!(BundleKeys::decode(b"").is_none());
        assert!(BundleKeys::decode(b"AGE-SECRET-KEY-1NOTAKEY\n").is_none());
    }

    #[test]
    fn only_age_files_look_sealed() {
        assert!(looks_sealed(b"age-encr"));
        assert!(looks_sealed(b"-----BEG"));
        assert!(!looks_sealed(b"\0CHNLBDL"));
        assert!(!looks_sealed(b""));
        assert!(!looks_sealed(b"age-encX"));
    }
}
