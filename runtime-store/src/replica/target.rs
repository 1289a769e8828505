//! Where replicas live: the [`ReplicaTarget`] trait, and the targets this crate knows (a
//! directory; the CAR archive is in `car_archive.rs`).
//!
//! A target keeps immutable objects under names: packs (`packs/HASH.car`, each named by the
//! blake3 of its bytes) and signed root records (`roots/SEQ-HASH.root`). A put of a name that is
//! there already changes nothing; a put returns once the object is durable at the target.

use std::io::Write;
use std::path::{Path, PathBuf};

/// What a replica target may fail with. Every variant says which target.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ReplicaError {
    /// The target could not be reached or refused the request (a network error, a server
    /// error, a missing directory): worth trying again later.
    #[error("{target}: {cause}")]
    Unavailable {
        /// The target, for people.
        target: String,
        /// Why.
        cause: String,
    },
    /// The target's address cannot be understood.
    #[error("{target:?} is not a replica target: {cause}")]
    BadTarget {
        /// The address given.
        target: String,
        /// Why.
        cause: String,
    },
}

/// A place that keeps a replica's objects: a directory, an S3 bucket, a CAR archive, an IPFS
/// node. Objects never change once put; names are made by the replication code (`packs/…`,
/// `roots/…`), never by people.
pub trait ReplicaTarget: Send + Sync {
    /// The target, for people: `directory /media/usb/backup`, `s3://bucket/prefix`.
    fn describe(&self) -> String;
    /// Stores `bytes` under `name`, durably when it returns. Putting a name that is there already
    /// (with the same bytes: names are hashes of them) changes nothing.
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), ReplicaError>;
    /// The object named `name`, if the target has it.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, ReplicaError>;
    /// Whether the target has an object named `name`.
    fn has(&self, name: &str) -> Result<bool, ReplicaError> {
        Ok(self.get(name)?.is_some())
    }
    /// The names of every object whose name begins with `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, ReplicaError>;
    /// Prepares the target when a replica is added (a directory is made there): afterwards a
    /// target that is not where it was (a disk not mounted) is an error, never a new replica
    /// made elsewhere.
    fn init(&self) -> Result<(), ReplicaError> {
        Ok(())
    }
}

/// A replica in a directory: a mounted disk, a network share, another local disk. Objects are
/// files under it (`packs/…`, `roots/…`), each written to a temporary name, synced, then renamed,
/// so a crash leaves either the whole object or none.
#[derive(Debug, Clone)]
pub struct DirectoryTarget {
    root: PathBuf,
}

impl DirectoryTarget {
    /// The replica in directory `root` (made, with its parents, at the first put).
    pub fn new(root: impl Into<PathBuf>) -> DirectoryTarget {
        DirectoryTarget { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn unavailable(&self, what: &str, error: &std::io::Error) -> ReplicaError {
        ReplicaError::Unavailable { target: self.describe(), cause: format!("{what}: {error}") }
    }

    /// The file of object `name`; names with anything but plain segments are refused.
    fn file(&self, name: &str) -> Result<PathBuf, ReplicaError> {
        let plain = !name.is_empty()
            && name.split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            });
        if !plain {
            return Err(ReplicaError::BadTarget {
                target: self.describe(),
                cause: format!("{name:?} is not an object name"),
            });
        }
        Ok(self.root.join(name))
    }
}

impl ReplicaTarget for DirectoryTarget {
    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }

    fn init(&self) -> Result<(), ReplicaError> {
        std::fs::create_dir_all(&self.root).map_err(|e| self.unavailable("cannot make the directory", &e))
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), ReplicaError> {
        let file = self.file(name)?;
        if file.exists() {
            return Ok(());
        }
        if !self.root.is_dir() {
            return Err(ReplicaError::Unavailable {
                target: self.describe(),
                cause: "the directory is not there (a disk not mounted?)".to_string(),
            });
        }
        let dir = file.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(|e| self.unavailable("cannot make the directory", &e))?;
        let temporary = dir.join(format!(
            ".{}.partial-{}-{}",
            file.file_name().and_then(|n| n.to_str()).unwrap_or("object"),
            std::process::id(),
            fastrand_suffix()
        ));
        let written = (|| {
            let mut out = std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary)?;
            out.write_all(bytes)?;
            out.sync_all()?;
            std::fs::rename(&temporary, &file)?;
            std::fs::File::open(dir)?.sync_all()
        })();
        if let Err(error) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(self.unavailable(&format!("cannot write {name}"), &error));
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, ReplicaError> {
        match std::fs::read(self.file(name)?) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.unavailable(&format!("cannot read {name}"), &error)),
        }
    }

    fn has(&self, name: &str) -> Result<bool, ReplicaError> {
        Ok(self.file(name)?.is_file())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, ReplicaError> {
        // Names have at most one `/` (`packs/…`, `roots/…`): list the prefix's directory.
        let (dir, start) = match prefix.rsplit_once('/') {
            Some((dir, start)) => (self.root.join(dir), (format!("{dir}/"), start)),
            None => (self.root.clone(), (String::new(), prefix)),
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if self.root.is_dir() {
                    return Ok(Vec::new());
                }
                return Err(self.unavailable("the directory is not there (a disk not mounted?)", &error));
            }
            Err(error) => return Err(self.unavailable("cannot list it", &error)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.unavailable("cannot list it", &e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
            if name.starts_with('.') || !name.starts_with(start.1) {
                continue;
            }
            if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                names.push(format!("{}{name}", start.0));
            }
        }
        names.sort();
        Ok(names)
    }
}

/// A few random hex digits for a temporary file's name.
fn fastrand_suffix() -> String {
    let mut bytes = [0u8; 6];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
