//! The runtime state native procedures work on: heap, symbols, output sinks, limits, the process's
//! capabilities, messaging state and effects.

use std::io::Write;

use crate::effects::{Effect, EffectResult};
use crate::heap::{Heap, Object};
use crate::ports::Port;
use crate::scheme_string::SchemeString;
use crate::symbols::Symbols;
use crate::throw::Throw;
use crate::value::Value;

/// Resource limits a host sets on a program (`--max-steps`, `--max-heap`, `--max-depth`).
/// Exceeding one stops the program with an error no Scheme handler can catch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Procedure calls and backward jumps, counted together, plus the work done on data whose
    /// size has no bound: a step per 64 bytes allocated (a call's frame of 64 slots or more
    /// included), per pair a list procedure walks, per 8
    /// elements a fill or copy covers, per equal? node, and about w²/1024 per big integer of w
    /// words made (see [`crate::heap::Heap::charge`]).
    pub max_steps: Option<u64>,
    /// Bytes of live heap, as the collector estimates them.
    pub max_heap: Option<usize>,
    /// Frames on the stack at once (non-tail calls in progress).
    pub max_depth: Option<usize>,
}

/// Everything but the interpreter's stacks.
pub struct Runtime {
    /// The heap.
    pub heap: Heap,
    /// The symbol table.
    pub symbols: Symbols,
    /// Where the standard output port writes.
    pub out: Box<dyn Write + Send>,
    /// Where the standard error port writes.
    pub err: Box<dyn Write + Send>,
    /// The standard output port (an object of the heap).
    pub stdout_port: Value,
    /// The standard error port (an object of the heap).
    pub stderr_port: Value,
    /// The standard input port, made on first use from the whole of stdin.
    pub stdin_port: Option<Value>,
    /// When the runtime started (or was resumed from a checkpoint).
    pub started: std::time::Instant,
    /// `current-jiffy` at [`Runtime::started`]: 0 for a new process, the jiffies already run for a
    /// resumed one, so that jiffies never go back.
    pub jiffies_before_start: i64,
    /// `current-jiffy` stays at [`Runtime::jiffies_before_start`] (a reproducible durable run).
    pub clock_stands_still: bool,
    /// The limits the program runs under.
    pub limits: Limits,
    /// `(command-line)`: the program name, then its arguments.
    pub command_line: Vec<String>,
    /// The name of every loaded function, by process-wide function index (for printing closures).
    pub function_names: Vec<std::sync::Arc<str>>,
    /// `(required, optional, rest)` of every loaded function, by process-wide function index.
    pub function_arities: Vec<(usize, usize, bool)>,
    /// When the step count reaches this, the interpreter stops at the next safepoint and returns
    /// [`crate::Trap::Yield`]. `u64::MAX` unless a host is driving the process in slices; the
    /// `checkpoint` procedure sets it to 0.
    pub yield_at: u64,
    /// Results of effects (the clock) since the last checkpoint, for the effect journal.
    pub effects: Vec<Effect>,
    /// Whether effects are journaled (durable processes) or only performed.
    pub journaling: bool,
    /// Effects committed by the process's checkpoints so far (numbers the next effect).
    pub effects_committed: u64,
    /// The process's name, inbox and outbox (see [`crate::messaging`]).
    pub messaging: crate::messaging::Messaging,
    /// The capabilities the process was granted (see [`crate::capabilities`]).
    pub host: crate::capabilities::HostAccess,
    /// While the process is replayed: the journaled effects still to come, in order.
    pub replay: Option<std::collections::VecDeque<Effect>>,
}

