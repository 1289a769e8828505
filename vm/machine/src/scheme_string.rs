//! Scheme strings: mutable, fixed-length sequences of characters with constant-time indexing.
//!
//! A string whose characters are all below U+0100 (Latin-1: all of ASCII, which is what programs
//! mostly hold) takes one byte per character; any other takes four. The representation is
//! *canonical*: a string is [`SchemeString::Wide`] exactly when one of its characters is U+0100 or
//! above, whatever mutations led there. So two equal strings have equal representations, a
//! restored string (the snapshot stores UTF-8) is built as the original was, and the memory a
//! string is charged for never depends on its history.

use std::hash::{Hash, Hasher};

// A string fits in two words, so that a heap object fits in three.
const _: () = assert!(std::mem::size_of::<SchemeString>() == 16);

/// The first character a narrow string cannot hold.
const WIDE: u32 = 0x100;

/// A Scheme string's characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeString {
    /// Every character is below U+0100; byte `b` is character U+00`b`.
    Narrow(Box<[u8]>),
    /// At least one character is U+0100 or above. (Boxed twice: a thin pointer keeps a string,
    /// and so a heap object, small; wide strings are rare.)
    Wide(Box<Box<[char]>>),
}

fn is_narrow(c: char) -> bool {
    (c as u32) < WIDE
}

/// The narrow byte of a character below U+0100.
fn narrow_byte(c: char) -> u8 {
    debug_assert!(is_narrow(c));
    c as u32 as u8
}

impl SchemeString {
    /// The string of `chars`.
    pub fn from_chars(chars: impl IntoIterator<Item = char>) -> SchemeString {
        let chars = chars.into_iter();
        let mut bytes = Vec::with_capacity(chars.size_hint().0);
        let mut chars = chars.peekable();
        while let Some(&c) = chars.peek() {
            if !is_narrow(c) {
                let wide: Vec<char> = bytes.iter().map(|&b| char::from(b)).chain(chars).collect();
                return SchemeString::Wide(Box::new(wide.into()));
            }
            bytes.push(narrow_byte(c));
            chars.next();
        }
        SchemeString::Narrow(bytes.into())
    }

    /// The string of `text`'s characters.
    pub fn from_text(text: &str) -> SchemeString {
        if text.is_ascii() {
            return SchemeString::Narrow(text.as_bytes().into());
        }
        SchemeString::from_chars(text.chars())
    }

    /// The strings one after another.
    pub fn concat(parts: &[&SchemeString]) -> SchemeString {
        let len = parts.iter().map(|p| p.len()).sum();
        if parts.iter().all(|p| matches!(p, SchemeString::Narrow(_))) {
            let mut bytes = Vec::with_capacity(len);
            for part in parts {
                if let SchemeString::Narrow(b) = part {
                    bytes.extend_from_slice(b);
                }
            }
            return SchemeString::Narrow(bytes.into());
        }
        let mut chars = Vec::with_capacity(len);
        for part in parts {
            chars.extend(part.chars());
        }
        SchemeString::Wide(Box::new(chars.into()))
    }

    /// `n` copies of `c`.
    pub fn filled(n: usize, c: char) -> SchemeString {
        if is_narrow(c) {
            SchemeString::Narrow(vec![narrow_byte(c); n].into())
        } else {
            SchemeString::Wide(Box::new(vec![c; n].into()))
        }
    }

    /// Its length in characters.
    pub fn len(&self) -> usize {
        match self {
            SchemeString::Narrow(bytes) => bytes.len(),
            SchemeString::Wide(chars) => chars.len(),
        }
    }

    /// Whether it holds no character.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the characters take.
    pub fn byte_size(&self) -> usize {
        match self {
            SchemeString::Narrow(bytes) => bytes.len(),
            SchemeString::Wide(chars) => chars.len() * 4,
        }
    }

    /// Character `k`, if there is one.
    pub fn get(&self, k: usize) -> Option<char> {
        match self {
            SchemeString::Narrow(bytes) => bytes.get(k).map(|&b| char::from(b)),
            SchemeString::Wide(chars) => chars.get(k).copied(),
        }
    }

