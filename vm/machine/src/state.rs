//! The machine's state as data: [`StateView`], what a snapshot reads of a running machine, and
//! [`StateParts`], what a machine is rebuilt from. A rebuilt state comes from outside (a store, a
//! replica) and is not trusted: every value, object, image link and frame is checked here before
//! the interpreter sees it, so that damaged parts are an error, never a machine that misbehaves.

use std::collections::VecDeque;
use std::io::Write;

use chenilles_compiler::bytecode::{Image, Insn, VerifiedFunction};

use crate::heap::{Frame, Heap, HeapCounters, Object};
use crate::interp::{LoadedImage, Vm};
use crate::loader::Loader;
use crate::runtime::{Limits, Runtime};
use crate::symbols::Symbols;
use crate::value::Value;

/// The runtime's console ports: objects of the heap.
#[derive(Clone, Copy, Debug)]
pub struct ConsolePorts {
    /// `(current-output-port)` at the start.
    pub stdout: Value,
    /// `(current-error-port)` at the start.
    pub stderr: Value,
    /// Standard input, once a program has read it.
    pub stdin: Option<Value>,
}

/// Everything a snapshot stores of a running machine, borrowed from it ([`StateView::of`]). The
/// heap is lent mutably: its dirty pages are what a checkpoint writes, and storing an open file
/// port flushes it.
pub struct StateView<'a> {
    /// The heap: every slot by object id, in pages ([`Heap::page_mut`]) with their dirty marks.
    pub heap: &'a mut Heap,
    /// The symbol table.
    pub symbols: &'a Symbols,
    /// The global variables' values, by slot.
    pub globals: &'a [Value],
    /// The symbol naming each global slot.
    pub global_names: &'a [Value],
    /// The value stack.
    pub stack: &'a [Value],
    /// Stack slots below this index have not changed since [`Vm::mark_stacks_clean`].
    pub clean_stack: usize,
    /// The calls in progress, innermost last.
    pub frames: &'a [Frame],
    /// Frames below this index have not changed since [`Vm::mark_stacks_clean`].
    pub clean_frames: usize,
    /// The loaded images, in load order (with their bytes while a checkpoint has not stored them).
    pub images: &'a [LoadedImage],
    /// Entry functions of loaded images still to run, in order.
    pub boot: &'a VecDeque<u32>,
    /// The console ports.
    pub ports: ConsolePorts,
    /// What `(command-line)` returns.
    pub command_line: &'a [String],
    /// The limits the program runs under.
    pub limits: Limits,
    /// Steps counted so far.
    pub steps: u64,
    /// The most frames ever live at once.
    pub peak_frames: usize,
}

impl<'a> StateView<'a> {
    /// The state of `vm`, to be read.
    pub fn of(vm: &'a mut Vm) -> StateView<'a> {
        let rt = &mut vm.rt;
        StateView {
            heap: &mut rt.heap,
            symbols: &rt.symbols,
            globals: &vm.globals,
            global_names: &vm.global_names,
            stack: &vm.stack,
            clean_stack: vm.clean_stack,
            frames: &vm.frames,
            clean_frames: vm.clean_frames,
            images: &vm.images,
            boot: &vm.boot,
            ports: ConsolePorts { stdout: rt.stdout_port, stderr: rt.stderr_port, stdin: rt.stdin_port },
            command_line: &rt.command_line,
            limits: rt.limits,
            steps: vm.steps,
            peak_frames: vm.peak_frames,
        }
    }
}

/// Why parts do not make a machine.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A value refers to an object, symbol, native or function that does not exist; `what` says
    /// where it is.
    #[error("the state's {what} refers to something that does not exist ({value:?})")]
    Dangling {
        /// Where the value is.
        what: String,
        /// The value.
        value: Value,
    },
    /// A heap object cannot be part of this state.
    #[error("object {id} cannot be restored: {what}")]
    BadObject {
        /// The object's id.
        id: u32,
        /// Why.
        what: String,
    },
    /// An image does not fit the state: `index` in load order.
    #[error("image {index}: {what}")]
    Image {
        /// The image's place in load order.
        index: usize,
        /// What does not fit.
        what: String,
    },
    /// The parts do not fit together.
    #[error("{0}")]
    Inconsistent(String),
}

/// How many objects, symbols and natives a state has: what its values may index.
#[derive(Clone, Copy)]
struct Tables {
    objects: usize,
    symbols: usize,
    natives: usize,
}

impl Tables {
    /// Whether `v` is well formed and refers to an object, symbol or native that exists.
    fn admit(self, v: Value) -> bool {
        v.is_well_formed()
            && v.as_object().is_none_or(|id| (id as usize) < self.objects)
            && v.as_symbol().is_none_or(|i| (i as usize) < self.symbols)
            && v.as_native().is_none_or(|i| (i as usize) < self.natives)
    }

