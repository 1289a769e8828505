//! Loading images into a process: verification, constants made into values, globals linked by name.

use std::sync::Arc;

use chenilles_compiler::bytecode::{Constant, Image, ImageError, VerifyError, verify};
use num_bigint::BigInt;

use crate::heap::Object;
use crate::interp::{LoadedFunction, LoadedImage, Vm};
use crate::numbers::Numbers;
use crate::value::Value;

/// Why an image could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The image file is malformed.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The image does not pass the verifier.
    #[error("the image does not verify: {0}")]
    Verify(#[from] VerifyError),
    /// A library the image imports is not where images are looked for.
    #[error("library {name} (image {hash}.chb) is needed but was not found beside the program or on the library path")]
    MissingLibrary {
        /// The library's name.
        name: String,
        /// The hash of the image the program was compiled against.
        hash: String,
    },
    #[error(
        "library image {path} does not hash to its name: it is corrupt or not the image the program was compiled against"
    )]
    /// A library image is not the one its name promises.
    LibraryHashMismatch {
        /// The image file.
        path: String,
    },
}

/// Loading images into a process: verified, quickened, constants made values, globals linked by
/// name. (An extension trait: `Vm` methods that belong with the loader.)
pub(crate) trait Loader {
    /// Verifies `image` and adds its code and constants to the process; returns the image's index.
    fn load_image(&mut self, image: &Image) -> Result<u32, LoadError>;
    /// Adds a verified image's code to the process, with its constants already made and its
    /// globals already linked (by [`Loader::load_image`], or by [`crate::state::StateParts::into_vm`]).
    fn install_image(
        &mut self,
        image: &Image,
        functions: Vec<chenilles_compiler::bytecode::VerifiedFunction>,
        constants: Vec<Value>,
        globals: Vec<u32>,
        bytes: Option<Vec<u8>>,
    ) -> u32;
    /// A closure with no free variables of process-wide function `function` (an image's entry).
    fn closure_of(&mut self, function: u32) -> Value;
    /// The closure of a loaded image's entry function.
    fn entry_closure(&mut self, image_index: u32, entry: u32) -> Value;
    /// Verified constants refer only to earlier ones, which `earlier` holds.
    fn constant_value(&mut self, constant: &Constant, earlier: &[Value]) -> Value;
}

impl Loader for Vm {
    fn load_image(&mut self, image: &Image) -> Result<u32, LoadError> {
        let functions = verify(image)?;
        let mut constants = Vec::with_capacity(image.constants.len());
        for constant in &image.constants {
            let value = self.constant_value(constant, &constants);
            constants.push(value);
        }
        let globals = image.globals.iter().map(|name| self.global_slot(name)).collect();
        let bytes = self.keep_image_bytes.then(|| image.to_bytes());
        Ok(self.install_image(image, functions, constants, globals, bytes))
    }

    fn install_image(
        &mut self,
        image: &Image,
        functions: Vec<chenilles_compiler::bytecode::VerifiedFunction>,
        constants: Vec<Value>,
        globals: Vec<u32>,
        bytes: Option<Vec<u8>>,
    ) -> u32 {
        let image_index = self.images.len() as u32;
        let function_base = self.functions.len() as u32;
        let constants: Arc<[Value]> = constants.into();
        for code in functions {
            self.rt.function_names.push(code.name.as_str().into());
            self.rt.function_arities.push((code.required as usize, code.optional as usize, code.rest));
            let quick = chenilles_compiler::bytecode::quicken(&code.insns, |g| globals[g as usize]).into_boxed_slice();
            self.functions.push(Arc::new(LoadedFunction::new(code, quick, image_index, constants.clone())));
        }
        self.images.push(LoadedImage {
            name: image.name.clone(),
            files: image.files.clone(),
            constants,
            globals,
            function_base,
            bytes,
        });
        image_index
    }

    fn closure_of(&mut self, function: u32) -> Value {
        self.rt.heap.alloc(Object::Closure { function, free: Box::new([]) })
    }

    fn entry_closure(&mut self, image_index: u32, entry: u32) -> Value {
        let function = self.images[image_index as usize].function_base + entry;
        self.rt.heap.alloc(Object::Closure { function, free: Box::new([]) })
    }

    fn constant_value(&mut self, constant: &Constant, earlier: &[Value]) -> Value {
        let earlier_value = |i: &u32| earlier.get(*i as usize).copied().unwrap_or(Value::UNSPECIFIED);
        match constant {
            Constant::Unspecified => Value::UNSPECIFIED,
            Constant::Eof => Value::EOF,
            Constant::Default => Value::DEFAULT,
            Constant::Nil => Value::NIL,
            Constant::Boolean(b) => Value::boolean(*b),
            Constant::Fixnum(n) => Value::fixnum(*n).unwrap_or(Value::UNSPECIFIED),
            Constant::Integer(bytes) => self.rt.make_int(BigInt::from_signed_bytes_le(bytes)),
            Constant::Rational { numerator, denominator } => {
                let ratio = num_rational::BigRational::new(
                    BigInt::from_signed_bytes_le(numerator),
                    BigInt::from_signed_bytes_le(denominator),
                );
                self.rt.make_num(crate::numbers::Num::from_ratio(ratio))
            }
            Constant::Real(x) => self.rt.make_real(*x),
            Constant::Character(c) => char::from_u32(*c).map_or(Value::UNSPECIFIED, Value::character),
            Constant::String(s) => self.rt.new_string(s),
            Constant::Symbol(s) => self.rt.symbols.intern(s),
            Constant::Bytevector(b) => self.rt.heap.alloc(Object::Bytevector(b.as_slice().into())),
            Constant::List { items, tail } => {
                let tail = earlier_value(tail);
                let items: Vec<Value> = items.iter().map(earlier_value).collect();
                items.into_iter().rev().fold(tail, |rest, item| self.rt.heap.cons(item, rest))
            }
            Constant::Vector(items) => {
                let items = items.iter().map(earlier_value).collect();
                self.rt.heap.alloc(Object::Vector(items))
            }
        }
    }
}
