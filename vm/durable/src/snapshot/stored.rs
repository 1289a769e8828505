//! The stored form of heap objects: what a page of the heap holds, serialized with rkyv and validated
//! with bytecheck when read back. Values are stored as their 64-bit words (object ids, symbol and
//! native indices are stable for the life of a process and restored as they were).

use num_bigint::BigInt;
use rkyv::{Archive, Deserialize, Serialize};

use chenilles_machine::hash_table::{Equivalence, HashTable};
use chenilles_machine::heap::Frame;
use chenilles_machine::heap::{Condition, ConditionKind, Continuation, Object, RecordType};
use chenilles_machine::ports::{FileAccess, OutputFile, Port};
use chenilles_machine::scheme_string::SchemeString;
use chenilles_machine::value::Value;

#[derive(Archive, Serialize, Deserialize, Debug, PartialEq)]
pub enum StoredObject {
    /// A free slot (free slots are relinked in ascending order when restored).
    Free,
    Pair(u64, u64),
    Box(u64),
    Closure {
        function: u32,
        free: Vec<u64>,
    },
    String(String),
    Vector(Vec<u64>),
    Bytevector(Vec<u8>),
    /// Two's complement, little-endian.
    Bignum(Vec<u8>),
    Ratnum {
        numerator: Vec<u8>,
        denominator: Vec<u8>,
    },
    /// The float's bits.
    Flonum(u64),
    Condition {
        kind: u8,
        message: String,
        irritants: u64,
    },
    Port(StoredPort),
    Continuation {
        stack: Vec<u64>,
        frames: Vec<StoredFrame>,
    },
    Values(Vec<u64>),
    RecordType {
        name: String,
        fields: Vec<u64>,
    },
    /// The equivalence, and the entries (hash, key, value) in iteration order.
    HashTable {
        equivalence: u8,
        entries: Vec<(u64, u64, u64)>,
    },
    Record {
        record_type: u64,
        fields: Vec<u64>,
    },
    /// A large vector, string or bytevector, stored out of line as a Merkle list of chunks (see
    /// [`Chunked`]), so that changing a few of its elements rewrites a few chunks, not all of it.
    Chunked {
        kind: Chunked,
        list: super::ListRef,
    },
}

/// What a chunked object is, and how its chunks are laid out.
#[derive(Archive, Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
pub enum Chunked {
    /// Up to [`VECTOR_CHUNK`] words per chunk.
    Vector,
    /// Up to [`STRING_CHUNK`] characters per chunk, in UTF-8.
    String,
    /// Up to [`BYTES_CHUNK`] bytes per chunk.
    Bytevector,
}

pub const VECTOR_CHUNK: usize = 500;
pub const STRING_CHUNK: usize = 1000;
pub const BYTES_CHUNK: usize = 4000;

/// The chunks of `object` if it is large enough to be stored out of line, with its length in
/// elements.
pub fn chunks_of(object: &Object) -> Option<(Chunked, Vec<Vec<u8>>, usize)> {
    match object {
        Object::Vector(items) if items.len() > VECTOR_CHUNK => Some((
            Chunked::Vector,
            items.chunks(VECTOR_CHUNK).map(|c| c.iter().flat_map(|v| v.bits().to_le_bytes()).collect()).collect(),
            items.len(),
        )),
        Object::String(string) if string.len() > STRING_CHUNK => Some((
            Chunked::String,
            (0..string.len())
                .step_by(STRING_CHUNK)
                .map(|start| {
                    string.chars_in(start, string.len().min(start + STRING_CHUNK)).collect::<String>().into_bytes()
                })
                .collect(),
            string.len(),
        )),
        Object::Bytevector(bytes) if bytes.len() > BYTES_CHUNK => {
            Some((Chunked::Bytevector, bytes.chunks(BYTES_CHUNK).map(<[u8]>::to_vec).collect(), bytes.len()))
        }
        _ => None,
    }
}

/// Rebuilds a chunked object from its chunks' payloads; `None` if they do not fit its kind and
/// length.
pub fn from_chunks(kind: Chunked, chunks: Vec<Vec<u8>>, len: usize) -> Option<Object> {
    match kind {
        Chunked::Vector => {
            let mut items = Vec::with_capacity(len.min(1 << 24));
            for chunk in &chunks {
                if chunk.len() % 8 != 0 {
                    return None;
                }
                items.extend(
                    chunk.chunks_exact(8).map(|w| {
                        Value::from_bits(u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]))
                    }),
                );
            }
            (items.len() == len).then_some(Object::Vector(items.into()))
        }
        Chunked::String => {
            let mut text = String::with_capacity(len.min(1 << 24));
            for chunk in chunks {
                text.push_str(std::str::from_utf8(&chunk).ok()?);
            }
            let string = SchemeString::from_text(&text);
            (string.len() == len).then_some(Object::String(string))
        }
        Chunked::Bytevector => {
            let bytes: Vec<u8> = chunks.into_iter().flatten().collect();
            (bytes.len() == len).then_some(Object::Bytevector(bytes.into()))
        }
    }
}

