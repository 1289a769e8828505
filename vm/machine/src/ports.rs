//! Ports: where `display`, `write` and friends send characters, and where `read-char` gets them.

/// A port object's state. The console ports write through the runtime's output sinks.
#[derive(Debug)]
pub enum Port {
    /// The standard output port.
    Stdout,
    /// The standard error port.
    Stderr,
    /// `open-output-string`: the text written so far.
    StringOutput(String),
    /// `open-input-string`: the characters and the read position.
    StringInput {
        /// The characters.
        chars: Vec<char>,
        /// The read position.
        position: usize,
        /// Whether `read` has met `#!fold-case` (and not `#!no-fold-case` since) in this port.
        fold_case: bool,
    },
    /// `open-output-bytevector`.
    BytesOutput(Vec<u8>),
    /// `open-input-bytevector`.
    BytesInput {
        /// The bytes.
        bytes: Vec<u8>,
        /// The read position.
        position: usize,
    },
    /// `open-output-file`.
    FileOutput {
        /// The file's path, as given.
        path: String,
        /// The file, and what was written to it.
        file: OutputFile,
    },
    /// A closed port of either direction.
    Closed {
        /// Whether it was an input port.
        input: bool,
    },
}

impl Port {
    /// Whether it is (or was, closed) an input port.
    pub fn is_input(&self) -> bool {
        matches!(self, Port::StringInput { .. } | Port::BytesInput { .. } | Port::Closed { input: true })
    }

    /// Whether it is (or was, closed) an output port.
    pub fn is_output(&self) -> bool {
        matches!(
            self,
            Port::Stdout
                | Port::Stderr
                | Port::StringOutput(_)
                | Port::BytesOutput(_)
                | Port::FileOutput { .. }
                | Port::Closed { input: false }
        )
    }

    /// Whether it is a textual port (not a bytevector port).
    pub fn is_textual(&self) -> bool {
        !matches!(self, Port::BytesInput { .. } | Port::BytesOutput(_))
    }
}

/// The file an output port writes, with the length and a running blake3 hash of everything written
/// through the port: a checkpoint records both, and a resume reopens the file only if it still holds
/// exactly those bytes (a file truncated, deleted or edited while the process was down is an error,
/// never continued into a corrupt file).
pub struct OutputFile {
    sink: Sink,
    written: u64,
    /// Boxed: a hasher is about 2 KB, and ports live in every heap page's enum.
    hasher: Box<blake3::Hasher>,
}

enum Sink {
    Disk(std::io::BufWriter<std::fs::File>),
    /// Writes are counted and hashed, and go nowhere: a process restored for inspection or replay
    /// must never touch the file the running process owns.
    Nowhere,
}

impl std::fmt::Debug for OutputFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sink = match self.sink {
            Sink::Disk(_) => "disk",
            Sink::Nowhere => "nowhere",
        };
        f.debug_struct("OutputFile").field("sink", &sink).field("written", &self.written).finish()
    }
}

/// How a restored output port reaches its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAccess {
    /// Reopen the file, check it, and cut it back to what the checkpoint recorded (a resume).
    Reopen,
    /// Leave the file alone: writes are counted and hashed only (inspection, replay).
    Detached,
}

impl OutputFile {
    /// A port's file just created (empty).
    pub fn created(file: std::fs::File) -> OutputFile {
        OutputFile { sink: Sink::Disk(std::io::BufWriter::new(file)), written: 0, hasher: Box::default() }
    }

    /// A port that writes nowhere (a process replayed opens its files so).
    pub fn nowhere() -> OutputFile {
        OutputFile { sink: Sink::Nowhere, written: 0, hasher: Box::default() }
    }

    /// Flushes the file and returns what it must hold now: its length and the blake3 hash of its
    /// bytes.
    pub fn checkpoint(&mut self) -> std::io::Result<(u64, [u8; 32])> {
        std::io::Write::flush(self)?;
        Ok((self.written, *self.hasher.finalize().as_bytes()))
    }

    /// The port's file as a checkpoint left it: `length` bytes hashing to `digest`. With
    /// [`FileAccess::Reopen`], the file at `path` must hold at least that many bytes and begin with
    /// exactly them (it is read to check); what follows them, written after the checkpoint by a
    /// run that crashed, is cut off. The error says what is wrong with the file.
    pub fn restore(path: &str, length: u64, digest: [u8; 32], access: FileAccess) -> Result<OutputFile, String> {
        use std::io::{Read, Seek, SeekFrom};
        if access == FileAccess::Detached {
            // A detached process is looked at, never committed: the running hash cannot be taken
            // up from a digest without reading the file, so it goes on from the digest itself.
            let mut hasher = Box::<blake3::Hasher>::default();
            hasher.update(&digest);
            return Ok(OutputFile { sink: Sink::Nowhere, written: length, hasher });
        }
        let not_what_it_left = |what: String| {
            format!(
                "the output file {path} is not what the process left ({what}); it was left as it is. \
                 Put back the file the process was writing ({length} bytes) to resume it"
            )
        };
        let mut file = match std::fs::OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(not_what_it_left("it is gone".to_string()));
            }
            Err(error) => return Err(format!("cannot reopen output file {path}: {error}")),
        };
        let found = file.metadata().map_err(|e| format!("cannot reopen output file {path}: {e}"))?.len();
        if found < length {
            return Err(not_what_it_left(format!("it holds {found} bytes, fewer than the {length} written")));
        }
        let mut hasher = Box::<blake3::Hasher>::default();
        let mut prefix = (&mut file).take(length);
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = prefix.read(&mut buffer).map_err(|e| format!("cannot read output file {path}: {e}"))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        if *hasher.finalize().as_bytes() != digest {
            return Err(not_what_it_left(format!("its first {length} bytes are not those the process wrote")));
        }
        let cut = file.set_len(length).and_then(|()| file.seek(SeekFrom::Start(length)));
        cut.map_err(|e| format!("cannot reopen output file {path}: {e}"))?;
        Ok(OutputFile { sink: Sink::Disk(std::io::BufWriter::new(file)), written: length, hasher })
    }
}

impl std::io::Write for OutputFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = match &mut self.sink {
            Sink::Disk(file) => file.write(bytes)?,
            Sink::Nowhere => bytes.len(),
        };
        self.hasher.update(&bytes[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Disk(file) => file.flush(),
            Sink::Nowhere => Ok(()),
        }
    }
}
