//! Ports: where `display`, `write` and friends send characters, and where `read-char` gets them.

/// A port object's state. The console ports write through the runtime's output sinks.
#[derive(Debug)]
pub enum Port {
    Stdout,
    Stderr,
    /// `open-output-string`: the text written so far.
    StringOutput(String),
    /// `open-input-string`: the characters and the read position.
    StringInput {
        chars: Vec<char>,
        position: usize,
        /// Whether `read` has met `#!fold-case` (and not `#!no-fold-case` since) in this port.
        fold_case: bool,
    },
    /// `open-output-bytevector`.
    BytesOutput(Vec<u8>),
    /// `open-input-bytevector`.
    BytesInput {
        bytes: Vec<u8>,
        position: usize,
    },
    /// `open-output-file`.
    FileOutput {
        path: String,
        file: std::io::BufWriter<std::fs::File>,
    },
    /// A closed port of either direction.
    Closed {
        input: bool,
    },
}

impl Port {
    pub fn is_input(&self) -> bool {
        matches!(self, Port::StringInput { .. } | Port::BytesInput { .. } | Port::Closed { input: true })
    }

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

    pub fn is_textual(&self) -> bool {
        !matches!(self, Port::BytesInput { .. } | Port::BytesOutput(_))
    }
}