    /// The characters of `start..end` (a range within the string).
    pub fn chars_in(&self, start: usize, end: usize) -> Chars<'_> {
        match self {
            SchemeString::Narrow(bytes) => Chars::Narrow(bytes[start..end].iter()),
            SchemeString::Wide(chars) => Chars::Wide(chars[start..end].iter()),
        }
    }

    /// Its characters, in order.
    pub fn chars(&self) -> Chars<'_> {
        self.chars_in(0, self.len())
    }

    /// The characters of `start..end` as a new string.
    pub fn substring(&self, start: usize, end: usize) -> SchemeString {
        match self {
            SchemeString::Narrow(bytes) => SchemeString::Narrow(bytes[start..end].into()),
            SchemeString::Wide(chars) => SchemeString::from_chars(chars[start..end].iter().copied()),
        }
    }

    /// Sets character `k`; `None` if `k` is out of range. Returns the number of characters it had
    /// to look at beyond `k` (a wide string made narrow again is scanned), for the step limit.
    pub fn set(&mut self, k: usize, c: char) -> Option<usize> {
        if k >= self.len() {
            return None;
        }
        Some(self.replace(k, std::iter::once(c)))
    }

    /// Overwrites the characters from `at` with `chars` (which must fit). Returns the characters
    /// looked at beyond those written, as [`SchemeString::set`] does.
    pub fn replace(&mut self, at: usize, chars: impl Iterator<Item = char> + Clone) -> usize {
        match self {
            SchemeString::Narrow(bytes) => {
                if chars.clone().all(is_narrow) {
                    for (slot, c) in bytes[at..].iter_mut().zip(chars) {
                        *slot = narrow_byte(c);
                    }
                    return 0;
                }
                let mut wide: Vec<char> = bytes.iter().map(|&b| char::from(b)).collect();
                for (slot, c) in wide[at..].iter_mut().zip(chars) {
                    *slot = c;
                }
                *self = SchemeString::Wide(Box::new(wide.into()));
                self.len()
            }
            SchemeString::Wide(wide) => {
                let mut overwrote_wide = false;
                for (slot, c) in wide[at..].iter_mut().zip(chars) {
                    overwrote_wide |= !is_narrow(*slot) && is_narrow(c);
                    *slot = c;
                }
                if !overwrote_wide || !wide.iter().copied().all(is_narrow) {
                    return if overwrote_wide { wide.len() } else { 0 };
                }
                let narrow: Vec<u8> = wide.iter().map(|&c| narrow_byte(c)).collect();
                *self = SchemeString::Narrow(narrow.into());
                self.len()
            }
        }
    }
}

impl std::fmt::Display for SchemeString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        match self {
            SchemeString::Narrow(bytes) if bytes.is_ascii() => {
                // ASCII bytes are UTF-8 already.
                f.write_str(std::str::from_utf8(bytes).map_err(|_| std::fmt::Error)?)
            }
            _ => self.chars().try_for_each(|c| f.write_char(c)),
        }
    }
}

impl Hash for SchemeString {
    /// Hashes exactly as the `[char]` of the same characters does: hash tables store their keys'
    /// hashes in snapshots, so a string's hash must not depend on how it is held.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        self.chars().for_each(|c| c.hash(state));
    }
}

