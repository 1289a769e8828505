//! Bytecode: the instruction set, the image format and the verifier. Shared by the compiler, which writes
//! images, and the VM, which loads them; neither defines instructions anywhere else.

pub mod disasm;
pub mod image;
pub mod instructions;
pub mod verify;

pub use image::{Constant, FORMAT_VERSION, Function, Image, ImageError, LibraryRef, Position, image_hash};
pub use instructions::{Flow, Insn, OperandKind};
pub use verify::{VerifiedFunction, VerifyError, fits_fixnum, verify};
