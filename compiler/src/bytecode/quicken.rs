//! Quickening: the VM's rewriting of verified code with superinstructions.
//!
//! An interpreter spends much of its time choosing the next instruction, so common pairs of
//! instructions run as one (`Local i` then `Const k` pushes both). [`quicken`] writes each pair's
//! superinstruction over the pair's first instruction and leaves the second in place: the code
//! keeps its length, every index means what it meant (a jump to the second instruction of a pair
//! runs it alone), source positions and the pcs saved in frames and snapshots stay valid, and the
//! verifier's stack heights still describe every index. A superinstruction goes on after its pair,
//! so it only saves work; it changes nothing a program can observe.
//!
//! Global variables are linked the same way: `Global g` names the image's global `g`, which the
//! process has at some slot of its own; `GlobalSlot s` goes to that slot directly.
//!
//! Pairs are taken from the original code, never from already rewritten instructions, so a run of
//! `Local a`, `Local b`, `Local c` becomes `LocalLocal a b`, `LocalLocal b c`, `Local c`. Common
//! triples (`Local i`, `Const k`, `Sub`: `(- n 1)`) are fused the same way and win over the pair
//! starting at the same index; the pair starting at the triple's second instruction stays.

use super::instructions::Insn;

/// `insns` with the first instruction of every common pair replaced by the pair's
/// superinstruction, and every `Global g` that no pair took linked to its process-wide slot
/// `global_slot(g)`. `insns` must be verified code (no superinstructions in it).
pub fn quicken(insns: &[Insn], global_slot: impl Fn(u32) -> u32) -> Vec<Insn> {
    let mut quick: Vec<Insn> = insns
        .iter()
        .map(|&insn| match insn {
            Insn::Global { g } => Insn::GlobalSlot { s: global_slot(g) },
            other => other,
        })
        .collect();
    let mut starts_triple = vec![false; insns.len()];
    for (at, triple) in insns.windows(3).enumerate() {
        let fused = match (triple[0], triple[1], triple[2]) {
            (Insn::Local { i }, Insn::Const { k }, Insn::Add {}) => Insn::LocalConstAdd { i, k },
            (Insn::Local { i }, Insn::Const { k }, Insn::Sub {}) => Insn::LocalConstSub { i, k },
            (Insn::Local { i }, Insn::Const { k }, Insn::NumEq {}) => Insn::LocalConstNumEq { i, k },
            (Insn::Local { i }, Insn::Const { k }, Insn::Lt {}) => Insn::LocalConstLt { i, k },
            (Insn::Local { i }, Insn::Const { k }, Insn::Gt {}) => Insn::LocalConstGt { i, k },
            (Insn::Local { i }, Insn::Local { i: j }, Insn::Lt {}) => Insn::LocalLocalLt { i, j },
            (Insn::Local { i }, Insn::Local { i: j }, Insn::Le {}) => Insn::LocalLocalLe { i, j },
            (Insn::Local { i }, Insn::Local { i: j }, Insn::NumEq {}) => Insn::LocalLocalNumEq { i, j },
            (Insn::Local { i }, Insn::Local { i: j }, Insn::Add {}) => Insn::LocalLocalAdd { i, j },
            _ => continue,
        };
        quick[at] = fused;
        starts_triple[at] = true;
    }
    for (at, pair) in insns.windows(2).enumerate() {
        if starts_triple[at] {
            continue;
        }
        let fused = match (pair[0], pair[1]) {
            (Insn::Local { i }, Insn::Local { i: j }) => Insn::LocalLocal { i, j },
            (Insn::Local { i }, Insn::Const { k }) => Insn::LocalConst { i, k },
            (Insn::Const { k }, Insn::Add {}) => Insn::ConstAdd { k },
            (Insn::Const { k }, Insn::Sub {}) => Insn::ConstSub { k },
            (Insn::Local { i }, Insn::Return {}) => Insn::LocalReturn { i },
            (Insn::Local { i }, Insn::Car {}) => Insn::LocalCar { i },
            (Insn::Local { i }, Insn::Cdr {}) => Insn::LocalCdr { i },
            (Insn::Local { i }, Insn::IsNull {}) => Insn::LocalIsNull { i },
            _ => continue,
        };
        quick[at] = fused;
    }
    quick
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_triples_become_superinstructions_and_their_other_parts_stay() {
        let code = [
            Insn::Local { i: 0 },
            Insn::Local { i: 1 },
            Insn::Local { i: 2 },
            Insn::Const { k: 3 },
            Insn::Sub {},
            Insn::Local { i: 4 },
            Insn::Return {},
        ];
        assert_eq!(
            quicken(&code, |g| g),
            [
                Insn::LocalLocal { i: 0, j: 1 },
                Insn::LocalLocal { i: 1, j: 2 },
                Insn::LocalConstSub { i: 2, k: 3 },
                Insn::ConstSub { k: 3 },
                Insn::Sub {},
                Insn::LocalReturn { i: 4 },
                Insn::Return {},
            ]
        );
    }

    #[test]
    fn code_without_pairs_is_unchanged() {
        let code = [Insn::Const { k: 0 }, Insn::Pop {}, Insn::Car {}, Insn::Return {}];
        assert_eq!(quicken(&code, |g| g), code);
    }

    #[test]
    fn globals_are_linked_to_their_slots() {
        let code = [Insn::Global { g: 0 }, Insn::Global { g: 1 }, Insn::Call { n: 0 }];
        assert_eq!(
            quicken(&code, |g| 40 + g),
            [Insn::GlobalSlot { s: 40 }, Insn::GlobalSlot { s: 41 }, Insn::Call { n: 0 }]
        );
    }

    #[test]
    fn every_superinstruction_is_made_by_quicken() {
        let made: Vec<&str> = quicken(
            &[
                Insn::Local { i: 0 },
                Insn::Local { i: 0 },
                Insn::Const { k: 0 },
                Insn::Add {},
                Insn::Const { k: 0 },
                Insn::Sub {},
                Insn::Local { i: 0 },
                Insn::Return {},
                Insn::Global { g: 0 },
                Insn::Local { i: 0 },
                Insn::Const { k: 0 },
                Insn::Add {},
                Insn::Local { i: 0 },
                Insn::Const { k: 0 },
                Insn::Sub {},
                Insn::Local { i: 0 },
                Insn::Const { k: 0 },
                Insn::NumEq {},
                Insn::Local { i: 0 },
                Insn::Const { k: 0 },
                Insn::Lt {},
                Insn::Local { i: 0 },
                Insn::Const { k: 0 },
                Insn::Gt {},
                Insn::Local { i: 0 },
                Insn::Local { i: 1 },
                Insn::Lt {},
                Insn::Local { i: 0 },
                Insn::Local { i: 1 },
                Insn::Le {},
                Insn::Local { i: 0 },
                Insn::Local { i: 1 },
                Insn::NumEq {},
                Insn::Local { i: 0 },
                Insn::Const { k: 0 },
                Insn::Return {},
                Insn::Local { i: 0 },
                Insn::Local { i: 1 },
                Insn::Add {},
                Insn::Local { i: 0 },
                Insn::Car {},
                Insn::Local { i: 0 },
                Insn::Cdr {},
                Insn::Local { i: 0 },
                Insn::IsNull {},
            ],
            |g| g,
        )
        .iter()
        .filter(|insn| insn.is_superinstruction())
        .map(|insn| insn.name())
        .collect();
        let all: Vec<&str> = Insn::all().iter().filter(|i| i.is_superinstruction()).map(|i| i.name()).collect();
        for name in &all {
            assert!(made.contains(name), "{name} is never made by quicken");
        }
    }
}