impl Runtime {
    /// A runtime with an empty heap (but for the console ports) writing to `out` and `err`.
    pub fn new(out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> Runtime {
        let mut heap = Heap::new();
        let stdout_port = heap.alloc(Object::Port(Box::new(Port::Stdout)));
        let stderr_port = heap.alloc(Object::Port(Box::new(Port::Stderr)));
        Runtime {
            heap,
            symbols: Symbols::default(),
            out,
            err,
            stdout_port,
            stderr_port,
            stdin_port: None,
            started: std::time::Instant::now(),
            jiffies_before_start: 0,
            clock_stands_still: false,
            limits: Limits::default(),
            command_line: Vec::new(),
            function_names: Vec::new(),
            function_arities: Vec::new(),
            yield_at: u64::MAX,
            effects: Vec::new(),
            journaling: false,
            effects_committed: 0,
            messaging: crate::messaging::Messaging::default(),
            host: crate::capabilities::HostAccess::default(),
            replay: None,
        }
    }

    /// The roots the runtime itself holds.
    pub fn roots(&self) -> impl Iterator<Item = Value> {
        [self.stdout_port, self.stderr_port].into_iter().chain(self.stdin_port)
    }

    /// `who: not EXPECTED` with the offending value as irritant.
    pub fn type_error(&self, who: &str, expected: &str, got: Value) -> Throw {
        Throw::error(format!("{who}: not {expected}"), vec![got])
    }

    /// A new string holding `text`.
    pub fn new_string(&mut self, text: &str) -> Value {
        self.heap.alloc(Object::String(SchemeString::from_text(text)))
    }

    /// The string `v` is, if it is one.
    pub fn string(&self, v: Value) -> Option<&SchemeString> {
        match self.heap.get(v) {
            Some(Object::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The text of a string value, or a type error naming `who`.
    pub fn string_arg(&self, who: &str, v: Value) -> Result<String, Throw> {
        let string = self.string(v).ok_or_else(|| self.type_error(who, "a string", v))?;
        self.heap.charge((string.len() / 16) as u64);
        Ok(string.to_string())
    }

    /// Whether `v` can be called.
    pub fn is_procedure(&self, v: Value) -> bool {
        v.as_native().is_some() || matches!(self.heap.get(v), Some(Object::Closure { .. } | Object::Continuation(_)))
    }

    /// Writes text to an output port.
    pub fn write_to_port(&mut self, port: Value, text: &str) -> Result<(), Throw> {
        let sink_error = |e: std::io::Error| Throw::error(format!("write error: {e}"), vec![]);
        match self.heap.get_mut(port) {
            Some(Object::Port(p)) => match &mut **p {
                Port::Stdout => self.out.write_all(text.as_bytes()).map_err(sink_error),
                Port::Stderr => self.err.write_all(text.as_bytes()).map_err(sink_error),
                Port::FileOutput { file, .. } => std::io::Write::write_all(file, text.as_bytes()).map_err(sink_error),
                Port::StringOutput(buffer) => {
                    buffer.push_str(text);
                    Ok(())
                }
                Port::Closed { input: false } => Err(Throw::error("cannot write to a closed port", vec![port])),
                _ => Err(self.type_error("write", "a textual output port", port)),
            },
            _ => Err(self.type_error("write", "an output port", port)),
        }
    }

    /// Flushes the output sinks.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }

    // Effects: recorded for the journal, or taken from it while the process is replayed.

    /// Records an effect's result if this process journals its effects.
    pub fn journal(&mut self, name: &str, result: EffectResult) {
        if self.journaling {
            self.effects.push(Effect { name: name.to_string(), result });
        }
    }

    /// Performs the effect `name` and journals its result — or, while the process is replayed
    /// (`chenilles-vm verify --replay`), takes the result from the journal instead. A replay that
    /// asks for another effect than the journal holds has diverged: the program stops.
    pub fn effect(
        &mut self,
        name: &str,
        perform: impl FnOnce(&mut Self) -> Result<EffectResult, Throw>,
    ) -> Result<EffectResult, Throw> {
        if let Some(replay) = &mut self.replay {
            return match replay.pop_front() {
                Some(effect) if effect.name == name => Ok(effect.result),
                Some(effect) => Err(Throw::Limit(format!(
                    "replay diverged: the program performed {name}, the journal holds {effect}"
                ))),
                None => Err(Throw::Limit(format!("replay diverged: {name} was performed after the journal's end"))),
            };
        }
        let result = perform(self)?;
        self.journal(name, result.clone());
        Ok(result)
    }

    /// Nanoseconds since the process started, counting only the time it ran: `current-jiffy`.
    pub fn jiffies(&self) -> i64 {
        if self.clock_stands_still {
            return self.jiffies_before_start;
        }
        let elapsed = i64::try_from(self.started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        self.jiffies_before_start.saturating_add(elapsed)
    }
}
