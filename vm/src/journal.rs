//! The effect journal: what a durable process learned from outside (the clock, for now) between two
//! checkpoints. Each checkpoint commits the effects since the previous one together with the state
//! that depends on them, so after a crash the resumed process never sees an effect whose result was
//! lost while its consequences were kept. An effect in flight at the crash (performed, but not yet
//! committed) is performed again on resume: at-least-once, like every effect of a durable process.
//! `spec/snapshot.md` describes the journal's stored form.

use rkyv::{Archive, Deserialize, Serialize};

use crate::runtime::Throw;

/// One performed effect and its result.
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Effect {
    /// The procedure that performed it (`current-second`, `current-jiffy`).
    pub name: String,
    pub result: EffectResult,
}

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum EffectResult {
    Integer(i64),
    Real(f64),
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

impl crate::runtime::Runtime {
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

impl EffectResult {
    /// The journal's result as `who` expects it, or an error saying the journal does not fit.
    fn mismatch(&self, who: &str) -> Throw {
        Throw::Limit(format!("replay diverged: {who} found {self:?} in the journal"))
    }

    pub fn real(&self, who: &str) -> Result<f64, Throw> {
        match self {
            EffectResult::Real(x) => Ok(*x),
            _ => Err(self.mismatch(who)),
        }
    }

    pub fn integer(&self, who: &str) -> Result<num_bigint::BigInt, Throw> {
        match self {
            EffectResult::Integer(n) => Ok((*n).into()),
            EffectResult::Text(text) => text.parse().map_err(|_| self.mismatch(who)),
            _ => Err(self.mismatch(who)),
        }
    }

    pub fn text(&self, who: &str) -> Result<Option<&str>, Throw> {
        match self {
            EffectResult::Text(text) => Ok(Some(text)),
            EffectResult::Nothing => Ok(None),
            _ => Err(self.mismatch(who)),
        }
    }

    pub fn secret(&self, who: &str) -> Result<&[u8], Throw> {
        match self {
            EffectResult::Secret(bytes) => Ok(bytes),
            _ => Err(self.mismatch(who)),
        }
    }
}
