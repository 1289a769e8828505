//! The instruction set, defined once.
//!
//! Every instruction is one line of the [`instructions!`] table below: its opcode byte, its name, its
//! operands (each a `u32` of a given [`OperandKind`]), its effect on the operand stack, how control flows
//! after it, and, for inlined primitives, the Scheme procedure it implements. The encoder, the decoder,
//! the disassembler, the assembler, the verifier and the compiler's primitive inliner are all generated
//! from or driven by this table; the interpreter matches on the generated [`Insn`] enum.
//!
//! Notation in the comments: `K[k]` is constant `k` of the image, `L[i]` local slot `i` of the current
//! frame, `F[i]` free variable `i` of the running closure, `G[g]` the global named by global-name `g` of
//! the image. `pop` removes the top of the operand stack, `push` adds to it.
//!
//! Encoding: one opcode byte, then each operand as a little-endian `u32`. Jump targets are instruction
//! indices (not byte offsets) within the function.
//!
//! grep ORDER OPCODE before renumbering: images written with the old numbers stop loading, so bump
//! [`super::image::FORMAT_VERSION`] too.

use std::fmt;

/// What an operand refers to; the verifier checks each against the function and image it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandKind {
    /// An index into the image's constant table.
    Const,
    /// A local slot of the current frame.
    Local,
    /// A free-variable slot of the running closure.
    Free,
    /// An index into the image's global-name table.
    Global,
    /// An index into the image's function table.
    Func,
    /// An instruction index within the same function.
    Target,
    /// A plain count (arguments, free variables).
    Count,
}

/// How control leaves an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Falls through to the next instruction.
    Next,
    /// Always goes to its `Target` operand.
    Jump,
    /// Goes to its `Target` operand or falls through.
    Branch,
    /// Leaves the function (return or tail call).
    Leave,
}

/// Why a byte sequence is not an instruction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A byte that is no instruction's opcode.
    #[error("unknown opcode 0x{opcode:02x} at byte {offset}")]
    UnknownOpcode {
        /// The byte.
        opcode: u8,
        /// Its offset in the code.
        offset: usize,
    },
    /// An instruction cut short by the end of the code.
    #[error("instruction at byte {offset} is cut short by the end of the code")]
    Truncated {
        /// Its offset in the code.
        offset: usize,
    },
}

