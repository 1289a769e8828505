//! What may name a durable process: its name is part of the refs of its record and mailbox
//! (`process/NAME`, `mailbox/NAME`), is printed in listings, and is typed on command lines.

/// The longest name, in bytes.
pub const MAX_NAME_BYTES: usize = 200;

/// Why a string cannot name a process.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty.
    #[error("a process name cannot be empty")]
    Empty,
    /// The name holds a control character.
    #[error("the process name {0:?} holds a control character")]
    Control(String),
    /// The name holds a `/`.
    #[error("the process name {0:?} holds a `/`")]
    Slash(String),
    /// The name is too long.
    #[error("the process name {name:?} is longer than {MAX_NAME_BYTES} bytes", name = .0.chars().take(40).collect::<String>())]
    TooLong(String),
}

/// Checks that `name` can name a process: not empty, at most [`MAX_NAME_BYTES`], no control
/// characters (they would forge lines in listings and terminals), no `/` (it separates the parts
/// of ref names).
pub fn check(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        Err(NameError::Empty)
    } else if name.len() > MAX_NAME_BYTES {
        Err(NameError::TooLong(name.to_string()))
    } else if name.chars().any(char::is_control) {
        Err(NameError::Control(name.to_string()))
    } else if name.contains('/') {
        Err(NameError::Slash(name.to_string()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_printable_one_part_and_short() {
        for good in ["alice", "payment-channel-2", "bob's escrow", "été", "a.b"] {
            assert_eq!(check(good), Ok(()), "{good:?}");
        }
        assert_eq!(check(""), Err(NameError::Empty));
        assert!(matches!(check("a\nb"), Err(NameError::Control(_))));
        assert!(matches!(check("a\u{1b}[2Jb"), Err(NameError::Control(_))));
        assert!(matches!(check("a\u{85}"), Err(NameError::Control(_))));
        assert!(matches!(check("a/b"), Err(NameError::Slash(_))));
        assert!(matches!(check(&"x".repeat(MAX_NAME_BYTES + 1)), Err(NameError::TooLong(_))));
    }
}
