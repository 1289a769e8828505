//! A host program that embeds Chenilles VM: it runs a payment channel between two durable processes,
//! alice (the payer) and bob (the payee), delivers their instructions as messages, and settles the
//! channel through a host function that writes to a ledger file outside the store.
//!
//!     cargo run --example channel -- [DIR]       # the store and the ledger go in DIR (default .chenilles/channel)
//!
//! Kill it at any moment (kill -9) and run it again: it resumes both processes from their last
//! checkpoints and goes on. Whatever the crashes, each payment is made once and the ledger gets one
//! settlement.
//!
//! - Each party generates its ed25519 key (a journaled effect) and sends its public key to the other.
//! - The host delivers `(pay N AMOUNT)` instructions to alice, numbered: after a restart it delivers
//!   its whole script again, and alice ignores the instructions she has already carried out. This
//!   is how a host that keeps no state of its own drives processes exactly once.
//! - For each payment alice signs the next state and sends it to bob, who checks it, countersigns it
//!   and sends his signature back.
//! - `(close N)` makes bob call the host function `settle` with the newest state and both
//!   signatures. `settle` is idempotent: it checks both signatures (in Rust), and writes a ledger
//!   line tagged with the call's key unless a line with that key is already there, which is what
//!   happens if the host was killed after writing it but before the process committed the result.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chenilles_durable::Host;
use chenilles_durable::{DurableError, Status};
use chenilles_machine::Datum;
use chenilles_machine::capabilities::{HostCall, HostError, HostKind};
use chenilles_store::RedbStore;
use ed25519_dalek::{Signature, VerifyingKey};