macro_rules! instructions {
    ($(
        $(#[doc = $doc:literal])*
        $code:literal $name:ident ( $($op:ident : $kind:ident),* )
        [ $pops:expr => $pushes:expr ] $flow:ident $(prim $prim:literal)? ;
    )*) => {
        /// One decoded instruction. See the module documentation for the notation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Insn {
            $( $(#[doc = $doc])* $name { $(#[doc = concat!("The `", stringify!($op), "` operand.")] $op: u32),* }, )*
        }

        impl Insn {
            /// The opcode byte.
            pub fn opcode(&self) -> u8 {
                match self { $( Insn::$name { .. } => $code, )* }
            }

            /// The mnemonic, as the disassembler prints it.
            pub fn name(&self) -> &'static str {
                match self { $( Insn::$name { .. } => stringify!($name), )* }
            }

            /// The one-line meaning of the instruction, from the table.
            pub fn doc(&self) -> &'static str {
                match self { $( Insn::$name { .. } => concat!($($doc),*).trim_ascii(), )* }
            }

            /// The operand names, in encoding order, as the table writes them.
            pub fn operand_names(&self) -> &'static [&'static str] {
                match self { $( Insn::$name { .. } => &[$(stringify!($op)),*], )* }
            }

            /// The instruction named `name` (as [`Insn::name`] spells it) with `operands` in encoding order,
            /// or `None` when no instruction has that name or it takes another number of operands.
            pub fn from_name_and_operands(name: &str, operands: &[u32]) -> Option<Insn> {
                match name {
                    $( stringify!($name) => {
                        let mut values = operands.iter().copied();
                        let insn = Insn::$name { $($op: values.next()?),* };
                        values.next().is_none().then_some(insn)
                    } )*
                    _ => None,
                }
            }

            /// One instruction of each kind, with zero operands: the whole instruction set.
            pub fn all() -> Vec<Insn> {
                vec![ $( Insn::$name { $($op: 0),* }, )* ]
            }

            /// The operands with their kinds, in encoding order.
            pub fn operands(&self) -> Vec<(OperandKind, u32)> {
                match self {
                    $( Insn::$name { $($op),* } => vec![$((OperandKind::$kind, *$op)),*], )*
                }
            }

            /// `(pops, pushes)`: how many operand-stack values the instruction consumes and produces.
            pub fn stack_effect(&self) -> (u32, u32) {
                match self {
                    $( Insn::$name { $($op),* } => {
                        $( let $op = *$op; let _ = $op; )*
                        ($pops, $pushes)
                    } )*
                }
            }

            /// How control leaves the instruction.
            pub fn flow(&self) -> Flow {
                match self { $( Insn::$name { .. } => Flow::$flow, )* }
            }

            /// The Scheme procedure an inlined-primitive instruction implements.
            pub fn primitive_name(&self) -> Option<&'static str> {
                match self { $( Insn::$name { .. } => instructions!(@prim $($prim)?), )* }
            }

            /// The inlined-primitive instruction for a call of `name` with `argc` arguments, if any.
            pub fn primitive(name: &str, argc: usize) -> Option<Insn> {
                $( $(
                    if name == $prim && argc == ($pops) as usize {
                        return Some(Insn::$name {});
                    }
                )? )*
                let _ = (name, argc);
                None
            }

            /// Every Scheme procedure name that has an inlined-primitive instruction.
            pub fn primitive_names() -> &'static [&'static str] {
                &[ $( $($prim,)? )* ]
            }

            /// Appends the encoding of `self` to `out`.
            pub fn encode(&self, out: &mut Vec<u8>) {
                out.push(self.opcode());
                match self {
                    $( Insn::$name { $($op),* } => { $( out.extend_from_slice(&$op.to_le_bytes()); )* } )*
                }
            }

            /// Decodes the instruction at `*offset`, advancing `offset` past it.
            pub fn decode(bytes: &[u8], offset: &mut usize) -> Result<Insn, DecodeError> {
                let start = *offset;
                let opcode = *bytes.get(start).ok_or(DecodeError::Truncated { offset: start })?;
                let mut at = start + 1;
                let mut operand = || -> Result<u32, DecodeError> {
                    let word = bytes.get(at..at + 4).ok_or(DecodeError::Truncated { offset: start })?;
                    at += 4;
                    Ok(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
                };
                let insn = match opcode {
                    $( $code => Insn::$name { $($op: operand()?),* }, )*
                    _ => return Err(DecodeError::UnknownOpcode { opcode, offset: start }),
                };
                *offset = at;
                Ok(insn)
            }
        }
    };
    (@prim $prim:literal) => { Some($prim) };
    (@prim) => { None };
}

