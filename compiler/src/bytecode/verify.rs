//! The verifier: proves that an image's code can run without the interpreter ever checking what the
//! verifier already checked.
//!
//! After [`verify`] succeeds: every instruction decodes; every constant, local, free, global, function and
//! jump operand is in range; `MakeClosure` pops exactly the free-variable count of its function; the
//! operand stack has the same height on every path into an instruction, never underflows, and its
//! maximum is known; no path falls off the end of a function; constant aggregates only refer to earlier
//! constants; the entry function takes no arguments and closes over nothing.

use super::image::{Constant, Function, Image, Position};
use super::instructions::{DecodeError, Flow, Insn, OperandKind, decode_all};

/// A function whose code has been decoded and verified.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedFunction {
    /// Its name, for backtraces.
    pub name: String,
    /// How many arguments it requires.
    pub required: u32,
    /// How many `#!optional` ones it takes besides.
    pub optional: u32,
    /// Whether it takes a rest list.
    pub rest: bool,
    /// Its local slots (arguments included).
    pub locals: u32,
    /// How many free variables its closures hold.
    pub free: u32,
    /// The largest operand-stack height any path reaches.
    pub max_stack: u32,
    /// The operand-stack height before each instruction (`None` where no path reaches it): a
    /// restored frame's operand stack must match it.
    pub heights: Vec<Option<u32>>,
    /// Its instructions.
    pub insns: Vec<Insn>,
    /// The source position of each instruction.
    pub positions: Vec<Position>,
}

impl VerifiedFunction {
    /// The source position of instruction `pc`, if known.
    pub fn position_at(&self, pc: usize) -> Option<Position> {
        let after = self.positions.partition_point(|p| p.pc as usize <= pc);
        after.checked_sub(1).map(|i| self.positions[i])
    }
}

