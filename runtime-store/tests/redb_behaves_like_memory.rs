//! Model-based: any sequence of commits (puts, ref moves and deletions, right or wrong), gcs and
//! reopenings gives the same answers and the same state on `RedbStore`, plain and encrypted, as
//! on `MemoryStore`, and never loses a blob that the refs reach.

mod common;

use std::collections::BTreeSet;

use std::path::Path;

use chenilles_store::{Batch, BlobStore, Hash, MemoryStore, RedbStore};
use common::{create_encrypted, linked, open_encrypted, roots_of};
use proptest::prelude::*;
use proptest::sample::Index;

#[derive(Clone, Debug)]
enum Expect {
    /// What the model says the ref is at: the update should succeed.
    Current,
    /// That the ref is absent.
    Absent,
    /// Some known blob, probably wrong.
    Known(Index),
}

#[derive(Clone, Debug)]
enum Target {
    /// A blob seen before (perhaps never committed, perhaps collected).
    Known(Index),
    /// The last blob put in this batch.
    LastPut,
}

#[derive(Clone, Debug)]
enum Step {
    Put { payload: u8, children: Vec<Index> },
    SetRef { name: u8, expected: Expect, target: Target },
    DeleteRef { name: u8, expected: Expect },
}

#[derive(Clone, Debug)]
enum Op {
    Commit(Vec<Step>),
    Gc,
    Reopen,
}

fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        4 => Just(Expect::Current),
        1 => Just(Expect::Absent),
        1 => any::<Index>().prop_map(Expect::Known),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let name = 0u8..NAMES.len() as u8;
    prop_oneof![
        4 => (any::<u8>(), prop::collection::vec(any::<Index>(), 0..3))
            .prop_map(|(payload, children)| Step::Put { payload, children }),
        3 => (name.clone(), expect(), prop_oneof![
                3 => Just(Target::LastPut),
                2 => any::<Index>().prop_map(Target::Known),
            ])
            .prop_map(|(name, expected, target)| Step::SetRef { name, expected, target }),
        1 => (name, expect()).prop_map(|(name, expected)| Step::DeleteRef { name, expected }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop::collection::vec(step(), 1..5).prop_map(Op::Commit),
        2 => Just(Op::Gc),
        1 => Just(Op::Reopen),
    ]
}

fn pick(known: &[Hash], index: &Index) -> Hash {
    if known.is_empty() { Hash::of(b"never put") } else { known[index.index(known.len())] }
}

/// Builds the same batch twice (a `Batch` is consumed by its commit).
fn batches(steps: &[Step], model: &MemoryStore, known: &mut Vec<Hash>) -> (Batch, Batch) {
    let (mut a, mut b) = (Batch::default(), Batch::default());
    let mut last_put = None;
    for step in steps {
        match step {
            Step::Put { payload, children } => {
                let children: Vec<Hash> = children.iter().map(|i| pick(known, i)).collect();
                let bytes = linked(&[*payload], &children);
                let hash = a.put(bytes.clone());
                b.put(bytes);
                known.push(hash);
                last_put = Some(hash);
            }
            Step::SetRef { name, expected, target } => {
                let name = NAMES[usize::from(*name)].to_string();
                let expected = expectation(expected, &name, model, known);
                let target = match target {
                    Target::LastPut => last_put.unwrap_or_else(|| Hash::of(b"no put yet")),
                    Target::Known(i) => pick(known, i),
                };
                a.set_ref(&name, expected, target);
                b.set_ref(&name, expected, target);
            }
            Step::DeleteRef { name, expected } => {
                let name = NAMES[usize::from(*name)].to_string();
                let expected = expectation(expected, &name, model, known).unwrap_or_else(|| Hash::of(b"absent"));
                a.delete_ref(&name, expected);
                b.delete_ref(&name, expected);
            }
        }
    }
    (a, b)
}

fn expectation(expected: &Expect, name: &str, model: &MemoryStore, known: &[Hash]) -> Option<Hash> {
    match expected {
        Expect::Current => model.get_ref(name).unwrap(),
        Expect::Absent => None,
        Expect::Known(i) => Some(pick(known, i)),
    }
}

fn reachable(store: &dyn BlobStore) -> BTreeSet<Hash> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Hash> = store.list_refs().unwrap().into_iter().map(|r| r.1).collect();
    while let Some(hash) = stack.pop() {
        if seen.insert(hash)
            && let Some(bytes) = store.get(&hash).unwrap()
        {
            stack.extend(roots_of(&bytes));
        }
    }
    seen
}

/// Ref names whose prefixes nest and overlap (an encrypted store lists prefixes by segment).
const NAMES: [&str; 7] =
    ["ref/0", "ref/1", "ref/1/x", "refs", "mailbox/a/messages/0001", "mailbox/a/messages/0002", "mailbox/ab"];

/// Prefixes at and between segment boundaries.
const PREFIXES: [&str; 10] = [
    "",
    "ref",
    "ref/",
    "ref/1",
    "ref/1/",
    "mailbox/a/",
    "mailbox/a",
    "mailbox/a/messages/",
    "mailbox/a/messages/0",
    "zzz",
];

fn same_prefix_listings(model: &MemoryStore, redb: &RedbStore) -> Result<(), TestCaseError> {
    for prefix in PREFIXES {
        let listed = model.list_refs_with_prefix(prefix, None).unwrap();
        prop_assert_eq!(&listed, &redb.list_refs_with_prefix(prefix, None).unwrap(), "prefix {:?}", prefix);
        if let Some((first, _)) = listed.first() {
            prop_assert_eq!(
                model.list_refs_with_prefix(prefix, Some(first)).unwrap(),
                redb.list_refs_with_prefix(prefix, Some(first)).unwrap(),
                "prefix {:?} after {:?}",
                prefix,
                first
            );
        }
    }
    Ok(())
}

fn same_answers_as_memory(
    ops: &[Op],
    create: fn(&Path) -> RedbStore,
    open: fn(&Path) -> RedbStore,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.redb");
    let mut redb = create(&path);
    let mut model = MemoryStore::default();
    {
        let mut known = Vec::new();
        for op in ops {
            match op {
                Op::Commit(steps) => {
                    let (a, b) = batches(steps, &model, &mut known);
                    prop_assert_eq!(model.commit(a), redb.commit(b));
                }
                Op::Gc => prop_assert_eq!(model.gc(&roots_of), redb.gc(&roots_of)),
                Op::Reopen => {
                    redb.close().unwrap();
                    redb = open(&path);
                }
            }
            prop_assert_eq!(model.list_refs().unwrap(), redb.list_refs().unwrap());
            same_prefix_listings(&model, &redb)?;
            prop_assert_eq!(model.blob_hashes().unwrap(), redb.blob_hashes().unwrap());
            for hash in reachable(&model) {
                prop_assert_eq!(model.get(&hash).unwrap(), redb.get(&hash).unwrap());
            }
        }
        prop_assert!(redb.verify().unwrap().is_clean());
        prop_assert_eq!(model.verify().unwrap(), redb.verify().unwrap());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn redb_gives_the_same_answers_as_memory(ops in prop::collection::vec(op(), 1..30)) {
        let open = |path: &Path| RedbStore::open(path).unwrap();
        same_answers_as_memory(&ops, open, open)?;
    }

    #[test]
    fn an_encrypted_store_gives_the_same_answers_as_memory(ops in prop::collection::vec(op(), 1..30)) {
        same_answers_as_memory(&ops, create_encrypted, open_encrypted)?;
    }
}
