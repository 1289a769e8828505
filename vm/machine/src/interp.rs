//! The interpreter: one dispatch loop over verified instructions, with every Scheme frame on an
//! explicit stack.
//!
//! The value stack holds, for each frame, the procedure being run, its local slots (parameters first)
//! and its operand stack:
//!
//! ```text
//!   ... | closure | L[0] L[1] ... L[locals-1] | operands ... |
//!                   ^ frame.base
//! ```
//!
//! A call pushes a [`Frame`]; a tail call slides the callee and its arguments down over the current
//! frame and reuses it, so a loop written as tail calls runs in constant space; a return truncates the
//! stack to the frame's closure slot and leaves the result there. No Scheme call ever recurses on the
//! Rust stack, so recursion depth is bounded by memory alone, and a continuation is plain data.

use std::sync::Arc;

use chenilles_compiler::bytecode::{Insn, VerifiedFunction};

use crate::heap::{Condition, ConditionKind, Continuation, Frame, Object};
use crate::loader::Loader;
use crate::natives::{NativeKind, lists, natives, records, vectors};
use crate::numbers::Numbers;
use crate::numbers::Op;
use crate::printer::{Bounds, Style};
use crate::runtime::Runtime;
use crate::throw::Throw;

use crate::value::Value;

/// How many of the functions run lately [`Vm::execute`] keeps at hand.
const RECENT_FUNCTIONS: usize = 4;

/// The functions the interpreter ran lately, each held by a clone of its `Arc` (the table may
/// grow, and move, while one runs: `eval` and `load` add functions), so that going back and
/// forth between a few functions costs no atomic reference counting. Replaced round-robin.
#[derive(Default)]
struct RecentFunctions {
    slots: Vec<(u32, Arc<LoadedFunction>)>,
    /// The slot of the function returned last: a recursion asks for it again.
    last: usize,
    next: usize,
}

impl RecentFunctions {
    /// Function `index` of `functions` (which the verifier and the loader keep in range).
    #[inline]
    fn get(&mut self, index: u32, functions: &[Arc<LoadedFunction>]) -> &LoadedFunction {
        if self.slots.get(self.last).is_some_and(|(i, _)| *i == index) {
            return &self.slots[self.last].1;
        }
        let slot = match self.slots.iter().position(|(i, _)| *i == index) {
            Some(slot) => slot,
            None if self.slots.len() < RECENT_FUNCTIONS => {
                self.slots.push((index, functions[index as usize].clone()));
                self.slots.len() - 1
            }
            None => {
                let slot = self.next;
                self.next = (self.next + 1) % RECENT_FUNCTIONS;
                self.slots[slot] = (index, functions[index as usize].clone());
                slot
            }
        };
        self.last = slot;
        &self.slots[slot].1
    }
}

/// A function of a loaded image.
pub struct LoadedFunction {
    /// The function as the verifier returned it.
    pub code: VerifiedFunction,
    /// `code.insns` with superinstructions (see [`chenilles_compiler::bytecode::quicken()`]): what
    /// the interpreter runs. Same length and meaning index by index.
    pub quick: Box<[Insn]>,
    /// Index of its image in `Vm::images`.
    pub image: u32,
    /// Its image's constants (shared with [`LoadedImage::constants`]).
    pub constants: Arc<[Value]>,
    /// Set when the whole function is one record operation, run without a frame.
    pub shortcut: Option<Shortcut>,
    /// The argument count of a call that enters a frame at once (its required count, for a
    /// function with only required parameters and no shortcut; otherwise none, `u32::MAX`).
    pub frame_argc: u32,
    /// The stack room its frame needs above its closure: locals, operands, and one more.
    pub frame_reserve: u32,
}

impl LoadedFunction {
    /// A function of image `image` whose constants are `constants`, ready to run.
    pub fn new(code: VerifiedFunction, quick: Box<[Insn]>, image: u32, constants: Arc<[Value]>) -> LoadedFunction {
        let shortcut = Shortcut::of(&code);
        let plain = code.optional == 0 && !code.rest && shortcut.is_none();
        let frame_argc = if plain { code.required } else { u32::MAX };
        let frame_reserve = code.locals.saturating_add(code.max_stack).saturating_add(1);
        LoadedFunction { code, quick, image, constants, shortcut, frame_argc, frame_reserve }
    }
}

/// A function whose whole body is one record operation on its parameters and free variables:
/// the accessors and modifiers `define-record-type` makes (`stdlib-scm/control.scm`). A call of
/// one runs the operation in place, like a native procedure, instead of entering a frame for
/// six instructions. The result, the error and the step count are the same; only the frame is
/// missing (from a backtrace, from the depth limit's count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    /// `(lambda (r) (%record-ref r type index who))`; the free-variable slots of type, index, who.
    RecordRef {
        /// The free-variable slots of the type, the index and the name.
        free: [u32; 3],
    },
    /// `(lambda (r v) (%record-set! r type index v who))`; the same three slots.
    RecordSet {
        /// The free-variable slots of the type, the index and the name.
        free: [u32; 3],
    },
}

impl Shortcut {
    /// The shortcut for `code`, if its instructions are exactly one of the shapes above.
    pub fn of(code: &VerifiedFunction) -> Option<Shortcut> {
        if code.optional != 0 || code.rest {
            return None;
        }
        use Insn::{Free, Local, RecordRef, RecordSet, Return};
        match (code.required, code.insns.as_slice()) {
            (1, [Local { i: 0 }, Free { i: t }, Free { i: k }, Free { i: w }, RecordRef {}, Return {}]) => {
                Some(Shortcut::RecordRef { free: [*t, *k, *w] })
            }
            (
                2,
                [Local { i: 0 }, Free { i: t }, Free { i: k }, Local { i: 1 }, Free { i: w }, RecordSet {}, Return {}],
            ) => Some(Shortcut::RecordSet { free: [*t, *k, *w] }),
            _ => None,
        }
    }
}

/// An image's run-time tables.
pub struct LoadedImage {
    /// The image's name (its program or library).
    pub name: String,
    /// The source files its positions refer to.
    pub files: Vec<String>,
    /// Its constants as values.
    pub constants: Arc<[Value]>,
    /// For each global name of the image, the process's global slot.
    pub globals: Vec<u32>,
    /// Index in `Vm::functions` of the image's function 0.
    pub function_base: u32,
    /// The image file's bytes, kept by a durable process until a checkpoint has stored them.
    pub bytes: Option<Vec<u8>>,
}

/// One line of a Scheme backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BacktraceEntry {
    /// The function's name.
    pub function: String,
    /// `file:line:col`, when known.
    pub position: Option<String>,
}

/// Why a run stopped other than by returning.
#[derive(Debug)]
pub enum Trap {
    /// An uncaught `raise` or error.
    Uncaught {
        /// What was raised.
        payload: Value,
        /// Where: the innermost frames and the outermost.
        backtrace: Vec<BacktraceEntry>,
        /// How many frames between them the backtrace leaves out.
        frames_omitted: usize,
    },
    /// `(exit code)`.
    Exit(i32),
    /// The host asked for control back ([`Runtime::yield_at`] was reached): the process stopped at
    /// a safepoint, between two instructions, with all its state in the [`Vm`]. A checkpoint may be
    /// taken now; [`Vm::continue_thunk`] goes on exactly where it stopped.
    Yield,
}