// ORDER OPCODE
instructions! {
    // Loads and stores.
    /// push K[k]
    0x01 Const(k: Const) [0 => 1] Next;
    /// push L[i]
    0x02 Local(i: Local) [0 => 1] Next;
    /// L[i] := pop
    0x03 SetLocal(i: Local) [1 => 0] Next;
    /// push F[i]
    0x04 Free(i: Free) [0 => 1] Next;
    /// push G[g]; an unbound global is an error
    0x05 Global(g: Global) [0 => 1] Next;
    /// G[g] := pop; an unbound global is an error
    0x06 SetGlobal(g: Global) [1 => 0] Next;
    /// G[g] := pop, binding it if unbound
    0x07 DefineGlobal(g: Global) [1 => 0] Next;
    /// push a new box holding pop (assignment conversion)
    0x08 MakeBox() [1 => 1] Next;
    /// push the contents of the box pop
    0x09 BoxRef() [1 => 1] Next;
    /// v := pop; b := pop; contents(b) := v
    0x0a BoxSet() [2 => 0] Next;
    /// push the contents of the box in L[i]
    0x0b LocalBoxRef(i: Local) [0 => 1] Next;
    /// push the contents of the box in F[i]
    0x0c FreeBoxRef(i: Free) [0 => 1] Next;
    /// discard pop
    0x0d Pop() [1 => 0] Next;

    // Control.
    /// go to t
    0x10 Jump(t: Target) [0 => 0] Jump;
    /// if pop is #f go to t
    0x11 JumpIfFalse(t: Target) [1 => 0] Branch;
    /// push a closure of function f over the n values popped (first pushed = F[0])
    0x12 MakeClosure(f: Func, n: Count) [n => 1] Next;
    /// v := pop; c := pop; F[i] of closure c := v (ties letrec knots right after MakeClosure)
    0x13 PatchFree(i: Count) [2 => 0] Next;
    /// call the procedure below the n arguments on top; push its result
    0x14 Call(n: Count) [n.saturating_add(1) => 1] Next;
    /// call the procedure below the n arguments on top in place of the current frame
    0x15 TailCall(n: Count) [n.saturating_add(1) => 0] Leave;
    /// return pop to the caller
    0x16 Return() [1 => 0] Leave;

    // Inlined primitives: each behaves exactly as a call of the named standard procedure.
    /// push (car pop)
    0x40 Car() [1 => 1] Next prim "car";
    /// push (cdr pop)
    0x41 Cdr() [1 => 1] Next prim "cdr";
    /// b := pop; a := pop; push (cons a b)
    0x42 Cons() [2 => 1] Next prim "cons";
    /// push (null? pop)
    0x43 IsNull() [1 => 1] Next prim "null?";
    /// push (pair? pop)
    0x44 IsPair() [1 => 1] Next prim "pair?";
    /// push (not pop)
    0x45 Not() [1 => 1] Next prim "not";
    /// b := pop; a := pop; push (eq? a b)
    0x46 IsEq() [2 => 1] Next prim "eq?";
    /// b := pop; a := pop; push (eqv? a b)
    0x47 IsEqv() [2 => 1] Next prim "eqv?";
    /// b := pop; a := pop; push (+ a b)
    0x48 Add() [2 => 1] Next prim "+";
    /// b := pop; a := pop; push (- a b)
    0x49 Sub() [2 => 1] Next prim "-";
    /// b := pop; a := pop; push (* a b)
    0x4a Mul() [2 => 1] Next prim "*";
    /// b := pop; a := pop; push (= a b)
    0x4b NumEq() [2 => 1] Next prim "=";
    /// b := pop; a := pop; push (< a b)
    0x4c Lt() [2 => 1] Next prim "<";
    /// b := pop; a := pop; push (> a b)
    0x4d Gt() [2 => 1] Next prim ">";
    /// b := pop; a := pop; push (<= a b)
    0x4e Le() [2 => 1] Next prim "<=";
    /// b := pop; a := pop; push (>= a b)
    0x4f Ge() [2 => 1] Next prim ">=";
    /// push (zero? pop)
    0x50 IsZero() [1 => 1] Next prim "zero?";
    /// i := pop; v := pop; push (vector-ref v i)
    0x51 VectorRef() [2 => 1] Next prim "vector-ref";
    /// x := pop; i := pop; v := pop; (vector-set! v i x); push unspecified
    0x52 VectorSet() [3 => 1] Next prim "vector-set!";
    /// d := pop; p := pop; (set-car! p d); push unspecified
    0x53 SetCar() [2 => 1] Next prim "set-car!";
    /// d := pop; p := pop; (set-cdr! p d); push unspecified
    0x54 SetCdr() [2 => 1] Next prim "set-cdr!";
    /// w := pop; i := pop; t := pop; r := pop; push field i of record r, which must be of type t
    /// (w names the accessor in errors)
    0x55 RecordRef() [4 => 1] Next prim "%record-ref";
    /// w := pop; v := pop; i := pop; t := pop; r := pop; field i of record r (of type t) := v;
    /// push unspecified
    0x56 RecordSet() [5 => 1] Next prim "%record-set!";
    /// b := pop; a := pop; push (quotient a b)
    0x57 Quotient() [2 => 1] Next prim "quotient";
    /// b := pop; a := pop; push (remainder a b)
    0x58 Remainder() [2 => 1] Next prim "remainder";
    /// b := pop; a := pop; push (modulo a b)
    0x59 Modulo() [2 => 1] Next prim "modulo";

    // Superinstructions: never in an image (the verifier refuses them). The VM writes them over
    // the first instruction of a common pair when it loads verified code (see `super::quicken`);
    // the second instruction stays, so that indices, jumps into the pair, source positions and
    // saved pcs keep their meaning. Each runs the pair and goes on after it.
    /// push L[i]; push L[j] (over `Local i`, `Local j`)
    0xc0 LocalLocal(i: Local, j: Local) [0 => 2] Next;
    /// push L[i]; push K[k] (over `Local i`, `Const k`)
    0xc1 LocalConst(i: Local, k: Const) [0 => 2] Next;
    /// a := pop; push (+ a K[k]) (over `Const k`, `Add`)
    0xc2 ConstAdd(k: Const) [1 => 1] Next;
    /// a := pop; push (- a K[k]) (over `Const k`, `Sub`)
    0xc3 ConstSub(k: Const) [1 => 1] Next;
    /// return L[i] to the caller (over `Local i`, `Return`)
    0xc4 LocalReturn(i: Local) [0 => 0] Leave;
    /// push the process's global slot s; unbound is an error (over `Global g`, linked to its slot)
    0xc5 GlobalSlot(s: Count) [0 => 1] Next;
    // Triples over `Local i`, `Const k` and an arithmetic or comparison: one dispatch for `(- n 1)`
    // or `(< n 2)`. A comparison followed by a forward `JumpIfFalse` branches at once, as the
    // comparison alone does.
    /// push (+ L[i] K[k]) (over `Local i`, `Const k`, `Add`)
    0xc6 LocalConstAdd(i: Local, k: Const) [0 => 1] Next;
    /// push (- L[i] K[k]) (over `Local i`, `Const k`, `Sub`)
    0xc7 LocalConstSub(i: Local, k: Const) [0 => 1] Next;
    /// push (= L[i] K[k]) (over `Local i`, `Const k`, `NumEq`)
    0xc8 LocalConstNumEq(i: Local, k: Const) [0 => 1] Next;
    /// push (< L[i] K[k]) (over `Local i`, `Const k`, `Lt`)
    0xc9 LocalConstLt(i: Local, k: Const) [0 => 1] Next;
    /// push (> L[i] K[k]) (over `Local i`, `Const k`, `Gt`)
    0xca LocalConstGt(i: Local, k: Const) [0 => 1] Next;
    /// push (< L[i] L[j]) (over `Local i`, `Local j`, `Lt`)
    0xcb LocalLocalLt(i: Local, j: Local) [0 => 1] Next;
    /// push (<= L[i] L[j]) (over `Local i`, `Local j`, `Le`)
    0xcc LocalLocalLe(i: Local, j: Local) [0 => 1] Next;
    /// push (= L[i] L[j]) (over `Local i`, `Local j`, `NumEq`)
    0xcd LocalLocalNumEq(i: Local, j: Local) [0 => 1] Next;
    /// push (+ L[i] L[j]) (over `Local i`, `Local j`, `Add`)
    0xce LocalLocalAdd(i: Local, j: Local) [0 => 1] Next;
    // Pairs of a local and a list primitive: `(car l)`, `(cdr l)`, `(null? l)`.
    /// push (car L[i]) (over `Local i`, `Car`)
    0xcf LocalCar(i: Local) [0 => 1] Next;
    /// push (cdr L[i]) (over `Local i`, `Cdr`)
    0xd0 LocalCdr(i: Local) [0 => 1] Next;
    /// push (null? L[i]) (over `Local i`, `IsNull`)
    0xd1 LocalIsNull(i: Local) [0 => 1] Next;
}