    /// `Ok` if `v` is admitted; `what` says where it is.
    fn check(self, what: &str, v: Value) -> Result<(), StateError> {
        if self.admit(v) { Ok(()) } else { Err(StateError::Dangling { what: what.to_string(), value: v }) }
    }
}

/// Builds a heap from objects that come one by one (as a snapshot's pages are read), checking
/// each object's values as it comes, while it is in the cache.
pub struct HeapBuilder {
    objects: Vec<Object>,
    tables: Tables,
}

impl HeapBuilder {
    /// A builder for a heap of `arena_len` slots whose values may name `symbols` symbols; room is
    /// made for `capacity` objects at first.
    pub fn new(arena_len: usize, symbols: usize, capacity: usize) -> HeapBuilder {
        let tables = Tables { objects: arena_len, symbols, natives: crate::natives::natives().len() };
        HeapBuilder { objects: Vec::with_capacity(capacity.min(arena_len)), tables }
    }

    /// How many objects were pushed: the id the next one gets.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether no object was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Adds the next object, if every value it holds refers to something that exists.
    pub fn push(&mut self, object: Object) -> Result<(), StateError> {
        let id = self.objects.len();
        if id >= self.tables.objects {
            return Err(StateError::Inconsistent("the heap does not hold its count of objects".into()));
        }
        // The first bad reference, named only if there is one.
        let mut bad = None;
        object.for_each_reference(|v| {
            if bad.is_none() && !self.tables.admit(v) {
                bad = Some(v);
            }
        });
        if let Some(value) = bad {
            return Err(StateError::Dangling { what: format!("object {id}"), value });
        }
        self.objects.push(object);
        Ok(())
    }

    /// The heap, once it holds all its objects, with the counters the collector goes on from.
    pub fn finish(self, counters: HeapCounters) -> Result<Heap, StateError> {
        if self.objects.len() != self.tables.objects {
            return Err(StateError::Inconsistent("the heap does not hold its count of objects".into()));
        }
        Ok(Heap::from_objects(self.objects, counters))
    }
}

/// A loaded image, as parts: the image, its verified functions, its constants as values and the
/// global slot each of its global names links to.
pub struct ImageParts {
    /// The image (its bytes are kept: the next checkpoint stores any image loaded after these).
    pub image: Image,
    /// Its functions, as the verifier returned them.
    pub functions: Vec<VerifiedFunction>,
    /// Its constants.
    pub constants: Vec<Value>,
    /// For each of its global names, the process's global slot.
    pub globals: Vec<u32>,
}

/// Everything a machine is rebuilt from ([`StateParts::into_vm`]): what a [`StateView`] shows.
pub struct StateParts {
    /// The symbol table.
    pub symbols: Symbols,
    /// The heap (its objects checked as they were added: [`HeapBuilder`]).
    pub heap: Heap,
    /// The console ports.
    pub ports: ConsolePorts,
    /// What `(command-line)` returns.
    pub command_line: Vec<String>,
    /// The limits the program runs under.
    pub limits: Limits,
    /// The symbol naming each global slot.
    pub global_names: Vec<Value>,
    /// The global variables' values, by slot.
    pub globals: Vec<Value>,
    /// The loaded images, in load order.
    pub images: Vec<ImageParts>,
    /// The value stack.
    pub stack: Vec<Value>,
    /// The calls in progress, innermost last.
    pub frames: Vec<Frame>,
    /// Entry functions of loaded images still to run, in order.
    pub boot: Vec<u32>,
    /// Steps counted so far.
    pub steps: u64,
    /// The most frames ever live at once.
    pub peak_frames: usize,
}