/// The interpreter state of one process.
pub struct Vm {
    /// Everything but the interpreter's stacks: heap, symbols, ports, limits, effects.
    pub rt: Runtime,
    /// The value stack: every frame's closure, locals and operands.
    pub(crate) stack: Vec<Value>,
    /// The calls in progress, innermost last.
    pub(crate) frames: Vec<Frame>,
    /// Every loaded function, by process-wide function index.
    pub(crate) functions: Vec<Arc<LoadedFunction>>,
    /// The images loaded into the process, in load order.
    pub(crate) images: Vec<LoadedImage>,
    /// The global variables' values, by slot.
    pub(crate) globals: Vec<Value>,
    /// The symbol naming each global slot.
    pub(crate) global_names: Vec<Value>,
    /// The slot of each global, by the symbol naming it.
    pub(crate) global_slots: std::collections::HashMap<Value, u32>,
    /// The most frames ever live at once (proper tail calls keep this flat).
    pub peak_frames: usize,
    /// Calls and backward jumps so far (see [`crate::runtime::Limits::max_steps`]).
    pub steps: u64,
    /// The compiler `eval` uses, made on first use.
    pub(crate) eval_compiler: Option<Box<chenilles_compiler::Compiler>>,
    /// Stack slots below this index, and frames below this index, have not changed since the last
    /// checkpoint: only the top frame writes to the stack, so returns lower these marks and
    /// nothing else needs to (see `Vm::return_from_frame`). 0 when unknown.
    pub(crate) clean_stack: usize,
    /// Like `clean_stack`, for the frames.
    pub(crate) clean_frames: usize,
    /// Whether loaded images keep their bytes, for a durable process's checkpoints to store.
    pub(crate) keep_image_bytes: bool,
    /// Entry functions of loaded images still to run, in order (a durable process's boot list:
    /// the libraries' bodies, then the program's).
    pub(crate) boot: std::collections::VecDeque<u32>,
}

/// The result of dispatching a call.
enum Called {
    /// A new frame was entered (or the current one replaced): reload the frame state.
    Entered,
    /// A native procedure ran and its value is on the stack; go on with the same frame.
    Pushed,
    /// A native in tail position produced this value: return it from the current frame.
    TailValue(Value),
    /// A continuation was reinstated: deliver this value to it.
    Restored(Value),
}

/// What the dispatch loop does after a call.
enum Next {
    /// Go on with the current frame.
    Continue,
    /// The frame changed: reload its state.
    Reload,
    /// The outermost frame of this `execute` returned.
    Return(Value),
}

/// The message of the error a reference to an unbound global raises (its irritant: the name).
const UNBOUND: &str = "unbound variable";
/// The message of the error a `set!` of an unbound global raises.
const SET_UNBOUND: &str = "set!: unbound variable";

const BACKTRACE_HEAD: usize = 20;
const BACKTRACE_TAIL: usize = 5;

impl Vm {
    /// A process with every native procedure bound and nothing else loaded.
    pub fn new(rt: Runtime) -> Vm {
        let mut vm = Vm {
            rt,
            stack: Vec::new(),
            frames: Vec::new(),
            functions: Vec::new(),
            images: Vec::new(),
            globals: Vec::new(),
            global_names: Vec::new(),
            global_slots: std::collections::HashMap::new(),
            peak_frames: 0,
            steps: 0,
            eval_compiler: None,
            clean_stack: 0,
            clean_frames: 0,
            keep_image_bytes: false,
            boot: std::collections::VecDeque::new(),
        };
        for (index, def) in crate::natives::natives().iter().enumerate() {
            let slot = vm.global_slot(def.name) as usize;
            vm.globals[slot] = Value::native(index as u32);
        }
        vm
    }

    /// The global slot for `name`, created unbound if new.
    pub fn global_slot(&mut self, name: &str) -> u32 {
        let symbol = self.rt.symbols.intern(name);
        if let Some(&slot) = self.global_slots.get(&symbol) {
            return slot;
        }
        let slot = self.globals.len() as u32;
        self.globals.push(Value::UNDEFINED);
        self.global_names.push(symbol);
        self.global_slots.insert(symbol, slot);
        slot
    }

    /// Runs `closure` with no arguments to completion.
    pub fn call_thunk(&mut self, closure: Value) -> Result<Value, Trap> {
        let depth = self.frames.len();
        let stack_height = self.stack.len();
        self.stack.push(closure);
        let result = match self.dispatch_call(0, false) {
            Ok(Called::Entered) => self.execute(depth),
            Ok(Called::Pushed) => Ok(self.stack.pop().unwrap_or(Value::UNSPECIFIED)),
            Ok(Called::TailValue(v) | Called::Restored(v)) => Ok(v),
            Err(throw) => Err(self.trap(throw)),
        };
        if matches!(result, Err(Trap::Uncaught { .. } | Trap::Exit(_))) {
            self.frames.truncate(depth);
            self.stack.truncate(stack_height);
            self.forget_clean_marks();
        }
        result
    }

    /// Goes on with a thunk that [`Vm::call_thunk`] started at the top level (no frames below it)
    /// and that stopped with [`Trap::Yield`].
    pub fn continue_thunk(&mut self) -> Result<Value, Trap> {
        if self.frames.is_empty() {
            return Ok(self.stack.pop().unwrap_or(Value::UNSPECIFIED));
        }
        let result = self.execute(0);
        if matches!(result, Err(Trap::Uncaught { .. } | Trap::Exit(_))) {
            self.frames.clear();
            self.stack.clear();
            self.forget_clean_marks();
        }
        result
    }

    /// The names of the global variables defined so far (what a REPL completes).
    pub fn global_variable_names(&self) -> Vec<String> {
        self.global_names.iter().filter_map(|name| self.rt.symbols.name(*name)).map(str::to_string).collect()
    }

    /// Gives up the computation [`Vm::call_thunk`] started at the top level and that stopped with
    /// [`Trap::Yield`] (a person interrupted it): its continuation is dropped, as an uncaught error
    /// drops it, and its backtrace returned (innermost first, and how many frames it leaves out).
    pub fn abandon(&mut self) -> (Vec<BacktraceEntry>, usize) {
        let backtrace = self.backtrace();
        self.frames.clear();
        self.stack.clear();
        self.forget_clean_marks();
        backtrace
    }

    /// Goes on with a durable process: continues the interrupted thunk, or starts the next entry of
    /// the boot list; `None` once there is nothing left to run.
    pub fn resume_boot(&mut self) -> Option<Result<Value, Trap>> {
        if self.is_running() {
            return Some(self.continue_thunk());
        }
        let entry = self.boot.pop_front()?;
        let closure = self.closure_of(entry);
        Some(self.call_thunk(closure))
    }

    /// Whether the boot list has run to its end: the value [`Vm::resume_boot`] just returned is
    /// the program's last.
    pub fn boot_is_done(&self) -> bool {
        self.boot.is_empty()
    }

    /// Forgets which parts of the stacks are unchanged since the last checkpoint.
    pub fn forget_clean_marks(&mut self) {
        self.clean_stack = 0;
        self.clean_frames = 0;
    }