/// Opcodes from here up are superinstructions, which only the VM writes.
pub const FIRST_SUPERINSTRUCTION: u8 = 0xc0;

impl Insn {
    /// Whether this is a superinstruction (see the end of the table): never valid in an image.
    pub fn is_superinstruction(&self) -> bool {
        self.opcode() >= FIRST_SUPERINSTRUCTION
    }
}

/// The instruction table as the Markdown rows of `spec/bytecode.md`.
pub fn markdown_table() -> String {
    let mut out =
        String::from("| opcode | instruction | operands | pops → pushes | meaning |\n|---|---|---|---|---|\n");
    for insn in Insn::all() {
        let operands: Vec<String> = insn
            .operands()
            .iter()
            .zip(insn.operand_names())
            .map(|((kind, _), name)| format!("{name}: {kind:?}"))
            .collect();
        let (pops, pushes) = insn.stack_effect();
        let pops = match insn {
            Insn::MakeClosure { .. } => "n".to_string(),
            Insn::Call { .. } | Insn::TailCall { .. } => "n + 1".to_string(),
            _ => pops.to_string(),
        };
        out.push_str(&format!(
            "| 0x{:02x} | `{}` | {} | {pops} → {pushes} | {} |\n",
            insn.opcode(),
            insn.name(),
            operands.join(", "),
            insn.doc().replace('|', "\\|")
        ));
    }
    out
}

