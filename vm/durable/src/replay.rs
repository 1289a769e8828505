//! The determinism check (`chenilles-vm verify --replay NAME`): a process that kept its history
//! (`start --keep-history`) is restored from its first checkpoint and run again with its journaled
//! effects (clock, randomness, keys, messages received, host calls) fed back from the journal
//! instead of performed; at the step of each later checkpoint, the replayed state must serialize to
//! the recorded root hash, and in the end the replayed output must equal the output journal and
//! the process must end as it did. The first divergence is reported with its checkpoint and the
//! first differing object.

use std::collections::VecDeque;

use chenilles_store::{Batch, BlobStore, Hash};

use crate::process::{
    DurableError, Effects, Options, Process, Record, Status, capture_for_checkpoint, process_ref, read_record,
};
use chenilles_machine::interp::Trap;

/// What a replay found.
#[derive(Debug, PartialEq)]
pub enum Replay {
    /// Every checkpoint compared equal, and the replay ended as the process did.
    Same {
        /// The checkpoints compared.
        checkpoints: usize,
        /// The journaled effects the replay was given.
        effects: usize,
    },
    /// The first place where the replay differs from the record.
    Diverged {
        /// The first checkpoint that differs.
        checkpoint: u64,
        /// What differs there.
        what: String,
    },
}

/// The records of process `name`, oldest first (the whole chain, if it kept its history).
fn history(store: &dyn BlobStore, name: &str) -> Result<Vec<Record>, DurableError> {
    let head = store.get_ref(&process_ref(name))?.ok_or_else(|| DurableError::NoSuchProcess(name.into()))?;
    let mut records = vec![read_record(store, name, head)?];
    while let Some(previous) = records.last().and_then(|r| r.previous) {
        records.push(read_record(store, name, Hash(previous))?);
    }
    records.reverse();
    Ok(records)
}

/// Replays process `name` from its first checkpoint (see the module documentation).
pub fn replay(store: &dyn BlobStore, name: &str) -> Result<Replay, DurableError> {
    let records = history(store, name)?;
    let newest = records.last().ok_or_else(|| DurableError::NoSuchProcess(name.into()))?;
    if !newest.keeps_history {
        return Err(DurableError::NoHistory(name.into()));
    }
    let Some(first) = records.iter().find(|r| r.snapshot.is_some()) else {
        return Ok(Replay::Same { checkpoints: 0, effects: 0 });
    };
    let effects = crate::process::read_effects(store, newest)?;
    let output = crate::process::read_output(store, newest)?;
    // Restored as a resume restores it, its effects fed back from the journal (its host calls too:
    // the host functions need not be here).
    let replayed_effects = effects.len().saturating_sub(first.effect_count as usize);
    let journaled = effects.into_iter().skip(first.effect_count as usize).collect::<VecDeque<_>>();
    let mut process = Process::restored(store, first.clone(), None, Options::silent(), Effects::Replayed(journaled))?;

    // The later checkpoints with a state to compare (a record rewritten only to note its echo
    // repeats its predecessor's snapshot).
    let mut targets: Vec<&Record> = Vec::new();
    for record in records.iter().skip_while(|r| !std::ptr::eq(*r, first)).skip(1) {
        if record.snapshot.is_some() && targets.last().map_or(first.snapshot, |t| t.snapshot) != record.snapshot {
            targets.push(record);
        }
    }
    let diverged = |checkpoint: u64, what: String| Ok(Replay::Diverged { checkpoint, what });
    for target in &targets {
        // Run to the target's step count, where the process was checkpointed.
        loop {
            process.vm.rt.yield_at = target.steps;
            let Some(result) = process.vm.resume_boot() else {
                return diverged(target.checkpoints, "the replay ended before this checkpoint".into());
            };
            match result {
                Ok(_) => continue,
                Err(Trap::Yield) => {
                    process.vm.rt.messaging.waiting = None;
                    process.vm.rt.messaging.outbox.clear();
                    if process.vm.steps == target.steps {
                        break;
                    }
                    if process.vm.steps > target.steps {
                        return diverged(
                            target.checkpoints,
                            format!("the replay went past step {} without stopping there", target.steps),
                        );
                    }
                }
                Err(_) => return diverged(target.checkpoints, "the replay ended before this checkpoint".into()),
            }
        }
        let mut batch = Batch::default();
        let (root, _) = capture_for_checkpoint(&mut process.vm, &mut process.snapshotter, &mut batch)?;
        let recorded = Hash(target.snapshot.unwrap_or_default());
        if root != recorded {
            let what = crate::snapshot::difference_from_uncommitted(store, batch, recorded, root);
            return diverged(
                target.checkpoints,
                format!("the replayed state is {root}, the recorded one {recorded}: {what}"),
            );
        }
    }
    // A process that has ended: run the replay to its end too, and compare how both ended. One
    // that goes on, or that was cancelled, is compared only up to its last checkpoint.
    let cut_short = newest.status.is_running() || matches!(newest.status, Status::Cancelled { .. });
    let mut ended = cut_short.then(|| newest.status.clone());
    while ended.is_none() {
        process.vm.rt.yield_at = u64::MAX;
        let Some(result) = process.vm.resume_boot() else {
            ended = Some(Status::Finished);
            continue;
        };
        match result {
            Ok(_) => {}
            Err(Trap::Yield) => {
                process.vm.rt.messaging.waiting = None;
                process.vm.rt.messaging.outbox.clear();
            }
            Err(Trap::Exit(code)) => ended = Some(Status::Exited(code)),
            Err(Trap::Uncaught { .. }) => ended = Some(Status::Failed { report: String::new() }),
        }
    }
    let ended = ended.unwrap_or(Status::Finished);
    let last = newest.checkpoints;
    if ended.word() != newest.status.word() {
        return diverged(last, format!("the replay ended {}, the process {}", ended.word(), newest.status.word()));
    }
    process.vm.rt.flush();
    let replayed = process.output.contents();
    let journaled = &output[first.output_len as usize..];
    if cut_short && !journaled.starts_with(&replayed) || !cut_short && *replayed != *journaled {
        let at = replayed.iter().zip(journaled).take_while(|(a, b)| a == b).count();
        return diverged(
            last,
            format!("the replayed output differs from the output journal at byte {}", first.output_len as usize + at),
        );
    }
    Ok(Replay::Same { checkpoints: targets.len(), effects: replayed_effects })
}