/// What both parties share: the state format and signing of data.
const COMMON: &str = r#"
(import (scheme base) (scheme write) (chenilles crypto))
(define (say . items) (display (process-name)) (display ": ") (for-each display items) (newline))
(define (make-state nonce alice bob) (list 'state nonce alice bob))
(define (state-nonce state) (cadr state))
(define (state-bob state) (cadddr state))
(define key (ed25519-generate-key))
(define (public) (ed25519-public-key key))
"#;

const ALICE: &str = r#"
(send 'bob (list 'key (public)))
(define bob-key #f)
(define newest (list (make-state 0 100 0) #f #f))   ; (state alice-signature bob-signature)
(define last-instruction 0)
(let loop ()
  (let ((message (receive)))
    (case (car message)
      ((key) (set! bob-key (cadr message)) (loop))
      ((pay)
       (let ((n (cadr message)) (amount (caddr message)) (state (car newest)))
         (when (> n last-instruction)
           (set! last-instruction n)
           (let ((next (make-state (+ (state-nonce state) 1) (- (caddr state) amount) (+ (state-bob state) amount))))
             (say "pays bob " amount ", nonce " (state-nonce next))
             (set! newest (list next (ed25519-sign-datum key next) #f))
             (send 'bob (list 'update next (cadr newest))))))
       (loop))
      ((countersigned)
       (let ((state (cadr message)) (signature (caddr message)))
         (if (and (equal? state (car newest)) (ed25519-verify-datum bob-key state signature))
             (set! newest (list state (cadr newest) signature))
             (say "bad countersignature ignored")))
       (loop))
      ((closed) (say "the channel is closed") 'closed)
      (else (loop)))))
"#;

const BOB: &str = r#"
(send 'alice (list 'key (public)))
(define alice-key #f)
(define newest (list (make-state 0 100 0) #f #f))
(let loop ()
  (let ((message (receive)))
    (case (car message)
      ((key) (set! alice-key (cadr message)) (loop))
      ((update)
       (let ((state (cadr message)) (signature (caddr message)))
         (if (and (ed25519-verify-datum alice-key state signature)
                  (= (state-nonce state) (+ (state-nonce (car newest)) 1))
                  (> (state-bob state) (state-bob (car newest))))
             (let ((mine (ed25519-sign-datum key state)))
               (set! newest (list state signature mine))
               (say "accepts nonce " (state-nonce state) ", now holds " (state-bob state))
               (send 'alice (list 'countersigned state mine)))
             (say "refuses an update")))
       (loop))
      ((close)
       (let ((receipt (host-call 'settle (car newest) (cadr newest) (caddr newest) alice-key (public))))
         (say "settled: " receipt)
         (send 'alice '(closed))
         receipt))
      (else (loop)))))
"#;

/// The host's script: the instructions it delivers, in order.
fn script() -> Vec<(&'static str, Datum)> {
    let pay = |n: i64, amount: i64| ("alice", Datum::list([Datum::symbol("pay"), Datum::from(n), Datum::from(amount)]));
    vec![pay(1, 10), pay(2, 25), pay(3, 5), ("bob", Datum::list([Datum::symbol("close"), Datum::from(4)]))]
}

/// The host function `settle`: checks both signatures on the final state and records the payout in
/// the ledger once per call key.
fn settle(ledger: &Path, call: &HostCall<'_>) -> Result<Datum, HostError> {
    let [state, alice_signature, bob_signature, alice_key, bob_key] = call.args else {
        return Err("expected a state, two signatures and two keys".into());
    };
    let text = state.to_string();
    for (signature, key, who) in [(alice_signature, alice_key, "alice"), (bob_signature, bob_key, "bob")] {
        let key = key.as_bytes().and_then(|k| <[u8; 32]>::try_from(k).ok()).ok_or("a key is not 32 bytes")?;
        let key = VerifyingKey::from_bytes(&key).map_err(|e| HostError::from_error(&e))?;
        let signature =
            signature.as_bytes().and_then(|s| <[u8; 64]>::try_from(s).ok()).ok_or("a signature is not 64 bytes")?;
        key.verify_strict(text.as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| format!("{who}'s signature does not verify"))?;
    }
    let items = state.as_list().ok_or("the state is not a list")?;
    let (alice, bob) = (items[2].as_i64().unwrap_or(-1), items[3].as_i64().unwrap_or(-1));
    let line = format!("{} alice {alice} bob {bob}\n", call.key);
    let existing = std::fs::read_to_string(ledger).unwrap_or_default();
    if !existing.lines().any(|l| l.split_whitespace().next() == Some(call.key)) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(ledger)
            .map_err(|e| HostError::from_error(&e))?;
        file.write_all(line.as_bytes()).and_then(|()| file.sync_all()).map_err(|e| HostError::from_error(&e))?;
        println!("host: ledger: alice receives {alice}, bob receives {bob}");
    } else {
        println!("host: settlement {} was already in the ledger", call.key);
    }
    Ok(Datum::list([Datum::symbol("paid"), Datum::from(alice), Datum::from(bob)]))
}

fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let store = RedbStore::open(dir.join("store.redb"))?;
    let mut host = Host::new(Box::new(store));
    let ledger = dir.join("ledger.txt");
    host.register("settle", HostKind::Idempotent, move |call| settle(&ledger, call));
    let resumed = host.resume_all()?;
    if !resumed.is_empty() {
        println!("host: resumed {resumed:?}");
    }
    // Each party is spawned once: a crash may have come between the two spawns.
    for (name, party, grants) in [("alice", ALICE, &[][..]), ("bob", BOB, &["settle"][..])] {
        if matches!(host.status(name), Err(DurableError::NoSuchProcess(_))) {
            println!("host: spawning {name}");
            host.spawn(name)
                .source(format!("{name}.scm"), format!("{COMMON}{party}"))
                .grant(grants.iter().copied())
                .start()?;
        }
    }
    host.run()?;
    for (to, instruction) in script() {
        if !host.status(to)?.status.is_running() {
            continue;
        }
        println!("host: delivers {instruction} to {to}");
        host.send(to, &instruction)?;
        host.run()?;
    }
    for name in ["alice", "bob"] {
        let record = host.status(name)?;
        match &record.status {
            Status::Finished => println!("host: {name} finished with {}", record.result.as_deref().unwrap_or("?")),
            other => println!("host: {name} is {}", other.word()),
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let dir = std::env::args().nth(1).map_or_else(|| PathBuf::from(".chenilles/channel"), PathBuf::from);
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