#[derive(Archive, Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
pub struct StoredFrame {
    pub function: u32,
    pub pc: u32,
    pub base: u32,
}

#[derive(Archive, Serialize, Deserialize, Debug, PartialEq)]
pub enum StoredPort {
    Stdout,
    Stderr,
    StringOutput(String),
    StringInput {
        chars: String,
        position: u64,
        fold_case: bool,
    },
    BytesOutput(Vec<u8>),
    BytesInput {
        bytes: Vec<u8>,
        position: u64,
    },
    /// An output file: its path, how long it was when the checkpoint flushed it, and the blake3
    /// hash of those bytes. On resume it is reopened, checked to begin with exactly those bytes,
    /// and cut back to that length, so what the lost interval wrote is written once.
    FileOutput {
        path: String,
        length: u64,
        digest: [u8; 32],
    },
    Closed {
        input: bool,
    },
}

impl From<Frame> for StoredFrame {
    fn from(f: Frame) -> StoredFrame {
        StoredFrame { function: f.function, pc: f.pc, base: f.base }
    }
}

impl From<StoredFrame> for Frame {
    fn from(f: StoredFrame) -> Frame {
        Frame { function: f.function, pc: f.pc, base: f.base }
    }
}

fn words(values: &[Value]) -> Vec<u64> {
    values.iter().map(|v| v.bits()).collect()
}

/// The object id a stored record's type word names (records store it as a value's bits).
fn record_type_id(bits: u64) -> Result<chenilles_machine::value::ObjId, String> {
    Value::from_bits(bits).as_object().ok_or_else(|| "a record whose type is not an object".to_string())
}

fn values(words: &[u64]) -> Vec<Value> {
    words.iter().map(|w| Value::from_bits(*w)).collect()
}

const CONDITION_KINDS: [ConditionKind; 4] =
    [ConditionKind::Error, ConditionKind::Runtime, ConditionKind::File, ConditionKind::Read];
const EQUIVALENCES: [Equivalence; 5] =
    [Equivalence::Eq, Equivalence::Eqv, Equivalence::Equal, Equivalence::String, Equivalence::StringCi];

/// The stored form of `object`. File ports are flushed first, so the length recorded is what is on
/// disk.
pub fn store_object(object: &mut Object) -> Result<StoredObject, std::io::Error> {
    Ok(match object {
        Object::Free(_) => StoredObject::Free,
        Object::Pair(car, cdr) => StoredObject::Pair(car.bits(), cdr.bits()),
        Object::Box(v) => StoredObject::Box(v.bits()),
        Object::Closure { function, free } => StoredObject::Closure { function: *function, free: words(free) },
        Object::String(string) => StoredObject::String(string.to_string()),
        Object::Vector(items) => StoredObject::Vector(words(items)),
        Object::Bytevector(bytes) => StoredObject::Bytevector(bytes.to_vec()),
        Object::Bignum(n) => StoredObject::Bignum(n.to_signed_bytes_le()),
        Object::Ratnum(r) => StoredObject::Ratnum {
            numerator: r.numer().to_signed_bytes_le(),
            denominator: r.denom().to_signed_bytes_le(),
        },
        Object::Flonum(x) => StoredObject::Flonum(x.to_bits()),
        Object::Condition(c) => StoredObject::Condition {
            kind: CONDITION_KINDS.iter().position(|k| *k == c.kind).unwrap_or(0) as u8,
            message: c.message.clone(),
            irritants: c.irritants.bits(),
        },
        Object::Port(port) => StoredObject::Port(store_port(port)?),
        Object::Continuation(k) => StoredObject::Continuation {
            stack: words(&k.stack),
            frames: k.frames.iter().map(|f| StoredFrame::from(*f)).collect(),
        },
        Object::Values(vs) => StoredObject::Values(words(vs)),
        Object::RecordType(t) => StoredObject::RecordType { name: t.name.clone(), fields: words(&t.fields) },
        Object::HashTable(t) => StoredObject::HashTable {
            equivalence: EQUIVALENCES.iter().position(|e| *e == t.equivalence).unwrap_or(0) as u8,
            entries: t.hashed_entries().iter().map(|(h, k, v)| (*h, k.bits(), v.bits())).collect(),
        },
        Object::Record { record_type, fields } => {
            StoredObject::Record { record_type: Value::object(*record_type).bits(), fields: words(fields) }
        }
    })
}

