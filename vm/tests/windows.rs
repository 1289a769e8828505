//! Crashes at every named window of the checkpoint protocol around effects: before a checkpoint
//! is committed (which, around an effectful host call, is before its request is committed or after
//! it ran but before its result is), and after a commit but before its output reached the host.
//! Effects are counted at the provider — a host function that records each call outside the
//! store — and must follow the documented semantics: a completed effect is never performed again;
//! only the one in flight at the crash may be, with the same idempotency key. The output journal
//! holds everything once; the host's echo at least once.

use std::sync::Arc;
use std::sync::Mutex;

use chenilles_durable::Host;
use chenilles_durable::{DurableError, Options, SharedBuffer, Status, Window};
use chenilles_machine::Datum;
use chenilles_machine::capabilities::HostKind;
use chenilles_store::{BlobStore, MemoryStore};

const PROGRAM: &str = r#"
    (define (charge n)
      (let ((receipt (host-call 'charge n)))
        (display (list 'charged n receipt))
        (newline)
        receipt))
    (define total (+ (charge 10) (charge 20)))
    (display (list 'between total))
    (newline)
    (list total (charge 30))"#;

/// The provider's log of calls: key and amount, in call order.
type Calls = Arc<Mutex<Vec<(String, i64)>>>;

/// A window the hook saw: which, and the effects committed when it came.
type Seen = Arc<Mutex<Vec<(Window, u64)>>>;

/// A host over `store` with the `charge` function; crashes at the `crash_at`th window (counting
/// from 0) if asked, recording the windows it sees.
fn host(store: Box<dyn BlobStore>, calls: &Calls, echo: &SharedBuffer, seen: &Seen, crash_at: Option<usize>) -> Host {
    let mut host = Host::new(store);
    let log = calls.clone();
    host.register("charge", HostKind::Idempotent, move |call| {
        let amount = call.args[0].as_i64().ok_or("expected an amount")?;
        log.lock().unwrap().push((call.key.to_string(), amount));
        Ok(Datum::from(amount * 100))
    });
    let (echo, seen) = (echo.clone(), seen.clone());
    host.set_options(move |_| {
        let seen = seen.clone();
        Options {
            echo: Box::new(echo.clone()),
            err: Box::new(std::io::sink()),
            crash_at: Some(Box::new(move |window, record| {
                seen.lock().unwrap().push((window, record.effect_count));
                crash_at == Some(seen.lock().unwrap().len() - 1)
            })),
            ..Options::default()
        }
    });
    host
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes).lines().map(str::to_string).collect()
}

#[test]
fn every_crash_window_around_effects_keeps_the_documented_semantics() {
    // The uninterrupted run: its windows, calls and output.
    let (calls, echo, seen) = (Calls::default(), SharedBuffer::default(), Seen::default());
    let mut clean = host(Box::new(MemoryStore::default()), &calls, &echo, &seen, None);
    clean.spawn("buyer").source("buyer.scm", PROGRAM).grant(["charge"]).start().unwrap();
    clean.run().unwrap();
    assert_eq!(clean.status("buyer").unwrap().status, Status::Finished);
    let expected_output = clean.output("buyer").unwrap();
    let expected_calls = calls.lock().unwrap().clone();
    assert_eq!(expected_calls, [("buyer/0".to_string(), 10), ("buyer/1".to_string(), 20), ("buyer/2".to_string(), 30)]);
    let windows = seen.lock().unwrap().len();
    assert!(windows >= 12, "{windows} windows: a checkpoint before and after each call, and more");

    let mut repeated = 0;
    for crash_at in 0..windows {
        let (calls, echo, seen) = (Calls::default(), SharedBuffer::default(), Seen::default());
        let mut first = host(Box::new(MemoryStore::default()), &calls, &echo, &seen, Some(crash_at));
        let started = first.spawn("buyer").source("buyer.scm", PROGRAM).grant(["charge"]).start();
        let crashed = match started {
            Err(error) => error,
            Ok(()) => first.run().expect_err("the crash comes"),
        };
        let (window, committed) = seen.lock().unwrap()[crash_at];
        assert!(matches!(crashed, DurableError::InjectedCrash { window: w, .. } if w == window), "{crashed}");
        let calls_before_crash = calls.lock().unwrap().len();
        // The machine died: what was in memory is gone. A new host resumes from the store.
        let store = first.release_store().expect("the store");
        drop(first);
        let mut second = host(store, &calls, &echo, &seen, None);
        if second.resume_all().unwrap().is_empty() && second.status("buyer").is_err() {
            second.spawn("buyer").source("buyer.scm", PROGRAM).grant(["charge"]).start().unwrap();
        }
        second.run().unwrap();
        let what = format!("crash at window {crash_at} ({window:?}, {committed} effects committed)");
        assert_eq!(second.status("buyer").unwrap().status, Status::Finished, "{what}");
        assert_eq!(second.output("buyer").unwrap(), expected_output, "{what}: the output journal");

        // Effects, counted at the provider: each key as in the clean run, with the same amount;
        // a completed one (committed before the crash) once; at most the one in flight twice.
        let calls = calls.lock().unwrap();
        let mut keys: Vec<&(String, i64)> = calls.iter().collect();
        keys.dedup();
        assert_eq!(keys.into_iter().cloned().collect::<Vec<_>>(), expected_calls, "{what}: {calls:?}");
        for (index, call) in expected_calls.iter().enumerate() {
            let times = calls.iter().filter(|c| *c == call).count();
            let in_flight = index as u64 >= committed && index < calls_before_crash;
            if in_flight {
                assert!(times <= 2, "{what}: {call:?} made {times} times");
                repeated += usize::from(times == 2);
            } else {
                assert_eq!(times, 1, "{what}: {call:?} is not in flight but was made {times} times");
            }
        }
        // The echo: every line of the output, in order, at least once.
        let echoed = lines(&echo.contents());
        let mut rest = echoed.iter();
        for line in lines(&expected_output) {
            assert!(rest.any(|l| *l == line), "{what}: {line:?} was never echoed (echo: {echoed:?})");
        }
    }
    // The windows where an effect had run but its result was not committed are the only ones
    // that repeat it: one per call.
    assert_eq!(repeated, expected_calls.len(), "effects repeated after a crash in flight");
}
