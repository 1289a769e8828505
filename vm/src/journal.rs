//! The effect journal: what a durable process learned from outside (the clock, for now) between two
//! checkpoints. Each checkpoint commits the effects since the previous one together with the state
//! that depends on them, so after a crash the resumed process never sees an effect whose result was
//! lost while its consequences were kept. An effect in flight at the crash (performed, but not yet
//! committed) is performed again on resume: at-least-once, like every effect of a durable process.
//! `spec/snapshot.md` describes the journal's stored form.

use rkyv::{Archive, Deserialize, Serialize};

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
}

impl std::fmt::Display for Effect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.result {
            EffectResult::Integer(n) => write!(f, "({}) => {n}", self.name),
            EffectResult::Real(x) => write!(f, "({}) => {x}", self.name),
            EffectResult::Text(t) => write!(f, "({}) => {t:?}", self.name),
            EffectResult::Secret(bytes) => write!(f, "({}) => ({} secret bytes)", self.name, bytes.len()),
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

    /// Nanoseconds since the process started, counting only the time it ran: `current-jiffy`.
    pub fn jiffies(&self) -> i64 {
        let elapsed = i64::try_from(self.started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        self.jiffies_before_start.saturating_add(elapsed)
    }
}
