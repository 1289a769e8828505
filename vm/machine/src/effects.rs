//! Effects: what a process learns from outside (the clock, a generated key, a message, a host
//! function's answer), recorded with its result so that a durable process can commit it with the
//! state that depends on it, and so that a replay can take the result from the record instead of
//! performing it again. The runtime records and replays them ([`crate::runtime::Runtime::effect`]);
//! the durable layer commits them as the effect journal (`spec/snapshot.md` describes its stored
//! form): after a crash the resumed process never sees an effect whose result was lost while its
//! consequences were kept, and an effect in flight at the crash (performed, not yet committed) is
//! performed again on resume: at-least-once, like every effect of a durable process.

use rkyv::{Archive, Deserialize, Serialize};

use crate::throw::Throw;

/// One performed effect and its result.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Effect {
    /// The procedure that performed it (`current-second`, `current-jiffy`).
    pub name: String,
    /// What it returned.
    pub result: EffectResult,
}

/// The result of an effect, as the journal keeps it.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum EffectResult {
    /// An exact integer that fits 64 bits.
    Integer(i64),
    /// A flonum.
    Real(f64),
    /// A text (a larger integer in decimal, or a host function's datum in `write` syntax).
    Text(String),
    /// A secret (a generated key): kept for replay, never printed.
    Secret(Vec<u8>),
    /// No result: `receive` found no message.
    Nothing,
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.result {
            EffectResult::Integer(n) => write!(f, "({}) => {n}", self.name),
            EffectResult::Real(x) => write!(f, "({}) => {x}", self.name),
            EffectResult::Text(t) => write!(f, "({}) => {t:?}", self.name),
            EffectResult::Secret(bytes) => write!(f, "({}) => ({} secret bytes)", self.name, bytes.len()),
            EffectResult::Nothing => write!(f, "({}) => nothing", self.name),
        }
    }
}

impl EffectResult {
    /// The journal's result as `who` expects it, or an error saying the journal does not fit.
    fn mismatch(&self, who: &str) -> Throw {
        Throw::Limit(format!("replay diverged: {who} found {self:?} in the journal"))
    }

    /// The result as a real, or an error saying the journal does not fit.
    pub fn real(&self, who: &str) -> Result<f64, Throw> {
        match self {
            EffectResult::Real(x) => Ok(*x),
            _ => Err(self.mismatch(who)),
        }
    }

    /// The result as an exact integer, or an error saying the journal does not fit.
    pub fn integer(&self, who: &str) -> Result<num_bigint::BigInt, Throw> {
        match self {
            EffectResult::Integer(n) => Ok((*n).into()),
            EffectResult::Text(text) => text.parse().map_err(|_| self.mismatch(who)),
            _ => Err(self.mismatch(who)),
        }
    }

    /// The result as a text (none: nothing was received), or an error saying the journal does not fit.
    pub fn text(&self, who: &str) -> Result<Option<&str>, Throw> {
        match self {
            EffectResult::Text(text) => Ok(Some(text)),
            EffectResult::Nothing => Ok(None),
            _ => Err(self.mismatch(who)),
        }
    }

    /// The result as a secret, or an error saying the journal does not fit.
    pub fn secret(&self, who: &str) -> Result<&[u8], Throw> {
        match self {
            EffectResult::Secret(bytes) => Ok(bytes),
            _ => Err(self.mismatch(who)),
        }
    }
}