fn store_port(port: &mut Port) -> Result<StoredPort, std::io::Error> {
    Ok(match port {
        Port::Stdout => StoredPort::Stdout,
        Port::Stderr => StoredPort::Stderr,
        Port::StringOutput(text) => StoredPort::StringOutput(text.clone()),
        Port::StringInput { chars, position, fold_case } => {
            StoredPort::StringInput { chars: chars.iter().collect(), position: *position as u64, fold_case: *fold_case }
        }
        Port::BytesOutput(bytes) => StoredPort::BytesOutput(bytes.clone()),
        Port::BytesInput { bytes, position } => {
            StoredPort::BytesInput { bytes: bytes.clone(), position: *position as u64 }
        }
        Port::FileOutput { path, file } => {
            let (length, digest) = file.checkpoint()?;
            StoredPort::FileOutput { path: path.clone(), length, digest }
        }
        Port::Closed { input } => StoredPort::Closed { input: *input },
    })
}

/// The object a stored one stands for. Fails only where the stored form cannot be an object of
/// this VM (a kind number out of range, a negative denominator, a file that cannot be reopened).
pub fn load_object(stored: StoredObject, files: FileAccess) -> Result<Object, String> {
    Ok(match stored {
        StoredObject::Free => Object::Free(None),
        StoredObject::Pair(car, cdr) => Object::Pair(Value::from_bits(car), Value::from_bits(cdr)),
        StoredObject::Box(v) => Object::Box(Value::from_bits(v)),
        StoredObject::Closure { function, free } => Object::Closure { function, free: values(&free).into() },
        StoredObject::String(text) => Object::String(SchemeString::from_text(&text)),
        StoredObject::Vector(items) => Object::Vector(values(&items).into()),
        StoredObject::Bytevector(bytes) => Object::Bytevector(bytes.into()),
        StoredObject::Bignum(bytes) => Object::Bignum(Box::new(BigInt::from_signed_bytes_le(&bytes))),
        StoredObject::Ratnum { numerator, denominator } => {
            let denominator = BigInt::from_signed_bytes_le(&denominator);
            if denominator <= BigInt::from(1) {
                return Err("a ratio whose denominator is not above 1".into());
            }
            Object::Ratnum(Box::new(num_rational::BigRational::new_raw(
                BigInt::from_signed_bytes_le(&numerator),
                denominator,
            )))
        }
        StoredObject::Flonum(bits) => Object::Flonum(f64::from_bits(bits)),
        StoredObject::Condition { kind, message, irritants } => Object::Condition(Box::new(Condition {
            kind: *CONDITION_KINDS.get(kind as usize).ok_or("an unknown condition kind")?,
            message,
            irritants: Value::from_bits(irritants),
        })),
        StoredObject::Port(port) => Object::Port(Box::new(load_port(port, files)?)),
        StoredObject::Continuation { stack, frames } => Object::Continuation(Box::new(Continuation {
            stack: values(&stack),
            frames: frames.into_iter().map(Frame::from).collect(),
        })),
        StoredObject::Values(vs) => Object::Values(values(&vs).into()),
        StoredObject::RecordType { name, fields } => {
            Object::RecordType(Box::new(RecordType { name, fields: values(&fields) }))
        }
        StoredObject::HashTable { equivalence, entries } => {
            let equivalence = *EQUIVALENCES.get(equivalence as usize).ok_or("an unknown hash table equivalence")?;
            let entries = entries.into_iter().map(|(h, k, v)| (h, Value::from_bits(k), Value::from_bits(v))).collect();
            Object::HashTable(Box::new(HashTable::from_entries(equivalence, entries)))
        }
        StoredObject::Record { record_type, fields } => {
            Object::Record { record_type: record_type_id(record_type)?, fields: values(&fields).into() }
        }
        StoredObject::Chunked { .. } => return Err("a chunked object outside its page".into()),
    })
}

/// What a stored object of a heap page becomes when restored.
pub enum Loaded {
    Object(Object),
    /// A large object stored out of line: its chunks are read by the caller.
    Chunked(Chunked, super::ListRef),
}

fn archived_values<I: FromIterator<Value>>(words: &rkyv::vec::ArchivedVec<rkyv::Archived<u64>>) -> I {
    words.iter().map(|w| Value::from_bits(w.to_native())).collect()
}