/// The characters of a string, front to back or back to front.
#[derive(Clone)]
pub enum Chars<'a> {
    /// Over a string of Latin-1 characters, one byte each.
    Narrow(std::slice::Iter<'a, u8>),
    /// Over a string with wider characters.
    Wide(std::slice::Iter<'a, char>),
}

impl Iterator for Chars<'_> {
    type Item = char;

    #[inline]
    fn next(&mut self) -> Option<char> {
        match self {
            Chars::Narrow(bytes) => bytes.next().map(|&b| char::from(b)),
            Chars::Wide(chars) => chars.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.len();
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Chars<'_> {
    fn next_back(&mut self) -> Option<char> {
        match self {
            Chars::Narrow(bytes) => bytes.next_back().map(|&b| char::from(b)),
            Chars::Wide(chars) => chars.next_back().copied(),
        }
    }
}

impl ExactSizeIterator for Chars<'_> {
    fn len(&self) -> usize {
        match self {
            Chars::Narrow(bytes) => bytes.len(),
            Chars::Wide(chars) => chars.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canonical(s: &SchemeString) -> bool {
        matches!(s, SchemeString::Narrow(_)) == s.chars().all(is_narrow)
    }

    #[test]
    fn strings_are_narrow_exactly_when_every_character_is_below_u0100() {
        assert!(matches!(SchemeString::from_text("héllo"), SchemeString::Narrow(_)));
        assert!(matches!(SchemeString::from_text("hλ"), SchemeString::Wide(_)));
        assert_eq!(SchemeString::from_text("héllo λ").to_string(), "héllo λ");
        assert_eq!(SchemeString::from_text("héllo").to_string(), "héllo");
        assert_eq!(SchemeString::filled(3, 'ÿ').byte_size(), 3);
        assert_eq!(SchemeString::filled(3, 'Ā').byte_size(), 12);
    }

    #[test]
    fn a_string_hashes_as_its_characters_do() {
        use std::hash::BuildHasher;
        let state = std::hash::RandomState::new();
        for text in ["", "abc", "héllo", "hλ😀"] {
            let chars: Vec<char> = text.chars().collect();
            assert_eq!(state.hash_one(SchemeString::from_text(text)), state.hash_one(&chars[..]));
        }
    }

    #[test]
    fn mutation_widens_and_narrows_again() {
        let mut s = SchemeString::from_text("abc");
        assert_eq!(s.set(1, 'λ'), Some(3));
        assert_eq!(s, SchemeString::from_text("aλc"));
        assert_eq!(s.set(0, 'z'), Some(0));
        assert_eq!(s.set(1, 'b'), Some(3));
        assert_eq!(s, SchemeString::from_text("zbc"));
        assert!(matches!(s, SchemeString::Narrow(_)));
        assert_eq!(s.set(3, 'x'), None);
    }

    fn any_char() -> impl Strategy<Value = char> {
        prop_oneof![proptest::char::range('a', 'e'), proptest::char::range('\u{fe}', '\u{101}'), Just('😀')]
    }

    proptest! {
        /// Any sequence of writes leaves the string equal to the same writes on a `Vec<char>`,
        /// and in its canonical representation.
        #[test]
        fn writes_agree_with_a_vector_of_chars(
            start in proptest::collection::vec(any_char(), 0..12),
            writes in proptest::collection::vec((0usize..12, proptest::collection::vec(any_char(), 1..4)), 0..12),
        ) {
            let mut model = start.clone();
            let mut s = SchemeString::from_chars(start);
            prop_assert!(canonical(&s));
            for (at, chars) in writes {
                if at + chars.len() > model.len() {
                    continue;
                }
                model[at..at + chars.len()].copy_from_slice(&chars);
                s.replace(at, chars.iter().copied());
                prop_assert!(canonical(&s));
                prop_assert_eq!(s.chars().collect::<Vec<_>>(), model.clone());
                prop_assert_eq!(&s, &SchemeString::from_chars(model.iter().copied()));
            }
            prop_assert_eq!(s.chars().rev().collect::<Vec<_>>(), model.iter().rev().copied().collect::<Vec<_>>());
            let doubled: Vec<char> = model.iter().chain(&model).copied().collect();
            prop_assert_eq!(SchemeString::concat(&[&s, &s]), SchemeString::from_chars(doubled));
            prop_assert_eq!(SchemeString::concat(&[&s, &SchemeString::from_text("ab")]).len(), model.len() + 2);
            if !model.is_empty() {
                let mid = model.len() / 2;
                prop_assert_eq!(s.substring(mid, model.len()), SchemeString::from_chars(model[mid..].iter().copied()));
            }
        }
    }
}