impl StateParts {
    /// The machine these parts make, writing its output to `out` and `err`, once everything is
    /// checked: each global named once by an existing symbol, each image linked to existing
    /// slots, every value outside the heap admitted, every closure's function loaded, and every
    /// frame (of the stack and of each continuation) within its function and the stack, at a
    /// point where the interpreter can go on. Images loaded later keep their bytes (a durable
    /// process stores them at its next checkpoint).
    pub fn into_vm(self, out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> Result<Vm, StateError> {
        let inconsistent = |what: &str| StateError::Inconsistent(what.to_string());
        let mut rt = Runtime::new(out, err);
        rt.heap = self.heap;
        rt.symbols = self.symbols;
        rt.stdout_port = self.ports.stdout;
        rt.stderr_port = self.ports.stderr;
        rt.stdin_port = self.ports.stdin;
        rt.command_line = self.command_line;
        rt.limits = self.limits;
        rt.heap.clear_dirty();

        let mut vm = Vm::new(rt);
        vm.keep_image_bytes = true;
        if self.globals.len() != self.global_names.len() {
            return Err(inconsistent("the globals and their names differ in number"));
        }
        vm.global_slots = self.global_names.iter().enumerate().map(|(slot, name)| (*name, slot as u32)).collect();
        if vm.global_slots.len() != self.global_names.len() {
            return Err(inconsistent("two globals have the same name"));
        }
        vm.global_names = self.global_names;
        vm.globals = self.globals;
        for (index, parts) in self.images.into_iter().enumerate() {
            let image_error = |what: &str| StateError::Image { index, what: what.to_string() };
            if parts.constants.len() != parts.image.constants.len() || parts.globals.len() != parts.image.globals.len()
            {
                return Err(image_error("the snapshot's constants or globals do not match the image"));
            }
            if parts.globals.iter().any(|g| *g as usize >= vm.globals.len()) {
                return Err(image_error("the image links to a global slot that does not exist"));
            }
            vm.install_image(&parts.image, parts.functions, parts.constants, parts.globals, None);
        }
        vm.stack = self.stack;
        vm.frames = self.frames;
        vm.boot = self.boot.into();
        vm.steps = self.steps;
        vm.peak_frames = self.peak_frames;
        check_references(&vm)?;
        vm.mark_stacks_clean();
        // Rebuilding the heap is not the program's work: it goes on with nothing charged.
        vm.rt.heap.take_work();
        Ok(vm)
    }
}

/// Checks that every value of a rebuilt machine outside the heap refers to an object, symbol,
/// native or function that exists, that every closure's function exists, and that every frame
/// lies within its function and the stack. (The values heap objects hold were checked by
/// [`HeapBuilder::push`].)
fn check_references(vm: &Vm) -> Result<(), StateError> {
    let heap = &vm.rt.heap;
    let tables =
        Tables { objects: heap.arena_len(), symbols: vm.rt.symbols.len(), natives: crate::natives::natives().len() };
    // Every frame but a running stack's top one waits for a call to return (to an instruction
    // after the one that called: a call, or a failed instruction whose error handler was called),
    // with the operands below the call on its operand stack and the callee's closure and
    // arguments (the next frame) above. The top frame of the running stack stopped at a yield
    // point: a call or a jump, which it runs again, with exactly the operands the verifier
    // computed for it. Anything else would let a damaged state pop what is not there.
    let check_frames = |what: &str, frames: &[Frame], stack_len: usize, running: bool| -> Result<(), StateError> {
        let mut previous_base = 0;
        for (i, frame) in frames.iter().enumerate() {
            let function = vm.functions.get(frame.function as usize);
            let top = running && i + 1 == frames.len();
            // Where this frame's operands end: the next frame's closure slot, or the stack's end.
            let operands_end = frames.get(i + 1).map_or(Some(stack_len), |next| (next.base as usize).checked_sub(1));
            let fits = function.is_some_and(|f| {
                let pc = frame.pc as usize;
                let operands_start = frame.base as usize + f.code.locals as usize;
                let operands = operands_end.and_then(|end| end.checked_sub(operands_start));
                let height = f.code.heights.get(pc).copied().flatten().map(|h| h as usize);
                let resumes_properly = if top {
                    matches!(
                        f.code.insns.get(pc),
                        Some(Insn::Call { .. } | Insn::TailCall { .. } | Insn::Jump { .. } | Insn::JumpIfFalse { .. })
                    ) && operands == height
                } else {
                    pc >= 1 && height.is_some() && operands.map(|n| n + 1) == height
                };
                pc < f.code.insns.len() && resumes_properly && frame.base as usize >= 1
            });
            if !fits || frame.base < previous_base {
                return Err(StateError::Dangling {
                    what: what.to_string(),
                    value: Value::small(frame.function as usize),
                });
            }
            previous_base = frame.base;
        }
        Ok(())
    };
    for (id, object) in heap.objects.iter().enumerate() {
        match object {
            Object::Closure { function, .. } if *function as usize >= vm.functions.len() => {
                return Err(StateError::BadObject {
                    id: id as u32,
                    what: "a closure of a function that does not exist".into(),
                });
            }
            Object::Continuation(k) => check_frames(&format!("continuation {id}"), &k.frames, k.stack.len(), false)?,
            _ => {}
        }
    }
    for v in vm.globals.iter().chain(&vm.stack).chain(vm.images.iter().flat_map(|i| i.constants.iter())) {
        tables.check("process", *v)?;
    }
    for v in [vm.rt.stdout_port, vm.rt.stderr_port].into_iter().chain(vm.rt.stdin_port) {
        tables.check("console ports", v)?;
    }
    if vm.global_names.iter().any(|n| n.as_symbol().is_none_or(|i| i as usize >= tables.symbols)) {
        return Err(StateError::Dangling { what: "global names".into(), value: Value::UNSPECIFIED });
    }
    if vm.boot.iter().any(|f| *f as usize >= vm.functions.len()) {
        return Err(StateError::Dangling { what: "boot list".into(), value: Value::UNSPECIFIED });
    }
    check_frames("frame stack", &vm.frames, vm.stack.len(), true)
}
