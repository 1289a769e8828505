//! Bytecode: the instruction set, the image format and the verifier. Shared by the compiler, which writes
//! images, and the VM, which loads them; neither defines instructions anywhere else.
//!
//! `instructions.rs` holds the one table of instructions; `image.rs` the file format; `verify.rs` the
//! verifier; `disasm.rs` the listing of a verified image for people; `asm.rs` the assembler: the
//! lossless text of any image ([`write_assembly`]) and its parser ([`assemble`]), which round-trip;
//! `quicken.rs` the VM's rewriting of verified code with superinstructions.

pub mod asm;
pub mod disasm;
pub mod image;
pub mod instructions;
pub mod quicken;
pub mod verify;

pub use asm::{AsmError, assemble, write_assembly};
pub use image::{
    Constant, FORMAT_VERSION, Function, Image, ImageError, LibraryRef, OLDEST_READABLE_VERSION, Position, image_hash,
};
pub use instructions::{Flow, Insn, OperandKind};
pub use quicken::quicken;
pub use verify::{VerifiedFunction, VerifyError, fits_fixnum, verify};
