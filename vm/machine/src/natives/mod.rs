//! Native procedures: the standard procedures written in Rust, by family, and the one table that names
//! them. The globals of every process start bound to these; the compiler inlines a few of them as
//! instructions (see `chenilles_compiler::bytecode::instructions`), whose interpreter cases call the same
//! functions on their slow paths.

pub mod control;
pub mod crypto;
pub mod hashtables;
pub mod io;
pub mod lists;
pub mod messages;
pub mod numeric;
pub mod records;
pub mod text;
pub mod vectors;

use crate::runtime::Runtime;
use crate::throw::NativeResult;
use crate::value::Value;

pub type NativeFn = fn(&mut Runtime, &[Value]) -> NativeResult;

/// How a native procedure runs.
#[derive(Clone, Copy)]
pub enum NativeKind {
    /// An ordinary function of its arguments.
    Plain(NativeFn),
    /// `apply`: the interpreter calls the procedure with the spread arguments.
    Apply,
    /// `%call/cc`: the interpreter captures the continuation and calls the procedure with it.
    CallCc,
    /// `eval`: the interpreter compiles the datum, loads it as an image and calls its entry.
    Eval,
}

pub struct NativeDef {
    pub name: &'static str,
    pub min_args: usize,
    /// `None` for any number.
    pub max_args: Option<usize>,
    pub kind: NativeKind,
}

const fn plain(name: &'static str, min_args: usize, max_args: Option<usize>, f: NativeFn) -> NativeDef {
    NativeDef { name, min_args, max_args, kind: NativeKind::Plain(f) }
}

/// The hash of the native procedure table (names and arities, in order): a snapshot names natives
/// by their index, so it only resumes on a machine with the same table.
pub fn natives_fingerprint() -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    for def in natives() {
        hasher.update(format!("{} {} {:?}\n", def.name, def.min_args, def.max_args).as_bytes());
    }
    *hasher.finalize().as_bytes()
}

/// Every native procedure. The order is part of nothing persistent: values refer to natives by index
/// only in memory.
pub fn natives() -> &'static [NativeDef] {
    static TABLE: std::sync::OnceLock<Vec<NativeDef>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![
            NativeDef { name: "apply", min_args: 1, max_args: None, kind: NativeKind::Apply },
            NativeDef { name: "%call/cc", min_args: 1, max_args: Some(1), kind: NativeKind::CallCc },
            NativeDef { name: "eval", min_args: 1, max_args: Some(2), kind: NativeKind::Eval },
        ];
        let families: [Entries; 10] = [
            hashtables::NATIVES,
            control::NATIVES,
            lists::NATIVES,
            numeric::NATIVES,
            text::NATIVES,
            vectors::NATIVES,
            records::NATIVES,
            io::NATIVES,
            messages::NATIVES,
            crypto::NATIVES,
        ];
        for family in families {
            table.extend(family.iter().map(|(name, min, max, f)| plain(name, *min, *max, *f)));
        }
        table
    })
}

pub fn native_name(index: u32) -> &'static str {
    natives().get(index as usize).map_or("?", |d| d.name)
}

/// One family's entries: name, minimum and maximum argument counts, function.
pub type Entries = &'static [(&'static str, usize, Option<usize>, NativeFn)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_names_are_unique() {
        let mut names: Vec<_> = natives().iter().map(|d| d.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn every_inlined_primitive_has_a_native() {
        for name in chenilles_compiler::bytecode::Insn::primitive_names() {
            assert!(natives().iter().any(|d| d.name == *name), "{name} has no native procedure");
        }
    }
}
