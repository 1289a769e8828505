//! Messages and host calls: `send`, `process-name`, and the primitives under `receive` and
//! `host-call` (defined in `stdlib-scm/processes.scm`). Both are effects: each asks for a checkpoint
//! at the next safepoint, so that a message sent or received, or a host call's result, is committed
//! before the process goes on (see [`crate::messaging`] and [`crate::capabilities`]).

use crate::capabilities::{HostKind, peer_capability};
use crate::effects::EffectResult;
use crate::messaging::{MAX_REMOTE_MESSAGE_BYTES, Recipient, message_text, parse_message};
use crate::natives::Entries;
use crate::natives::io::{datum_value, value_datum};
use crate::numbers::Numbers;
use crate::runtime::Runtime;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("send", 2, Some(2), send),
    ("process-name", 0, Some(0), |rt, _| match rt.messaging.name.clone() {
        Some(name) => Ok(rt.new_string(&name)),
        None => Ok(Value::FALSE),
    }),
    ("%try-receive", 0, Some(0), |rt, _| try_receive(rt, Receipt::Datum)),
    ("%try-receive-with-sender", 0, Some(0), |rt, _| try_receive(rt, Receipt::WithSender)),
    ("%wait", 1, Some(1), wait),
    ("%host-kind", 1, Some(1), |rt, a| {
        let kind = granted(rt, a[0])?.2;
        Ok(rt.symbols.intern(kind.word()))
    }),
    ("%host-call", 2, Some(2), host_call),
];

const NO_MAILBOX: &str = "this program runs without a store, so it has no mailbox (a durable process has one)";

/// A process name given as a string or a symbol.
fn name_arg(rt: &Runtime, who: &str, v: Value) -> Result<String, Throw> {
    match rt.symbols.name(v) {
        Some(name) => Ok(name.to_string()),
        None => rt.string_arg(who, v).map_err(|_| rt.type_error(who, "a process name (a string or a symbol)", v)),
    }
}

/// The datum a value denotes, if it is plain data that may leave the process.
fn data_arg(rt: &Runtime, who: &str, v: Value) -> Result<chenilles_reader::Datum, Throw> {
    value_datum(rt, v, 0).filter(|d| message_text(d).is_ok()).ok_or_else(|| {
        Throw::error(
            format!("{who}: only data can leave a process (numbers, strings, symbols, lists, vectors, bytevectors)"),
            vec![v],
        )
    })
}

/// Whom `(send to datum)` sends to: a process name (a symbol or a string), or a list `(peer
/// name)` of two names for a process at a peer, which the process must have been granted
/// (`peer:PEER`).
fn recipient_arg(rt: &Runtime, v: Value) -> Result<Recipient, Throw> {
    let checked = |name: String, what: Value| {
        crate::process_name::check(&name).map_err(|error| Throw::error(format!("send: {error}"), vec![what]))?;
        Ok::<String, Throw>(name)
    };
    if rt.heap.pair(v).is_none() {
        return Ok(Recipient::Process(checked(name_arg(rt, "send", v)?, v)?));
    }
    let wrong = || rt.type_error("send", "a process name, or a list (peer name) for a process at a peer", v);
    let items = rt.heap.list_items(v).filter(|items| items.len() == 2).ok_or_else(wrong)?;
    let peer = checked(name_arg(rt, "send", items[0]).map_err(|_| wrong())?, items[0])?;
    let process = checked(name_arg(rt, "send", items[1]).map_err(|_| wrong())?, items[1])?;
    rt.host.require("send", &peer_capability(&peer))?;
    Ok(Recipient::Remote { peer, process })
}

fn send(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let to = recipient_arg(rt, a[0])?;
    let datum = data_arg(rt, "send", a[1])?;
    if rt.messaging.name.is_none() {
        return Err(Throw::error(format!("send: {NO_MAILBOX}"), vec![]));
    }
    let text = datum.to_string();
    if matches!(to, Recipient::Remote { .. }) && text.len() > MAX_REMOTE_MESSAGE_BYTES {
        let message = format!(
            "send: a message to a process at a peer is at most {MAX_REMOTE_MESSAGE_BYTES} bytes written out; this one is {}",
            text.len()
        );
        return Err(Throw::error(message, vec![]));
    }
    // A send to a process of the store is committed at once, so that it can run; sends to peers
    // are grouped, many to a checkpoint (the next one: when the process waits, ends, makes an
    // effect, or its interval passes), since the network is far slower than the next commit.
    if matches!(to, Recipient::Process(_)) {
        rt.yield_at = 0;
    }
    rt.messaging.outbox.push((to, text));
    Ok(Value::UNSPECIFIED)
}

/// What a receive gives the program.
#[derive(Clone, Copy)]
enum Receipt {
    /// The datum (`receive`).
    Datum,
    /// `(sender . datum)` (`receive-with-sender`).
    WithSender,
}

