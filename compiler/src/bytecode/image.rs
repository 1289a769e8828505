//! Images: the compiled form of a program or library, as written to a `.chb` file.
//!
//! A file is an 16-byte header — the magic bytes [`MAGIC`], the format version as a little-endian `u32`,
//! four reserved zero bytes — followed by the [`Image`] serialized with rkyv. The image's name is the
//! blake3 hash of the whole file. Reading validates the archive (bytecheck) before anything looks at it;
//! [`super::verify`] then checks that the code can run safely. See `spec/bytecode.md`.

use rkyv::{Archive, Deserialize, Serialize};

/// The first eight bytes of every image file.
pub const MAGIC: [u8; 8] = *b"\0CHNLIMG";

/// The version of the image format this build writes. Bump it whenever the layout of [`Image`] or
/// the instruction set changes. Version 4 added instructions (`RecordRef`, `RecordSet`,
/// `Quotient`, `Remainder`, `Modulo`) and changed nothing else.
pub const FORMAT_VERSION: u32 = 4;

/// The oldest version this build still reads: an image of version 3 is an image of version 4 that
/// uses none of the instructions added since, so images stored by earlier builds (with durable
/// processes, for instance) keep loading.
pub const OLDEST_READABLE_VERSION: u32 = 3;

const HEADER_LEN: usize = 16;

/// A compiled unit: the code of one program (or, later, one library).
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Image {
    /// The source file's name, for messages.
    pub name: String,
    /// File names that [`Position::file`] indexes.
    pub files: Vec<String>,
    /// Constants that `Const` operands index. Aggregates refer to earlier entries only.
    pub constants: Vec<Constant>,
    /// Names of the globals that `Global`, `SetGlobal` and `DefineGlobal` operands index.
    pub globals: Vec<String>,
    /// The functions; `MakeClosure` operands index this table.
    pub functions: Vec<Function>,
    /// The function run when the image is loaded: it takes no arguments and has no free variables.
    pub entry: u32,
    /// The library images to load before this one, in order, named by the blake3 hash of their file.
    pub libraries: Vec<LibraryRef>,
}

/// A library image an image needs.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LibraryRef {
    /// The library's name as written, e.g. `(contracts ledger)`.
    pub name: String,
    /// The blake3 hash of its image file.
    pub hash: [u8; 32],
}

/// One compiled `lambda` (or the top level of a unit).
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Function {
    /// The name it was defined under, or a description like `lambda at prog.scm:3:5`.
    pub name: String,
    /// Required parameters: locals `0..required`.
    pub required: u32,
    /// `#!optional` parameters, following the required ones; missing ones hold the default object.
    pub optional: u32,
    /// Whether a rest list follows, in local `required + optional`.
    pub rest: bool,
    /// Local slots in a frame, parameters included.
    pub locals: u32,
    /// Free variables of each closure over this function.
    pub free: u32,
    /// Encoded instructions (see [`super::instructions`]).
    pub code: Vec<u8>,
    /// Source positions, sorted by `pc`: each covers the instructions from its `pc` to the next one's.
    pub positions: Vec<Position>,
}

/// Where the instructions from `pc` on came from.
#[derive(Archive, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// An instruction index.
    pub pc: u32,
    /// An index into [`Image::files`].
    pub file: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

pub use constant::Constant;

// `Constant` has a module of its own only so that the allow below excuses rkyv's derive, which
// gives the generated `ConstantResolver` the struct variants' fields without their docs (every
// item of `Constant` itself is documented).
#[allow(missing_docs)]
mod constant {
    use rkyv::{Archive, Deserialize, Serialize};

    /// A literal or quoted datum.
    #[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
    pub enum Constant {
        /// The unspecified value.
        Unspecified,
        /// The end-of-file object.
        Eof,
        /// The value of a missing `#!optional` argument.
        Default,
        /// The empty list.
        Nil,
        /// `#t` or `#f`.
        Boolean(bool),
        /// An exact integer that fits in 61 bits (a fixnum).
        Fixnum(i64),
        /// Any other exact integer: two's-complement, little-endian bytes.
        Integer(Vec<u8>),
        /// An exact ratio in lowest terms, both parts two's-complement little-endian, denominator > 1.
        Rational {
            /// The numerator.
            numerator: Vec<u8>,
            /// The denominator.
            denominator: Vec<u8>,
        },
        /// A flonum.
        Real(f64),
        /// A Unicode scalar value.
        Character(u32),
        /// A string.
        String(String),
        /// A symbol, by name.
        Symbol(String),
        /// A bytevector.
        Bytevector(Vec<u8>),
        /// A list of earlier constants, proper when `tail` is a `Nil` constant.
        List {
            /// The elements, as indices of earlier constants.
            items: Vec<u32>,
            /// The tail, as the index of an earlier constant.
            tail: u32,
        },
        /// A vector of earlier constants.
        Vector(Vec<u32>),
    }
}

/// Why a file is not a readable image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file is shorter than an image header.
    #[error("not a Chenilles image: the file is only {0} bytes long")]
    TooShort(usize),
    /// The file does not start with the image magic bytes.
    #[error("not a Chenilles image: the file does not start with the image magic bytes")]
    BadMagic,
    /// The image has a format version this build does not read.
    #[error("image format version {found} is not supported: this build reads versions {oldest} to {newest}")]
    WrongVersion {
        /// The image's version.
        found: u32,
        /// The oldest version this build reads.
        oldest: u32,
        /// The newest.
        newest: u32,
    },
    /// The image does not decode.
    #[error("malformed image: {0}")]
    Malformed(String),
}

impl Image {
    /// The bytes of a `.chb` file holding this image.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = match rkyv::to_bytes::<rkyv::rancor::Error>(self) {
            Ok(bytes) => bytes,
            // Serializing into memory only fails when memory does.
            Err(error) => panic!("serializing an image failed: {error}"),
        };
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&payload);
        out
    }

    /// Reads an image file, validating every byte. Never panics, whatever `bytes` hold.
    pub fn from_bytes(bytes: &[u8]) -> Result<Image, ImageError> {
        if bytes.len() < HEADER_LEN {
            return Err(ImageError::TooShort(bytes.len()));
        }
        if bytes[..8] != MAGIC {
            return Err(ImageError::BadMagic);
        }
        let found = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&found) {
            return Err(ImageError::WrongVersion { found, oldest: OLDEST_READABLE_VERSION, newest: FORMAT_VERSION });
        }
        if bytes[12..16] != [0; 4] {
            return Err(ImageError::Malformed("reserved header bytes are not zero".into()));
        }
        let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(bytes.len() - HEADER_LEN);
        aligned.extend_from_slice(&bytes[HEADER_LEN..]);
        rkyv::from_bytes::<Image, rkyv::rancor::BoxedError>(&aligned)
            .map_err(|error| ImageError::Malformed(error.to_string()))
    }
}

/// The blake3 hash that names an image file.
pub fn image_hash(file_bytes: &[u8]) -> blake3::Hash {
    blake3::hash(file_bytes)
}