/// Why an image was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A function does not verify.
    #[error("function {function} ({name}): {reason}")]
    Function {
        /// The function's index.
        function: usize,
        /// Its name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A constant does not verify.
    #[error("constant {index}: {reason}")]
    Constant {
        /// The constant's index.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The entry function does not exist.
    #[error("entry function {0} does not exist")]
    NoEntry(u32),
    /// The entry function takes arguments.
    #[error("entry function must take no arguments and close over nothing")]
    BadEntry,
}

/// Checks every function and constant of `image`; returns the decoded functions in image order.
pub fn verify(image: &Image) -> Result<Vec<VerifiedFunction>, VerifyError> {
    for (index, constant) in image.constants.iter().enumerate() {
        verify_constant(index, constant)?;
    }
    let functions = image
        .functions
        .iter()
        .enumerate()
        .map(|(index, function)| {
            verify_function(image, function).map_err(|reason| VerifyError::Function {
                function: index,
                name: function.name.clone(),
                reason,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let entry = functions.get(image.entry as usize).ok_or(VerifyError::NoEntry(image.entry))?;
    if entry.required != 0 || entry.optional != 0 || entry.rest || entry.free != 0 {
        return Err(VerifyError::BadEntry);
    }
    Ok(functions)
}

fn verify_constant(index: usize, constant: &Constant) -> Result<(), VerifyError> {
    let earlier = |refs: &mut dyn Iterator<Item = &u32>| -> Result<(), VerifyError> {
        for &r in refs {
            if r as usize >= index {
                return Err(VerifyError::Constant {
                    index,
                    reason: format!("refers to constant {r}, which is not an earlier one"),
                });
            }
        }
        Ok(())
    };
    match constant {
        Constant::Character(c) if char::from_u32(*c).is_none() => {
            Err(VerifyError::Constant { index, reason: format!("0x{c:x} is not a Unicode scalar value") })
        }
        Constant::Fixnum(n) if !fits_fixnum(*n) => {
            Err(VerifyError::Constant { index, reason: format!("{n} does not fit in a fixnum") })
        }
        Constant::Rational { denominator, .. }
            if num_bigint::BigInt::from_signed_bytes_le(denominator) <= num_bigint::BigInt::from(1) =>
        {
            Err(VerifyError::Constant { index, reason: "a ratio's denominator must be greater than 1".into() })
        }
        Constant::List { items, tail } => earlier(&mut items.iter().chain(std::iter::once(tail))),
        Constant::Vector(items) => earlier(&mut items.iter()),
        _ => Ok(()),
    }
}

impl VerifiedFunction {
    /// Whether the function has exactly `argc` parameters, all required (the common call, which
    /// needs no defaults and no rest list).
    #[inline]
    pub fn takes_exactly(&self, argc: u32) -> bool {
        self.required == argc && self.optional == 0 && !self.rest
    }
}

/// Fixnums are 61-bit two's-complement integers.
pub fn fits_fixnum(n: i64) -> bool {
    (-(1i64 << 60)..(1i64 << 60)).contains(&n)
}

/// The most locals (parameters included), and the most free variables, a function may have.
pub const MAX_LOCALS: u32 = 1 << 20;

fn verify_function(image: &Image, function: &Function) -> Result<VerifiedFunction, String> {
    let insns = decode_all(&function.code).map_err(|error: DecodeError| error.to_string())?;
    if insns.is_empty() {
        return Err("has no code".into());
    }
    // Every call of a function makes room for its locals: an absurd count would be an
    // allocation that aborts the process rather than an error.
    if function.locals > MAX_LOCALS || function.free > MAX_LOCALS {
        return Err(format!(
            "{} locals and {} free variables: at most {MAX_LOCALS} of each are allowed",
            function.locals, function.free
        ));
    }
    let params = u64::from(function.required) + u64::from(function.optional) + u64::from(function.rest);
    if params > u64::from(function.locals) {
        return Err(format!("{params} parameters do not fit in {} locals", function.locals));
    }
    for (pc, insn) in insns.iter().enumerate() {
        if insn.is_superinstruction() {
            return Err(format!("instruction {pc} ({insn}) is a superinstruction, which only the VM writes"));
        }
        for (kind, value) in insn.operands() {
            let limit = match kind {
                OperandKind::Const => image.constants.len(),
                OperandKind::Local => function.locals as usize,
                OperandKind::Free => function.free as usize,
                OperandKind::Global => image.globals.len(),
                OperandKind::Func => image.functions.len(),
                OperandKind::Target => insns.len(),
                OperandKind::Count => usize::MAX,
            };
            if value as usize >= limit {
                return Err(format!("instruction {pc} ({insn}): {kind:?} operand {value} is out of range"));
            }
        }
        if let Insn::MakeClosure { f, n } = insn
            && image.functions[*f as usize].free != *n
        {
            return Err(format!(
                "instruction {pc} ({insn}): function {f} closes over {} values, not {n}",
                image.functions[*f as usize].free
            ));
        }
    }
    let mut last_pc = 0;
    for position in &function.positions {
        if position.pc < last_pc || position.pc as usize >= insns.len() {
            return Err(format!("source position for pc {} is out of order or range", position.pc));
        }
        if position.file as usize >= image.files.len() {
            return Err(format!("source position names file {}, which does not exist", position.file));
        }
        last_pc = position.pc;
    }
    let (max_stack, heights) = check_stack_heights(&insns)?;
    Ok(VerifiedFunction {
        name: function.name.clone(),
        required: function.required,
        optional: function.optional,
        rest: function.rest,
        locals: function.locals,
        free: function.free,
        max_stack,
        heights,
        insns,
        positions: function.positions.clone(),
    })
}

/// Abstract interpretation of operand-stack heights; returns the maximum height and the height
/// before each instruction.
fn check_stack_heights(insns: &[Insn]) -> Result<(u32, Vec<Option<u32>>), String> {
    let mut heights: Vec<Option<u32>> = vec![None; insns.len()];
    let mut work = vec![(0usize, 0u32)];
    let mut max = 0;
    while let Some((pc, height)) = work.pop() {
        let Some(insn) = insns.get(pc) else {
            return Err("control falls off the end of the code".into());
        };
        match heights[pc] {
            Some(seen) if seen == height => continue,
            Some(seen) => {
                return Err(format!("instruction {pc} is reached with stack heights {seen} and {height}"));
            }
            None => heights[pc] = Some(height),
        }
        let (pops, pushes) = insn.stack_effect();
        let Some(after) = height.checked_sub(pops).and_then(|h| h.checked_add(pushes)) else {
            return Err(format!("instruction {pc} ({insn}) pops {pops} values from a stack of {height}"));
        };
        max = max.max(after).max(height);
        let target = insn.operands().iter().find(|(kind, _)| *kind == OperandKind::Target).map(|(_, t)| *t);
        match (insn.flow(), target) {
            (Flow::Next, _) => work.push((pc + 1, after)),
            (Flow::Jump, Some(t)) => work.push((t as usize, after)),
            (Flow::Branch, Some(t)) => {
                work.push((t as usize, after));
                work.push((pc + 1, after));
            }
            (Flow::Leave, _) => {}
            (_, None) => return Err(format!("instruction {pc} ({insn}) jumps without a target")),
        }
    }
    Ok((max, heights))
}

#[cfg(test)]
mod tests {
    use super::super::instructions::encode_all;
    use super::*;

    fn image_with(code: &[Insn], locals: u32) -> Image {
        Image {
            name: "test".into(),
            files: vec!["test.scm".into()],
            constants: vec![Constant::Fixnum(1)],
            globals: vec![],
            functions: vec![Function {
                name: "main".into(),
                required: 0,
                optional: 0,
                rest: false,
                locals,
                free: 0,
                code: encode_all(code),
                positions: vec![],
            }],
            entry: 0,
            libraries: vec![],
        }
    }

    #[test]
    fn accepts_balanced_code_and_reports_max_stack() {
        let image = image_with(&[Insn::Const { k: 0 }, Insn::Const { k: 0 }, Insn::Add {}, Insn::Return {}], 0);
        let functions = verify(&image).unwrap();
        assert_eq!(functions[0].max_stack, 2);
    }

    #[test]
    fn refuses_underflow_out_of_range_operands_and_falling_off_the_end() {
        let cases: &[(&[Insn], &str)] = &[
            (&[Insn::Add {}, Insn::Return {}], "pops 2 values from a stack of 0"),
            (&[Insn::Const { k: 9 }, Insn::Return {}], "Const operand 9 is out of range"),
            (&[Insn::Local { i: 0 }, Insn::Return {}], "Local operand 0 is out of range"),
            (&[Insn::Const { k: 0 }], "falls off the end"),
            (&[Insn::Jump { t: 5 }], "Target operand 5 is out of range"),
            (&[Insn::LocalReturn { i: 0 }], "is a superinstruction"),
            (&[Insn::Const { k: 0 }, Insn::ConstAdd { k: 0 }, Insn::Return {}], "is a superinstruction"),
            (&[Insn::Const { k: 0 }, Insn::JumpIfFalse { t: 3 }, Insn::Const { k: 0 }, Insn::Return {}], ""),
            (
                &[
                    Insn::Const { k: 0 },
                    Insn::JumpIfFalse { t: 4 },
                    Insn::Const { k: 0 },
                    Insn::Jump { t: 4 },
                    Insn::Return {},
                ],
                "stack heights",
            ),
        ];
        for (code, expected) in cases {
            let result = verify(&image_with(code, 0));
            if expected.is_empty() {
                // Reaching `Return` with an empty stack on the jump path is an underflow.
                assert!(result.is_err(), "{code:?} should be refused");
            } else {
                let message = result.expect_err("should be refused").to_string();
                assert!(message.contains(expected), "{message} should mention {expected}");
            }
        }
    }

    #[test]
    fn refuses_absurd_numbers_of_locals_and_keeps_the_heights() {
        let code = [Insn::Const { k: 0 }, Insn::Const { k: 0 }, Insn::Add {}, Insn::Return {}];
        let message = verify(&image_with(&code, u32::MAX)).expect_err("should be refused").to_string();
        assert!(message.contains("at most 1048576"), "{message}");
        let functions = verify(&image_with(&code, MAX_LOCALS)).expect("the most locals allowed");
        assert_eq!(functions[0].heights, [Some(0), Some(1), Some(2), Some(1)]);
    }

    #[test]
    fn refuses_forward_constant_references() {
        let mut image = image_with(&[Insn::Const { k: 0 }, Insn::Return {}], 0);
        image.constants = vec![Constant::Vector(vec![0])];
        assert!(matches!(verify(&image), Err(VerifyError::Constant { index: 0, .. })));
    }
}