/// `(list message)` for the next message, or `#f` when there is none yet (or ever: a program run
/// without a store has no mailbox, and `%wait` says so). With [`Receipt::WithSender`], the message
/// is `(sender . datum)` ([`crate::messaging::Message::sender`]).
fn try_receive(rt: &mut Runtime, receipt: Receipt) -> NativeResult {
    // Whether a message has come is itself an effect: journaled, so that a replay takes the same
    // path. Each kind of receipt journals what it gives, under its own name.
    let name = match receipt {
        Receipt::Datum => "receive",
        Receipt::WithSender => "receive-with-sender",
    };
    let taken = rt.effect(name, |rt| {
        Ok(rt.messaging.take().map_or(EffectResult::Nothing, |message| {
            EffectResult::Text(match receipt {
                Receipt::Datum => message.text,
                Receipt::WithSender => format!("({} . {})", message.sender(), message.text),
            })
        }))
    })?;
    let Some(text) = taken.text(name)? else {
        return Ok(Value::FALSE);
    };
    let datum = parse_message(text)
        .map_err(|e| Throw::error(format!("{name}: a message of the mailbox is damaged: {e}"), vec![]))?;
    let value = datum_value(rt, &datum);
    rt.yield_at = 0;
    Ok(rt.heap.cons(value, Value::NIL))
}

/// Waits for a message, until `deadline` (seconds, as `current-second` counts them) unless it is #f.
fn wait(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let deadline = match rt.num(a[0]) {
        Some(n) => Some(crate::numbers::to_f64(&n)),
        None if a[0] == Value::FALSE => None,
        None => return Err(rt.type_error("receive", "a number of seconds", a[0])),
    };
    if rt.messaging.name.is_some() {
        rt.messaging.waiting = Some(deadline);
        rt.yield_at = 0;
        return Ok(Value::UNSPECIFIED);
    }
    // Without a mailbox nothing can come: sleep out the timeout, or say why the wait would never end.
    let Some(deadline) = deadline else {
        return Err(Throw::error(format!("receive: {NO_MAILBOX}"), vec![]));
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let left = deadline - now.as_secs_f64();
    // Fuzzing runs programs by the thousand: a sleep there is only a hang.
    if left > 0.0 && !cfg!(fuzzing) {
        std::thread::sleep(std::time::Duration::from_secs_f64(left.min(1e9)));
    }
    Ok(Value::UNSPECIFIED)
}

/// The host function named by `v`: its name, itself and its kind, if this process was granted it.
type Granted = (String, std::sync::Arc<crate::capabilities::HostFn>, HostKind);

fn granted(rt: &Runtime, v: Value) -> Result<Granted, Throw> {
    let name = name_arg(rt, "host-call", v)?;
    if rt.replay.is_some() && !rt.host.functions.contains_key(&name) {
        // A replay without the host: the call was allowed when it was made, and its result is in
        // the journal (a pure function's is not: its replay diverges).
        let unavailable: std::sync::Arc<crate::capabilities::HostFn> =
            std::sync::Arc::new(|_| Err("the host is not here".into()));
        return Ok((name, unavailable, HostKind::Effect));
    }
    if let Err(Throw::Error { kind, message, .. }) = rt.host.require("host-call", &name) {
        return Err(Throw::Error { kind, message, irritants: vec![v] });
    }
    match rt.host.functions.get(&name) {
        Some(function) => Ok((name, function.call.clone(), function.kind)),
        None => Err(Throw::error(format!("host-call: the host has no function {name}"), vec![v])),
    }
}

fn host_call(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let (name, function, kind) = granted(rt, a[0])?;
    let items = rt.heap.list_items(a[1]).ok_or_else(|| rt.type_error("host-call", "a list of arguments", a[1]))?;
    let args = items.iter().map(|v| data_arg(rt, &name, *v)).collect::<Result<Vec<_>, _>>()?;
    let process = rt.messaging.name.clone().unwrap_or_default();
    // The effect's number is the same every time a resumed process makes this call again.
    let key = format!("{process}/{}", rt.effects_committed + rt.effects.len() as u64);
    let call = crate::capabilities::HostCall { process: &process, args: &args, key: &key };
    let result = match kind {
        HostKind::Pure => function(&call).map_err(|message| Throw::error(format!("{name}: {message}"), vec![]))?,
        HostKind::Effect | HostKind::Idempotent => {
            let result = rt.effect(&name, |_| {
                function(&call)
                    .map(|datum| EffectResult::Text(datum.to_string()))
                    .map_err(|message| Throw::error(format!("{name}: {message}"), vec![]))
            })?;
            rt.yield_at = 0;
            let text = result.text(&name)?.unwrap_or("#f");
            parse_message(text).map_err(|e| Throw::error(format!("{name}: an unreadable result: {e}"), vec![]))?
        }
    };
    Ok(datum_value(rt, &result))
}