    /// Marks the stacks as they are now as written by a checkpoint: everything but the top frame,
    /// which goes on changing.
    pub fn mark_stacks_clean(&mut self) {
        self.clean_stack = self.frames.last().map_or(0, |top| top.base as usize - 1);
        self.clean_frames = self.frames.len().saturating_sub(1);
    }

    /// How many stack values and frames changed since the last checkpoint (what the next one
    /// writes of the stacks).
    pub fn stack_changes(&self) -> (usize, usize) {
        (self.stack.len().saturating_sub(self.clean_stack), self.frames.len().saturating_sub(self.clean_frames))
    }

    /// Whether a thunk is part-way through (it yielded and has not finished).
    pub fn is_running(&self) -> bool {
        !self.frames.is_empty()
    }

    fn execute(&mut self, stop_depth: usize) -> Result<Value, Trap> {
        // The functions run lately, kept across frames: a call or return between them (a
        // recursion, a caller and its callees) reloads only the frame's pc and base, and touches
        // no reference count.
        let mut recent = RecentFunctions::default();
        'frames: loop {
            let frame_index = self.frames.len() - 1;
            let Frame { function: index, mut pc, base } = self.frames[frame_index];
            let function: &LoadedFunction = recent.get(index, &self.functions);
            let image = function.image as usize;
            let insns: &[Insn] = &function.quick;
            let constants: &[Value] = &function.constants;
            let base = base as usize;
            loop {
                let insn = insns[pc as usize];
                pc += 1;
                let outcome: Result<(), Throw> = match insn {
                    Insn::Const { k } => {
                        self.stack.push(constants[k as usize]);
                        Ok(())
                    }
                    Insn::Local { i } => {
                        self.stack.push(self.stack[base + i as usize]);
                        Ok(())
                    }
                    Insn::SetLocal { i } => {
                        let v = self.pop();
                        self.stack[base + i as usize] = v;
                        Ok(())
                    }
                    Insn::Free { i } => {
                        let v = self.free_variable(base, i);
                        self.stack.push(v);
                        Ok(())
                    }
                    Insn::Global { g } => {
                        let slot = self.images[image].globals[g as usize] as usize;
                        let v = self.globals[slot];
                        if v == Value::UNDEFINED {
                            Err(Throw::error(UNBOUND, vec![self.global_names[slot]]))
                        } else {
                            self.stack.push(v);
                            Ok(())
                        }
                    }
                    Insn::GlobalSlot { s } => {
                        let v = self.globals[s as usize];
                        if v == Value::UNDEFINED {
                            Err(Throw::error(UNBOUND, vec![self.global_names[s as usize]]))
                        } else {
                            self.stack.push(v);
                            Ok(())
                        }
                    }
                    Insn::SetGlobal { g } => {
                        let slot = self.images[image].globals[g as usize] as usize;
                        let v = self.pop();
                        if self.globals[slot] == Value::UNDEFINED {
                            Err(Throw::error(SET_UNBOUND, vec![self.global_names[slot]]))
                        } else {
                            self.globals[slot] = v;
                            Ok(())
                        }
                    }
                    Insn::DefineGlobal { g } => {
                        let slot = self.images[image].globals[g as usize] as usize;
                        self.globals[slot] = self.pop();
                        Ok(())
                    }
                    Insn::MakeBox {} => {
                        let v = self.pop();
                        let cell = self.rt.heap.alloc(Object::Box(v));
                        self.stack.push(cell);
                        Ok(())
                    }
                    Insn::BoxRef {} => {
                        let cell = self.pop();
                        let v = self.box_contents(cell);
                        self.stack.push(v);
                        Ok(())
                    }
                    Insn::BoxSet {} => {
                        let v = self.pop();
                        let cell = self.pop();
                        if let Some(Object::Box(contents)) = self.rt.heap.get_mut(cell) {
                            *contents = v;
                        }
                        Ok(())
                    }
                    Insn::LocalBoxRef { i } => {
                        let v = self.box_contents(self.stack[base + i as usize]);
                        self.stack.push(v);
                        Ok(())
                    }
                    Insn::FreeBoxRef { i } => {
                        let cell = self.free_variable(base, i);
                        let v = self.box_contents(cell);
                        self.stack.push(v);
                        Ok(())
                    }
                    Insn::Pop {} => {
                        self.pop();
                        Ok(())
                    }
                    Insn::Jump { t } => {
                        if t < pc {
                            // A loop: a step, and a safepoint (a loop that never calls must still
                            // be collected after, and stopped by the heap limit).
                            self.frames[frame_index].pc = pc;
                            self.step_at_safepoint(frame_index)?;
                        }
                        pc = t;
                        Ok(())
                    }
                    Insn::JumpIfFalse { t } => {
                        // The step is counted before the test is popped, so that a yield here leaves
                        // the instruction to run again, operand and all.
                        if t < pc && self.stack.last() == Some(&Value::FALSE) {
                            self.frames[frame_index].pc = pc;
                            self.step_at_safepoint(frame_index)?;
                        }
                        if self.pop() == Value::FALSE {
                            pc = t;
                        }
                        Ok(())
                    }
                    Insn::MakeClosure { f, n } => {
                        let at = self.stack.len() - n as usize;
                        let free: Box<[Value]> = self.stack[at..].into();
                        self.stack.truncate(at);
                        let function = self.images[image].function_base + f;
                        let closure = self.rt.heap.alloc(Object::Closure { function, free });
                        self.stack.push(closure);
                        Ok(())
                    }
                    Insn::PatchFree { i } => {
                        let v = self.pop();
                        let closure = self.pop();
                        match self.rt.heap.get_mut(closure) {
                            Some(Object::Closure { free, .. }) if (i as usize) < free.len() => {
                                free[i as usize] = v;
                                Ok(())
                            }
                            _ => Err(Throw::error("internal error: PatchFree on a non-closure", vec![])),
                        }
                    }
                    Insn::Call { n } | Insn::TailCall { n } => {
                        let tail = matches!(insn, Insn::TailCall { .. });
                        self.frames[frame_index].pc = pc;
                        self.step_at_safepoint(frame_index)?;
                        let callee_at = self.stack.len() - n as usize - 1;
                        if tail && self.stack[callee_at] == self.stack[base - 1] && function.code.takes_exactly(n) {
                            // A loop: the running closure calls itself in tail position. The frame
                            // stays; its parameters take the arguments and it starts again.
                            self.stack.copy_within(callee_at + 1.., base);
                            self.stack.truncate(base + n as usize);
                            self.stack.resize(base + function.code.locals as usize, Value::UNDEFINED);
                            self.charge_fresh_locals(function.code.locals as usize - n as usize);
                            pc = 0;
                            continue;
                        }
                        let called = match self.dispatch_call(n as usize, tail) {
                            Ok(called) => called,
                            Err(throw) => {
                                self.stack.truncate(callee_at);
                                self.raise_in_scheme(throw, tail)?
                            }
                        };
                        match self.settle(called, stop_depth) {
                            Next::Continue => Ok(()),
                            Next::Reload => continue 'frames,
                            Next::Return(v) => return Ok(v),
                        }
                    }
                    Insn::Return {} => {
                        let v = self.pop();
                        if let Some(v) = self.return_from_frame(v, stop_depth) {
                            return Ok(v);
                        }
                        continue 'frames;
                    }
                    // Superinstructions: each runs its pair and goes on after it.
                    Insn::LocalLocal { i, j } => {
                        pc += 1;
                        self.stack.push(self.stack[base + i as usize]);
                        self.stack.push(self.stack[base + j as usize]);
                        Ok(())
                    }
                    Insn::LocalConst { i, k } => {
                        pc += 1;
                        self.stack.push(self.stack[base + i as usize]);
                        self.stack.push(constants[k as usize]);
                        Ok(())
                    }
                    Insn::ConstAdd { k } => {
                        // Past the `Add`, so that an error is reported at its position.
                        pc += 1;
                        let a = self.pop();
                        self.arithmetic_on(Op::Add, a, constants[k as usize])
                    }
                    Insn::ConstSub { k } => {
                        pc += 1;
                        let a = self.pop();
                        self.arithmetic_on(Op::Sub, a, constants[k as usize])
                    }
                    // Triples: past the third instruction, so that an error is reported at its
                    // position and a fused test finds the `JumpIfFalse` after it.
                    Insn::LocalConstAdd { i, k } => {
                        pc += 2;
                        let (a, b) = (self.stack[base + i as usize], constants[k as usize]);
                        self.arithmetic_on(Op::Add, a, b)
                    }
                    Insn::LocalConstSub { i, k } => {
                        pc += 2;
                        let (a, b) = (self.stack[base + i as usize], constants[k as usize]);
                        self.arithmetic_on(Op::Sub, a, b)
                    }
                    Insn::LocalConstNumEq { i, k } => {
                        pc += 2;
                        let (a, b) = (self.stack[base + i as usize], constants[k as usize]);
                        self.comparison_on("=", a, b, |o| o.is_eq()).map(|h| self.test_result(h, insns, &mut pc))
                    }
                    Insn::LocalConstLt { i, k } => {
                        pc += 2;
                        let (a, b) = (self.stack[base + i as usize], constants[k as usize]);
                        self.comparison_on("<", a, b, |o| o.is_lt()).map(|h| self.test_result(h, insns, &mut pc))
                    }
                    Insn::LocalConstGt { i, k } => {
                        pc += 2;
                        let (a, b) = (self.stack[base + i as usize], constants[k as usize]);
                        self.comparison_on(">", a, b, |o| o.is_gt()).map(|h| self.test_result(h, insns, &mut pc))
                    }
                    Insn::LocalLocalLt { i, j } => {
                        pc += 2;
                        let (a, b) = (self.stack[base + i as usize], self.stack[base + j as usize]);
                        self.comparison_on("<", a, b, |o| o.is_lt()).map(|h| self.test_result(h, insns, &mut pc))
                    }
                    Insn::LocalLocalLe { i, j } => {
                        pc += 2;
                        let (a, b) = (self.stack[base + i as usize], self.stack[base + j as usize]);
                        self.comparison_on("<=", a, b, |o| o.is_le()).map(|h| self.test_result(h, insns, &mut pc))
                    }
                    Insn::LocalLocalNumEq { i, j } => {
                        pc += 2;
                        let (a, b) = (self.stack[base + i as usize], self.stack[base + j as usize]);
                        self.comparison_on("=", a, b, |o| o.is_eq()).map(|h| self.test_result(h, insns, &mut pc))
                    }
                    Insn::LocalLocalAdd { i, j } => {
                        pc += 2;
                        let (a, b) = (self.stack[base + i as usize], self.stack[base + j as usize]);
                        self.arithmetic_on(Op::Add, a, b)
                    }
                    Insn::LocalCar { i } => {
                        pc += 1;
                        self.push_car(self.stack[base + i as usize])
                    }
                    Insn::LocalCdr { i } => {
                        pc += 1;
                        self.push_cdr(self.stack[base + i as usize])
                    }
                    Insn::LocalIsNull { i } => {
                        pc += 1;
                        let holds = self.stack[base + i as usize] == Value::NIL;
                        self.test_result(holds, insns, &mut pc);
                        Ok(())
                    }
                    Insn::LocalReturn { i } => {
                        let v = self.stack[base + i as usize];
                        if let Some(v) = self.return_from_frame(v, stop_depth) {
                            return Ok(v);
                        }
                        continue 'frames;
                    }
                    Insn::Car {} => {
                        let v = self.pop();
                        self.push_car(v)
                    }
                    Insn::Cdr {} => {
                        let v = self.pop();
                        self.push_cdr(v)
                    }
                    Insn::Cons {} => {
                        let cdr = self.pop();
                        let car = self.pop();
                        let pair = self.rt.heap.cons(car, cdr);
                        self.stack.push(pair);
                        Ok(())
                    }
                    Insn::IsNull {} => {
                        let holds = self.pop() == Value::NIL;
                        self.test_result(holds, insns, &mut pc);
                        Ok(())
                    }
                    Insn::IsPair {} => {
                        let v = self.pop();
                        let holds = self.rt.heap.pair(v).is_some();
                        self.test_result(holds, insns, &mut pc);
                        Ok(())
                    }
                    Insn::Not {} => {
                        let holds = self.pop() == Value::FALSE;
                        self.test_result(holds, insns, &mut pc);
                        Ok(())
                    }
                    Insn::IsEq {} => {
                        let (b, a) = (self.pop(), self.pop());
                        self.test_result(a == b, insns, &mut pc);
                        Ok(())
                    }
                    Insn::IsEqv {} => {
                        let (b, a) = (self.pop(), self.pop());
                        let holds = crate::natives::control::eqv(&self.rt, a, b);
                        self.test_result(holds, insns, &mut pc);
                        Ok(())
                    }
                    Insn::Add {} => self.arithmetic(Op::Add),
                    Insn::Sub {} => self.arithmetic(Op::Sub),
                    Insn::Mul {} => self.arithmetic(Op::Mul),
                    Insn::NumEq {} => self.comparison("=", |o| o.is_eq()).map(|h| self.test_result(h, insns, &mut pc)),
                    Insn::Lt {} => self.comparison("<", |o| o.is_lt()).map(|h| self.test_result(h, insns, &mut pc)),
                    Insn::Gt {} => self.comparison(">", |o| o.is_gt()).map(|h| self.test_result(h, insns, &mut pc)),
                    Insn::Le {} => self.comparison("<=", |o| o.is_le()).map(|h| self.test_result(h, insns, &mut pc)),
                    Insn::Ge {} => self.comparison(">=", |o| o.is_ge()).map(|h| self.test_result(h, insns, &mut pc)),
                    Insn::IsZero {} => {
                        let v = self.pop();
                        match v.as_fixnum() {
                            Some(n) => Ok(n == 0),
                            None => self.rt.compare("zero?", v, Value::small(0)).map(|o| o.is_some_and(|o| o.is_eq())),
                        }
                        .map(|holds| self.test_result(holds, insns, &mut pc))
                    }
                    Insn::VectorRef {} => {
                        let k = self.pop();
                        let v = self.pop();
                        match self.rt.heap.vector_item(v, k) {
                            Some(x) => {
                                self.stack.push(x);
                                Ok(())
                            }
                            None => vectors::vector_ref(&mut self.rt, v, k).map(|x| self.stack.push(x)),
                        }
                    }
                    Insn::VectorSet {} => {
                        let x = self.pop();
                        let k = self.pop();
                        let v = self.pop();
                        if self.rt.heap.set_vector_item(v, k, x) {
                            self.stack.push(Value::UNSPECIFIED);
                            Ok(())
                        } else {
                            vectors::vector_set(&mut self.rt, v, k, x).map(|r| self.stack.push(r))
                        }
                    }
                    Insn::RecordRef {} => {
                        let at = self.stack.len() - 4;
                        let (record, record_type, index, who) =
                            (self.stack[at], self.stack[at + 1], self.stack[at + 2], self.stack[at + 3]);
                        self.stack.truncate(at);
                        records::record_ref(&mut self.rt, record, record_type, index, who).map(|v| self.stack.push(v))
                    }
                    Insn::RecordSet {} => {
                        let at = self.stack.len() - 5;
                        let [record, record_type, index, value, who] =
                            [0, 1, 2, 3, 4].map(|offset| self.stack[at + offset]);
                        self.stack.truncate(at);
                        records::record_set(&mut self.rt, record, record_type, index, value, who)
                            .map(|v| self.stack.push(v))
                    }
                    Insn::Quotient {} => self.binary(|rt, a, b| Ok(rt.divide("quotient", a, b, false)?.0)),
                    Insn::Remainder {} => self.binary(|rt, a, b| Ok(rt.divide("remainder", a, b, false)?.1)),
                    Insn::Modulo {} => self.binary(|rt, a, b| Ok(rt.divide("modulo", a, b, true)?.1)),
                    Insn::SetCar {} => self.binary(lists::set_car),
                    Insn::SetCdr {} => self.binary(lists::set_cdr),
                };
                if let Err(throw) = outcome {
                    // The instruction consumed its operands; raising in Scheme stands in for its value.
                    self.frames[frame_index].pc = pc;
                    let called = self.raise_in_scheme(throw, false)?;
                    match self.settle(called, stop_depth) {
                        Next::Continue => {}
                        Next::Reload => continue 'frames,
                        Next::Return(v) => return Ok(v),
                    }
                }
            }
        }
    }

    /// Pops a frame, leaving `v` as the result of its call. Returns `Some(v)` when that was the last
    /// frame of this `execute`.
    #[inline(always)]
    fn return_from_frame(&mut self, v: Value, stop_depth: usize) -> Option<Value> {
        let frame = self.frames.pop().unwrap_or(Frame { function: 0, pc: 0, base: 1 });
        self.stack.truncate(frame.base as usize - 1);
        match self.frames.last() {
            Some(caller) => {
                self.clean_stack = self.clean_stack.min(caller.base as usize - 1);
                self.clean_frames = self.clean_frames.min(self.frames.len() - 1);
            }
            None => self.forget_clean_marks(),
        }
        if self.frames.len() <= stop_depth {
            return Some(v);
        }
        self.stack.push(v);
        None
    }

    #[inline(always)]
    fn settle(&mut self, called: Called, stop_depth: usize) -> Next {
        match called {
            Called::Entered => Next::Reload,
            Called::Pushed => Next::Continue,
            Called::TailValue(v) => match self.return_from_frame(v, stop_depth) {
                Some(v) => Next::Return(v),
                None => Next::Reload,
            },
            Called::Restored(v) => {
                if self.frames.len() <= stop_depth {
                    return Next::Return(v);
                }
                self.stack.push(v);
                Next::Reload
            }
        }
    }

    /// Compiles a datum for `eval` into a loaded image; returns the closure of its entry function.
    /// Every `eval` loads a new image (images are not unloaded yet). An environment made by
    /// `environment` is its import sets, imported before the expression is compiled; every
    /// environment shares the process's one set of globals.
    fn compile_for_eval(&mut self, expression: Value, environment: Value) -> Result<Value, Throw> {
        let datum = crate::natives::io::value_datum(&self.rt, expression, 0)
            .ok_or_else(|| Throw::error("eval: not a datum (it is circular or holds procedures)", vec![expression]))?;
        let mut data = Vec::new();
        if let Some((tag, import_sets)) = self.rt.heap.pair(environment)
            && self.rt.symbols.name(tag) == Some("%environment")
            && import_sets != Value::NIL
        {
            let import = self.rt.heap.cons(self.rt.symbols.intern("import"), import_sets);
            let import = crate::natives::io::value_datum(&self.rt, import, 0)
                .ok_or_else(|| Throw::error("eval: malformed environment", vec![environment]))?;
            data.push(import);
        }
        data.push(datum);
        let compiler = self.eval_compiler.get_or_insert_with(|| Box::new(chenilles_compiler::Compiler::new()));
        compiler.may_include = self.rt.host.has(crate::capabilities::FILES);
        let file = compiler.add_file("<eval>", "");
        let span = chenilles_reader::Span::new(file, 0, 0);
        let image = compiler
            .compile_data("<eval>", &data, span)
            .map_err(|error| Throw::error(format!("eval: {}", error.message), vec![expression]))?;
        let index = self.load_image(&image).map_err(|error| Throw::error(format!("eval: {error}"), vec![]))?;
        Ok(self.entry_closure(index, image.entry))
    }

    /// The value of global `name`, if bound.
    fn global_named(&mut self, name: &str) -> Option<Value> {
        let symbol = self.rt.symbols.intern(name);
        let slot = *self.global_slots.get(&symbol)?;
        Some(self.globals[slot as usize]).filter(|v| *v != Value::UNDEFINED)
    }

    /// Hands an error or a raised object to the program's exception handlers by calling the Scheme
    /// procedure `raise` (in `stdlib-scm/control.scm`) in place of the failed instruction. With no
    /// handler installed it becomes an uncaught-error trap, whose backtrace shows where it happened.
    fn raise_in_scheme(&mut self, throw: Throw, tail: bool) -> Result<Called, Trap> {
        let payload = match throw {
            Throw::Exit(code) => return Err(Trap::Exit(code)),
            limit @ Throw::Limit(_) => return Err(self.trap(limit)),
            Throw::Raise(payload) => return Err(self.trap_payload(payload)),
            Throw::Error { kind, message, irritants } => self.make_condition(kind, message, irritants),
        };
        let handlers = self.global_named("%handlers").unwrap_or(Value::NIL);
        let raise = self.global_named("raise").filter(|r| self.rt.is_procedure(*r));
        let Some(raise) = raise.filter(|_| handlers != Value::NIL) else {
            return Err(self.trap_payload(payload));
        };
        self.stack.push(raise);
        self.stack.push(payload);
        self.dispatch_call(1, tail).map_err(|throw| self.trap(throw))
    }

    fn make_condition(&mut self, kind: ConditionKind, message: String, irritants: Vec<Value>) -> Value {
        let irritants = self.rt.heap.list(irritants.into_iter());
        self.rt.heap.alloc(Object::Condition(Box::new(Condition { kind, message, irritants })))
    }

    /// Pushes the car of `v`, or fails as `car` does.
    #[inline(always)]
    fn push_car(&mut self, v: Value) -> Result<(), Throw> {
        match self.rt.heap.pair(v) {
            Some((car, _)) => {
                self.stack.push(car);
                Ok(())
            }
            None => lists::car(&mut self.rt, v).map(|_| ()),
        }
    }

    /// Pushes the cdr of `v`, or fails as `cdr` does.
    #[inline(always)]
    fn push_cdr(&mut self, v: Value) -> Result<(), Throw> {
        match self.rt.heap.pair(v) {
            Some((_, cdr)) => {
                self.stack.push(cdr);
                Ok(())
            }
            None => lists::cdr(&mut self.rt, v).map(|_| ()),
        }
    }

    /// The verifier guarantees the operand stack is never empty where an instruction pops.
    fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or(Value::UNSPECIFIED)
    }

    fn free_variable(&self, base: usize, i: u32) -> Value {
        match self.rt.heap.get(self.stack[base - 1]) {
            Some(Object::Closure { free, .. }) => free.get(i as usize).copied().unwrap_or(Value::UNDEFINED),
            _ => Value::UNDEFINED,
        }
    }

    fn box_contents(&self, cell: Value) -> Value {
        match self.rt.heap.get(cell) {
            Some(Object::Box(v)) => *v,
            _ => Value::UNDEFINED,
        }
    }

    fn binary(&mut self, f: impl FnOnce(&mut Runtime, Value, Value) -> Result<Value, Throw>) -> Result<(), Throw> {
        let b = self.pop();
        let a = self.pop();
        let r = f(&mut self.rt, a, b)?;
        self.stack.push(r);
        Ok(())
    }

    #[inline(always)]
    fn arithmetic(&mut self, op: Op) -> Result<(), Throw> {
        let b = self.pop();
        let a = self.pop();
        self.arithmetic_on(op, a, b)
    }

    /// Pushes `a op b`.
    #[inline(always)]
    fn arithmetic_on(&mut self, op: Op, a: Value, b: Value) -> Result<(), Throw> {
        if a.is_fixnum() && b.is_fixnum() {
            let (x, y) = (a.bits() as i64, b.bits() as i64);
            let fast = match op {
                Op::Add => x.checked_add(y),
                Op::Sub => x.checked_sub(y),
                Op::Mul => (x >> 3).checked_mul(y),
                Op::Div => None,
            };
            if let Some(bits) = fast {
                self.stack.push(Value::from_fixnum_bits(bits));
                return Ok(());
            }
        }
        let name = match op {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
        };
        let r = self.rt.arith(name, op, a, b)?;
        self.stack.push(r);
        Ok(())
    }

    /// Pops two numbers and compares them.
    #[inline(always)]
    fn comparison(&mut self, who: &str, holds: fn(std::cmp::Ordering) -> bool) -> Result<bool, Throw> {
        let b = self.pop();
        let a = self.pop();
        self.comparison_on(who, a, b, holds)
    }

    /// Whether `a` and `b` compare as `holds` says.
    #[inline(always)]
    fn comparison_on(
        &mut self,
        who: &str,
        a: Value,
        b: Value,
        holds: fn(std::cmp::Ordering) -> bool,
    ) -> Result<bool, Throw> {
        Ok(match (a.as_fixnum(), b.as_fixnum()) {
            (Some(x), Some(y)) => holds(x.cmp(&y)),
            _ => self.rt.compare(who, a, b)?.is_some_and(holds),
        })
    }

    /// Delivers the result of a test instruction. When the next instruction is a forward
    /// `JumpIfFalse` (an `if` testing it), takes the branch at once instead of pushing the boolean
    /// for it to pop: one dispatch fewer. Forward branches count no step, so this changes nothing
    /// the program or the step count can see; a jump from elsewhere to that `JumpIfFalse` still
    /// runs it.
    #[inline(always)]
    fn test_result(&mut self, holds: bool, insns: &[Insn], pc: &mut u32) {
        match insns.get(*pc as usize) {
            Some(&Insn::JumpIfFalse { t }) if t > *pc => *pc = if holds { *pc + 1 } else { t },
            _ => self.stack.push(Value::boolean(holds)),
        }
    }

    /// Calls the procedure below the top `argc` values.
    #[inline(always)]
    fn dispatch_call(&mut self, argc: usize, tail: bool) -> Result<Called, Throw> {
        // The common case first: a closure with only required parameters, called with that many
        // arguments. Its frame is the arguments already in place plus its other locals.
        let callee_at = self.stack.len() - argc - 1;
        if let Some(function) = self.rt.heap.closure_function(self.stack[callee_at]) {
            let loaded = &self.functions[function as usize];
            if loaded.frame_argc == argc as u32 {
                let (locals, reserve) = (loaded.code.locals as usize, loaded.frame_reserve as usize);
                return self.enter_frame(function, callee_at, locals, reserve, tail);
            }
            if let Some(shortcut) = loaded.shortcut
                && loaded.code.takes_exactly(argc as u32)
            {
                return self.run_shortcut(shortcut, callee_at, tail);
            }
        }
        self.dispatch_call_generally(argc, tail)
    }

    /// Runs a call of a [`Shortcut`] function (its closure at `callee_at`, its arguments above) in
    /// place: the result replaces the callee and arguments, as a native procedure's does.
    #[inline(never)]
    fn run_shortcut(&mut self, shortcut: Shortcut, callee_at: usize, tail: bool) -> Result<Called, Throw> {
        let (Shortcut::RecordRef { free: slots } | Shortcut::RecordSet { free: slots }) = shortcut;
        let [record_type, index, who] = match self.rt.heap.get(self.stack[callee_at]) {
            Some(Object::Closure { free, .. }) => {
                slots.map(|slot| free.get(slot as usize).copied().unwrap_or(Value::UNDEFINED))
            }
            _ => [Value::UNDEFINED; 3],
        };
        let record = self.stack[callee_at + 1];
        let result = match shortcut {
            Shortcut::RecordRef { .. } => records::record_ref(&mut self.rt, record, record_type, index, who)?,
            Shortcut::RecordSet { .. } => {
                let value = self.stack[callee_at + 2];
                records::record_set(&mut self.rt, record, record_type, index, value, who)?
            }
        };
        self.stack.truncate(callee_at);
        if tail {
            return Ok(Called::TailValue(result));
        }
        self.stack.push(result);
        Ok(Called::Pushed)
    }

    /// Makes the frame of a call of `function`, whose arguments (and any other locals) sit above
    /// the callee at `callee_at`: pushes it, or for a tail call slides it down over the current
    /// frame. `reserve` is the stack room the new frame needs above its closure.
    #[inline(always)]
    fn enter_frame(
        &mut self,
        function: u32,
        callee_at: usize,
        locals: usize,
        reserve: usize,
        tail: bool,
    ) -> Result<Called, Throw> {
        let frame_end = callee_at + 1 + locals;
        if frame_end > self.stack.len() {
            self.charge_fresh_locals(frame_end - self.stack.len());
            self.stack.resize(frame_end, Value::UNDEFINED);
        }
        if tail {
            let current = self.frames.len() - 1;
            let destination = self.frames[current].base as usize - 1;
            self.stack.copy_within(callee_at.., destination);
            self.stack.truncate(destination + 1 + locals);
            self.frames[current] = Frame { function, pc: 0, base: (destination + 1) as u32 };
        } else {
            if let Some(max) = self.rt.limits.max_depth
                && self.frames.len() >= max
            {
                return Err(Throw::Limit(format!("depth limit exceeded: more than {max} nested calls")));
            }
            self.frames.push(Frame { function, pc: 0, base: (callee_at + 1) as u32 });
            self.peak_frames = self.peak_frames.max(self.frames.len());
        }
        // Room for the whole frame now, so that its pushes never reallocate.
        self.stack.reserve(reserve);
        Ok(Called::Entered)
    }

    /// Charges the step limit for `count` local slots a call initialised: like an allocation, a
    /// step per 64 bytes, so that calls of a function with a huge frame (an image may declare up
    /// to 2^20 locals) cannot do unbounded work per step. Nothing for ordinary frames.
    #[inline(always)]
    fn charge_fresh_locals(&self, count: usize) {
        if count >= 64 {
            self.rt.heap.charge(count as u64 / 8);
        }
    }

    /// Calls the procedure below the top `argc` values: natives, continuations, and closures with
    /// optional or rest parameters.
    #[inline(never)]
    fn dispatch_call_generally(&mut self, mut argc: usize, tail: bool) -> Result<Called, Throw> {
        loop {
            let callee_at = self.stack.len() - argc - 1;
            let callee = self.stack[callee_at];
            if let Some(index) = callee.as_native() {
                let def = &natives()[index as usize];
                if argc < def.min_args || def.max_args.is_some_and(|max| argc > max) {
                    return Err(arity_error(def.name, def.min_args, def.max_args, argc));
                }
                match def.kind {
                    NativeKind::Plain(f) => {
                        let result = f(&mut self.rt, &self.stack[callee_at + 1..])?;
                        self.stack.truncate(callee_at);
                        if tail {
                            return Ok(Called::TailValue(result));
                        }
                        self.stack.push(result);
                        return Ok(Called::Pushed);
                    }
                    NativeKind::CallCc => {
                        // The continuation of this call: the stack below the callee and the frames as
                        // they are (a tail call's continuation is its caller's).
                        let continuation = if tail {
                            let current = self.frames.len() - 1;
                            let below = self.frames[current].base as usize - 1;
                            Continuation {
                                stack: self.stack[..below].to_vec(),
                                frames: self.frames[..current].to_vec(),
                            }
                        } else {
                            Continuation { stack: self.stack[..callee_at].to_vec(), frames: self.frames.clone() }
                        };
                        let k = self.rt.heap.alloc(Object::Continuation(Box::new(continuation)));
                        self.stack[callee_at] = self.stack[callee_at + 1];
                        self.stack[callee_at + 1] = k;
                        continue;
                    }
                    NativeKind::Eval => {
                        let environment = if argc == 2 { self.stack[callee_at + 2] } else { Value::FALSE };
                        let closure = self.compile_for_eval(self.stack[callee_at + 1], environment)?;
                        self.stack.truncate(callee_at);
                        self.stack.push(closure);
                        argc = 0;
                        continue;
                    }
                    NativeKind::Apply => {
                        // (apply f a ... list): spread the list and call f.
                        let list = self.pop();
                        let items = self
                            .rt
                            .heap
                            .list_items(list)
                            .ok_or_else(|| self.rt.type_error("apply", "a proper list", list))?;
                        self.stack.remove(callee_at);
                        argc = argc - 2 + items.len();
                        self.stack.extend(items);
                        continue;
                    }
                }
            }
            if let Some(Object::Continuation(k)) = self.rt.heap.get(callee) {
                let (stack, frames) = (k.stack.clone(), k.frames.clone());
                let value = records::make_values(&mut self.rt, &self.stack[callee_at + 1..]);
                self.stack = stack;
                self.frames = frames;
                self.forget_clean_marks();
                return Ok(Called::Restored(value));
            }
            let Some(Object::Closure { function, .. }) = self.rt.heap.get(callee) else {
                return Err(Throw::error("not a procedure", vec![callee]));
            };
            let function = *function;
            let loaded = &self.functions[function as usize];
            let (code, reserve) = (&loaded.code, loaded.frame_reserve as usize);
            let (required, optional) = (code.required as usize, code.optional as usize);
            if argc < required || (!code.rest && argc > required + optional) {
                let max = (!code.rest).then_some(required + optional);
                return Err(arity_error(&code.name.clone(), required, max, argc));
            }
            let locals = code.locals as usize;
            let rest = code.rest;
            if argc < required + optional {
                self.stack.extend(std::iter::repeat_n(Value::DEFAULT, required + optional - argc));
            }
            if rest {
                let first_extra = callee_at + 1 + required + optional;
                let extra: Vec<Value> = self.stack.drain(first_extra.min(self.stack.len())..).collect();
                let list = self.rt.heap.list(extra.into_iter());
                self.stack.push(list);
            }
            return self.enter_frame(function, callee_at, locals, reserve, tail);
        }
    }

    /// Collects garbage now. Call only between instructions (as after a [`Trap::Yield`]), where
    /// every live value is on the stack, in a global, or in an image's constants.
    pub fn collect_garbage(&mut self) {
        let roots = self
            .stack
            .iter()
            .chain(self.globals.iter())
            .chain(self.images.iter().flat_map(|image| image.constants.iter()))
            .copied()
            .chain(self.rt.roots());
        let roots: Vec<Value> = roots.collect();
        self.rt.heap.collect(roots.into_iter());
    }

    /// What every call and backward jump does first: count a step (or yield), then collect if
    /// need be and check the heap limit.
    #[inline(always)]
    fn step_at_safepoint(&mut self, frame_index: usize) -> Result<(), Trap> {
        self.count_step(frame_index)?;
        self.safepoint().map_err(|limit| self.trap(limit))
    }

    /// Collects garbage if enough has been allocated. Called only where every live value is on the
    /// stack, in a global, or in an image's constants.
    #[inline(always)]
    fn safepoint(&mut self) -> Result<(), Throw> {
        if self.rt.limits.max_heap.is_none() && !self.rt.heap.wants_collection() {
            return Ok(());
        }
        self.collect_at_safepoint()
    }

    #[inline(never)]
    fn collect_at_safepoint(&mut self) -> Result<(), Throw> {
        let max_heap = self.rt.limits.max_heap;
        // The symbol table counts too: symbols are never collected, and a program making fresh
        // ones in a loop must meet the limit like one making pairs.
        let symbols = self.rt.symbols.memory();
        let over_limit = max_heap.is_some_and(|max| self.rt.heap.bytes_in_use() + symbols > max);
        if !self.rt.heap.wants_collection() && !over_limit {
            return Ok(());
        }
        self.collect_garbage();
        let live = self.rt.heap.live_bytes() + symbols;
        match max_heap {
            Some(max) if live > max => {
                Err(Throw::Limit(format!("heap limit exceeded: {live} bytes live, the limit is {max}")))
            }
            _ => Ok(()),
        }
    }

    /// Counts a call or a backward jump against the step limit, or yields to the host first if it
    /// asked for it (see [`Trap::Yield`]). The frame's saved pc is just past the instruction; a yield
    /// moves it back so that the instruction runs again, and is counted then, when execution goes on.
    #[inline(always)]
    fn count_step(&mut self, frame_index: usize) -> Result<(), Trap> {
        // One comparison in the common case: no work charged, below both the next yield and the
        // step limit. Otherwise the general path below decides.
        let budget = self.rt.yield_at.min(self.rt.limits.max_steps.unwrap_or(u64::MAX));
        if self.steps < budget && !self.rt.heap.has_work() {
            self.steps += 1;
            return Ok(());
        }
        self.count_step_with_work(frame_index)
    }

    #[inline(never)]
    fn count_step_with_work(&mut self, frame_index: usize) -> Result<(), Trap> {
        // Work natives charged since the last step counts before a yield, so that a resumed
        // process counts exactly as an uninterrupted one.
        self.steps = self.steps.saturating_add(self.rt.heap.take_work());
        if self.steps >= self.rt.yield_at {
            self.frames[frame_index].pc -= 1;
            return Err(Trap::Yield);
        }
        self.steps += 1;
        match self.rt.limits.max_steps {
            Some(max) if self.steps > max => Err(self.trap(Throw::Limit(format!(
                "step limit exceeded: more than {max} steps (calls, loop iterations, and work on large data)"
            )))),
            _ => Ok(()),
        }
    }

    /// Turns a throw into a trap, with the backtrace of the frames as they are now.
    fn trap(&mut self, throw: Throw) -> Trap {
        let payload = match throw {
            Throw::Exit(code) => return Trap::Exit(code),
            Throw::Raise(v) => v,
            Throw::Limit(message) => self.make_condition(ConditionKind::Runtime, message, Vec::new()),
            Throw::Error { kind, message, irritants } => self.make_condition(kind, message, irritants),
        };
        self.trap_payload(payload)
    }

    /// An uncaught-raise trap of `payload`, with the backtrace of the frames as they are now.
    fn trap_payload(&mut self, payload: Value) -> Trap {
        let (backtrace, frames_omitted) = self.backtrace();
        Trap::Uncaught { payload, backtrace, frames_omitted }
    }

    /// The Scheme backtrace of the current continuation, innermost frame first, and how many frames
    /// in the middle were left out.
    pub fn backtrace(&self) -> (Vec<BacktraceEntry>, usize) {
        let total = self.frames.len();
        let describe = |frame: &Frame| {
            let function = &self.functions[frame.function as usize];
            let image = &self.images[function.image as usize];
            let position = function.code.position_at(frame.pc.saturating_sub(1) as usize).map(|p| {
                let file = image.files.get(p.file as usize).map_or("?", String::as_str);
                format!("{file}:{}:{}", p.line, p.column)
            });
            BacktraceEntry { function: function.code.name.clone(), position }
        };
        let innermost_first: Vec<&Frame> = self.frames.iter().rev().collect();
        let (backtrace, frames_omitted) = if total <= BACKTRACE_HEAD + BACKTRACE_TAIL {
            (innermost_first.iter().map(|f| describe(f)).collect(), 0)
        } else {
            let shown = innermost_first[..BACKTRACE_HEAD].iter().chain(&innermost_first[total - BACKTRACE_TAIL..]);
            (shown.map(|f| describe(f)).collect(), total - BACKTRACE_HEAD - BACKTRACE_TAIL)
        };
        (backtrace, frames_omitted)
    }

    /// The message an uncaught raise of `payload` prints: the error's message and its irritants.
    pub fn describe_payload(&self, payload: Value) -> String {
        match self.rt.heap.get(payload) {
            Some(Object::Condition(condition)) => {
                let mut text = condition.message.clone();
                let irritants = self.rt.heap.list_items(condition.irritants).unwrap_or_default();
                for (i, irritant) in irritants.iter().enumerate() {
                    // The VM's own messages read "car: not a pair: 5"; the program's read as R7RS
                    // implementations print them, message and irritants separated by spaces.
                    let runtime = condition.kind == ConditionKind::Runtime;
                    let separator = if i == 0 && runtime && !text.is_empty() { ": " } else { " " };
                    text.push_str(separator);
                    text.push_str(&crate::printer::to_text_bounded(&self.rt, *irritant, Style::Write, Bounds::MESSAGE));
                }
                if condition.kind == ConditionKind::File {
                    text.insert_str(0, "file error: ");
                }
                let unbound = condition.kind == ConditionKind::Runtime
                    && (condition.message == UNBOUND || condition.message == SET_UNBOUND);
                if let (true, [name]) = (unbound, irritants.as_slice())
                    && let Some(suggestion) = self.rt.symbols.name(*name).and_then(|name| self.bound_name_like(name))
                {
                    text.push_str(&format!(" (did you mean `{suggestion}`?)"));
                }
                text
            }
            _ => format!(
                "uncaught exception: {}",
                crate::printer::to_text_bounded(&self.rt, payload, Style::Write, Bounds::MESSAGE)
            ),
        }
    }

    /// The bound global closest to `name`, if one is close enough to be what was meant.
    fn bound_name_like(&self, name: &str) -> Option<String> {
        let bound = self
            .global_names
            .iter()
            .zip(&self.globals)
            .filter(|(_, value)| **value != Value::UNDEFINED)
            .filter_map(|(symbol, _)| self.rt.symbols.name(*symbol))
            // Library-qualified globals (`(a b) name`) and internal ones are not names a program writes.
            .filter(|candidate| !candidate.contains(' ') && !candidate.starts_with('%'));
        let mut bound: Vec<&str> = bound.collect();
        bound.sort_unstable();
        chenilles_compiler::closest_name(name, bound).map(str::to_string)
    }

    /// The globals bound now, and the arities of the procedures among them that no loaded code
    /// assigns with `set!`: what programs compiled for this process are checked against.
    pub fn environment(&self) -> chenilles_compiler::Environment {
        let mut assigned = std::collections::HashSet::new();
        for function in &self.functions {
            let Some(image) = self.images.get(function.image as usize) else {
                continue;
            };
            for insn in &function.code.insns {
                if let Insn::SetGlobal { g } = insn
                    && let Some(slot) = image.globals.get(*g as usize)
                {
                    assigned.insert(*slot);
                }
            }
        }
        let mut environment = chenilles_compiler::Environment::new();
        for (slot, (&value, &symbol)) in self.globals.iter().zip(&self.global_names).enumerate() {
            let Some(name) = self.rt.symbols.name(symbol).filter(|_| value != Value::UNDEFINED) else {
                continue;
            };
            let arity = if assigned.contains(&(slot as u32)) { None } else { self.arity_of(value) };
            environment.bind(name, arity);
        }
        environment
    }

    /// How many arguments procedure `value` takes (`None` if it is not a procedure).
    fn arity_of(&self, value: Value) -> Option<chenilles_compiler::Arity> {
        if let Some(index) = value.as_native() {
            let def = natives().get(index as usize)?;
            return Some(chenilles_compiler::Arity { min: def.min_args, max: def.max_args });
        }
        let Some(Object::Closure { function, .. }) = self.rt.heap.get(value) else {
            return None;
        };
        let code = &self.functions.get(*function as usize)?.code;
        let (required, optional) = (code.required as usize, code.optional as usize);
        Some(chenilles_compiler::Arity { min: required, max: (!code.rest).then_some(required + optional) })
    }
}

fn arity_error(name: &str, min: usize, max: Option<usize>, got: usize) -> Throw {
    let expected = match max {
        Some(max) if max == min => format!("{min}"),
        Some(max) => format!("{min} to {max}"),
        None => format!("at least {min}"),
    };
    let plural = if expected == "1" { "" } else { "s" };
    Throw::error(format!("{name}: wrong number of arguments: expected {expected} argument{plural}, got {got}"), vec![])
}
