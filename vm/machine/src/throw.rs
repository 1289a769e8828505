//! [`Throw`]: how a native procedure (or an instruction) leaves other than by returning a value:
//! an error, a resource limit, a `raise` or an exit.

use crate::heap::ConditionKind;
use crate::value::Value;

/// How a native procedure leaves other than by returning a value.
#[derive(Debug)]
pub enum Throw {
    /// Raise a new error object.
    Error { kind: ConditionKind, message: String, irritants: Vec<Value> },
    /// A resource limit was exceeded: the program stops, and no handler can catch it.
    Limit(String),
    /// End the program with an uncaught raise of this object (`raise` with no handler installed).
    Raise(Value),
    /// End the program with an exit code (`exit`).
    Exit(i32),
}

impl Throw {
    /// An error the VM raises (the program's own `error` calls make [`ConditionKind::Error`]s).
    pub fn error(message: impl Into<String>, irritants: Vec<Value>) -> Throw {
        Throw::Error { kind: ConditionKind::Runtime, message: message.into(), irritants }
    }
}

/// What native procedures return.
pub type NativeResult = Result<Value, Throw>;