/// [`load_object`] on the archived (already validated) form of a page's object, without
/// deserializing it first: the common kinds are built straight from the archive, with one
/// allocation each at most; the others are deserialized and loaded as [`load_object`] does.
/// (A test checks that both make the same object of every common kind.)
pub fn load_archived(stored: &ArchivedStoredObject, files: FileAccess) -> Result<Loaded, String> {
    Ok(Loaded::Object(match stored {
        ArchivedStoredObject::Free => Object::Free(None),
        ArchivedStoredObject::Pair(car, cdr) => {
            Object::Pair(Value::from_bits(car.to_native()), Value::from_bits(cdr.to_native()))
        }
        ArchivedStoredObject::Box(v) => Object::Box(Value::from_bits(v.to_native())),
        ArchivedStoredObject::Closure { function, free } => {
            Object::Closure { function: function.to_native(), free: archived_values(free) }
        }
        ArchivedStoredObject::String(text) => Object::String(SchemeString::from_text(text.as_str())),
        ArchivedStoredObject::Vector(items) => Object::Vector(archived_values(items)),
        ArchivedStoredObject::Bytevector(bytes) => Object::Bytevector(bytes.as_slice().into()),
        ArchivedStoredObject::Flonum(bits) => Object::Flonum(f64::from_bits(bits.to_native())),
        ArchivedStoredObject::Values(vs) => Object::Values(archived_values(vs)),
        ArchivedStoredObject::Record { record_type, fields } => {
            Object::Record { record_type: record_type_id(record_type.to_native())?, fields: archived_values(fields) }
        }
        other => {
            let stored = rkyv::deserialize::<StoredObject, rkyv::rancor::BoxedError>(other)
                .map_err(|error| format!("it does not deserialize: {error}"))?;
            match stored {
                StoredObject::Chunked { kind, list } => return Ok(Loaded::Chunked(kind, list)),
                stored => load_object(stored, files)?,
            }
        }
    }))
}

fn load_port(port: StoredPort, files: FileAccess) -> Result<Port, String> {
    Ok(match port {
        StoredPort::Stdout => Port::Stdout,
        StoredPort::Stderr => Port::Stderr,
        StoredPort::StringOutput(text) => Port::StringOutput(text),
        StoredPort::StringInput { chars, position, fold_case } => {
            let chars: Vec<char> = chars.chars().collect();
            let position =
                usize::try_from(position).ok().filter(|p| *p <= chars.len()).ok_or("a port read past its end")?;
            Port::StringInput { chars, position, fold_case }
        }
        StoredPort::BytesOutput(bytes) => Port::BytesOutput(bytes),
        StoredPort::BytesInput { bytes, position } => {
            let position =
                usize::try_from(position).ok().filter(|p| *p <= bytes.len()).ok_or("a port read past its end")?;
            Port::BytesInput { bytes, position }
        }
        StoredPort::FileOutput { path, length, digest } => {
            let file = OutputFile::restore(&path, length, digest, files)?;
            Port::FileOutput { path, file }
        }
        StoredPort::Closed { input } => Port::Closed { input },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `load_archived` builds the common kinds itself: it must make exactly what `load_object`
    /// makes of the same stored object.
    #[test]
    fn loading_from_the_archive_agrees_with_loading_the_deserialized_object() {
        let v = |n: i64| Value::fixnum(n).map_or(0, Value::bits);
        let cases = vec![
            StoredObject::Free,
            StoredObject::Pair(v(1), v(2)),
            StoredObject::Box(v(3)),
            StoredObject::Closure { function: 7, free: vec![v(4), v(5)] },
            StoredObject::String("h\u{e9}llo \u{1f600}".into()),
            StoredObject::Vector(vec![v(6), v(7), v(8)]),
            StoredObject::Bytevector(vec![0, 1, 255]),
            StoredObject::Flonum((-2.5f64).to_bits()),
            StoredObject::Values(vec![v(9), v(10)]),
            StoredObject::Record { record_type: Value::object(11).bits(), fields: vec![v(12)] },
            StoredObject::Bignum(vec![1, 2, 3, 4, 5, 6, 7, 8, 9]),
            StoredObject::RecordType { name: "point".into(), fields: vec![v(13)] },
        ];
        for stored in cases {
            let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&stored).expect("serializes");
            let archived = rkyv::access::<ArchivedStoredObject, rkyv::rancor::Error>(&bytes).expect("a valid archive");
            let Ok(Loaded::Object(fast)) = load_archived(archived, FileAccess::Detached) else {
                panic!("{stored:?} did not load")
            };
            let reference = format!("{:?}", load_object(stored, FileAccess::Detached).expect("loads"));
            assert_eq!(format!("{fast:?}"), reference);
        }
        // Both refuse a record whose type is not an object.
        let stored = StoredObject::Record { record_type: v(11), fields: vec![] };
        let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&stored).expect("serializes");
        let archived = rkyv::access::<ArchivedStoredObject, rkyv::rancor::Error>(&bytes).expect("a valid archive");
        assert!(load_archived(archived, FileAccess::Detached).is_err());
        assert!(load_object(stored, FileAccess::Detached).is_err());
    }
}