impl fmt::Display for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        for (_, value) in self.operands() {
            write!(f, " {value}")?;
        }
        Ok(())
    }
}

/// Encodes a whole instruction sequence.
pub fn encode_all(insns: &[Insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(insns.len() * 5);
    for insn in insns {
        insn.encode(&mut out);
    }
    out
}

/// Decodes a whole instruction sequence.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Insn>, DecodeError> {
    let mut insns = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        insns.push(Insn::decode(bytes, &mut offset)?);
    }
    Ok(insns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instruction_round_trips_through_its_encoding() {
        let samples = [
            Insn::Const { k: 7 },
            Insn::MakeClosure { f: 3, n: 2 },
            Insn::Call { n: u32::MAX },
            Insn::Car {},
            Insn::VectorSet {},
            Insn::Jump { t: 0x0102_0304 },
        ];
        let bytes = encode_all(&samples);
        assert_eq!(decode_all(&bytes).unwrap(), samples);
    }

    #[test]
    fn truncated_and_unknown_bytes_are_errors() {
        assert_eq!(decode_all(&[0x01, 0, 0]), Err(DecodeError::Truncated { offset: 0 }));
        assert_eq!(decode_all(&[0xff]), Err(DecodeError::UnknownOpcode { opcode: 0xff, offset: 0 }));
    }

    #[test]
    fn primitives_are_found_by_name_and_arity() {
        assert_eq!(Insn::primitive("car", 1), Some(Insn::Car {}));
        assert_eq!(Insn::primitive("car", 2), None);
        assert_eq!(Insn::primitive("+", 2), Some(Insn::Add {}));
        assert_eq!(Insn::primitive("vector-set!", 3), Some(Insn::VectorSet {}));
        assert!(Insn::primitive_names().contains(&"eq?"));
    }

    #[test]
    fn every_instruction_is_found_by_name_with_its_operands() {
        for insn in Insn::all() {
            let operands: Vec<u32> = (1..=insn.operand_names().len() as u32).collect();
            let built = Insn::from_name_and_operands(insn.name(), &operands).expect("a known mnemonic");
            assert_eq!(
                (built.name(), built.operands().iter().map(|&(_, v)| v).collect::<Vec<_>>()),
                (insn.name(), operands.clone())
            );
            let mut one_more = operands.clone();
            one_more.push(0);
            assert_eq!(Insn::from_name_and_operands(insn.name(), &one_more), None);
            if let Some((_, fewer)) = operands.split_last() {
                assert_eq!(Insn::from_name_and_operands(insn.name(), fewer), None);
            }
        }
        assert_eq!(Insn::from_name_and_operands("MakeClosure", &[3, 2]), Some(Insn::MakeClosure { f: 3, n: 2 }));
        assert_eq!(Insn::from_name_and_operands("makeclosure", &[3, 2]), None);
        assert_eq!(Insn::from_name_and_operands("Nope", &[]), None);
    }

    #[test]
    fn stack_effects_follow_operands() {
        assert_eq!(Insn::Call { n: 3 }.stack_effect(), (4, 1));
        assert_eq!(Insn::MakeClosure { f: 0, n: 5 }.stack_effect(), (5, 1));
    }
}
