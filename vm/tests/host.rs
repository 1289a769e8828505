//! The embedding API (`chenilles_durable::Host`): processes spawned by a host, talking to each other and
//! to the host through mailboxes and host functions, and resumed by a new host after a restart.

use std::sync::Arc;
use std::sync::Mutex;

use chenilles_durable::Host;
use chenilles_durable::{Options, Status};
use chenilles_machine::Datum;
use chenilles_machine::capabilities::HostKind;
use chenilles_store::{BlobStore, MemoryStore};

/// A host over a fresh in-memory store whose processes' output is discarded (it stays in their
/// output journals) and which checkpoints at every slice.
fn quiet_host(store: Box<dyn BlobStore>) -> Host {
    let mut host = Host::new(store);
    host.set_options(|_| Options {
        checkpoint_every: std::time::Duration::ZERO,
        checkpoint_share: 100,
        ..Options::silent()
    });
    host
}

fn output(host: &mut Host, name: &str) -> String {
    String::from_utf8(host.output(name).expect("output journal")).expect("UTF-8")
}

#[test]
fn two_processes_exchange_messages_until_both_finish() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    let ping = r#"
        (let loop ((n 0))
          (send 'pong (list 'ping n))
          (let ((reply (receive)))
            (display reply) (newline)
            (if (< n 4) (loop (+ n 1)) (send 'pong 'stop))))"#;
    let pong = r#"
        (let loop ((count 0))
          (let ((message (receive)))
            (if (eq? message 'stop)
                count
                (begin (send 'ping (list 'pong (cadr message))) (loop (+ count 1))))))"#;
    host.spawn("ping").source("ping.scm", ping).start().unwrap();
    host.spawn("pong").source("pong.scm", pong).start().unwrap();
    let ended = host.run().unwrap();
    assert_eq!(ended.len(), 2, "{ended:?}");
    assert_eq!(output(&mut host, "ping"), "(pong 0)\n(pong 1)\n(pong 2)\n(pong 3)\n(pong 4)\n");
    assert_eq!(host.result("pong").unwrap(), Some(Datum::from(5)));
    assert!(host.waiting().is_empty());
}

#[test]
fn a_process_granted_a_peer_queues_messages_for_it() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    let sender = "(send '(bob ledger) '(pay 5)) (send '(carol ledger) 'never)";
    host.spawn("granted").source("sender.scm", sender).grant(["peer:bob"]).start().unwrap();
    host.run().unwrap();
    let record = host.status("granted").unwrap();
    let Status::Failed { report } = &record.status else { panic!("expected a failure, got {:?}", record.status) };
    assert!(report.contains("capability peer:carol was not granted"), "{report}");
    let outbox = chenilles_durable::read_outbox(host.store().unwrap(), "bob").unwrap();
    let sent: Vec<(u64, &str, &str, &str)> =
        outbox.messages.iter().map(|m| (m.seq, m.from.as_str(), m.to.as_str(), m.text.as_str())).collect();
    assert_eq!(sent, [(0, "granted", "ledger", "(pay 5)")]);
    assert!(chenilles_durable::read_outbox(host.store().unwrap(), "carol").unwrap().messages.is_empty());
    // A message a peer would not take is refused at the send, not left to wait forever.
    let big = "(send '(bob ledger) (make-string (+ 1 (* 1024 1024)) #\\x))";
    host.spawn("big").source("big.scm", big).grant(["peer:bob"]).start().unwrap();
    host.run().unwrap();
    let Status::Failed { report } = host.status("big").unwrap().status else { panic!("the big send must fail") };
    assert!(report.contains("at most 1048576 bytes"), "{report}");
    assert_eq!(chenilles_durable::read_outbox(host.store().unwrap(), "bob").unwrap().messages.len(), 1);
}

/// `receive-with-sender` names who sent each message: a process of the store, the host, or a
/// process at a peer as `(peer process)`, which `send` takes as it is.
#[test]
fn a_receiver_learns_who_sent_each_message_and_can_answer_a_peer() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    let ledger = r#"
        (let loop ((n 0))
          (when (< n 3)
            (let ((m (receive-with-sender)))
              (write m) (newline)
              (when (pair? (car m)) (send (car m) (list 'thanks (cdr m))))
              (loop (+ n 1)))))"#;
    host.spawn("ledger").source("ledger.scm", ledger).grant(["peer:alice-node"]).start().unwrap();
    host.spawn("clerk").source("clerk.scm", "(send 'ledger '(from clerk))").start().unwrap();
    host.run().unwrap();
    host.send("ledger", &Datum::symbol("from-host")).unwrap();
    let batch =
        [chenilles_durable::Incoming { seq: 0, from: "alice".into(), to: "ledger".into(), text: "(pay 5)".into() }];
    let received = host.receive_from_peer("12D3KooWAlice", "alice-node", &batch, Default::default()).unwrap();
    assert_eq!((received.mark, received.delivered), (1, 1));
    host.run().unwrap();
    assert_eq!(output(&mut host, "ledger"), "(clerk from clerk)\n(host . from-host)\n((alice-node alice) pay 5)\n");
    let outbox = chenilles_durable::read_outbox(host.store().unwrap(), "alice-node").unwrap();
    let answers: Vec<(&str, &str, &str)> =
        outbox.messages.iter().map(|m| (m.from.as_str(), m.to.as_str(), m.text.as_str())).collect();
    assert_eq!(answers, [("ledger", "alice", "(thanks (pay 5))")]);
    assert_eq!(host.status("ledger").unwrap().status, Status::Finished);
}

#[test]
fn a_message_sent_before_the_process_exists_waits_for_it() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    host.send("late", &Datum::list([Datum::symbol("hello"), Datum::from("world")])).unwrap();
    host.spawn("late").source("late.scm", "(receive)").start().unwrap();
    host.run().unwrap();
    let result = host.result("late").unwrap().expect("finished with a value");
    assert_eq!(result.to_string(), "(hello \"world\")");
}

#[test]
fn a_receive_with_a_timeout_gives_its_default_when_nothing_comes() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    host.spawn("t").source("t.scm", "(receive 0.05 'nothing)").start().unwrap();
    host.run().unwrap();
    // The process waits with a deadline; running again once it has passed wakes it.
    if !host.waiting().is_empty() {
        assert!(host.next_deadline().is_some());
        std::thread::sleep(std::time::Duration::from_millis(60));
        host.run().unwrap();
    }
    assert_eq!(host.status("t").unwrap().status, Status::Finished);
    assert_eq!(host.result("t").unwrap(), Some(Datum::symbol("nothing")));
}

#[test]
fn only_granted_host_functions_can_be_called() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    host.register("double", HostKind::Pure, |call| {
        let n = call.args.first().and_then(Datum::as_integer).ok_or("expected an integer")?;
        Ok(Datum::from(n * 2))
    });
    host.register("launch", HostKind::Effect, |_| Ok(Datum::from(true)));
    let program = r#"
        (display (host-call 'double (expt 2 100))) (newline)
        (display (guard (e (#t (error-object-message e))) (host-call 'double 'x))) (newline)
        (host-call 'launch)"#;
    host.spawn("p").source("p.scm", program).grant(["double"]).start().unwrap();
    host.run().unwrap();
    let record = host.status("p").unwrap();
    let Status::Failed { report } = &record.status else { panic!("expected a failure, got {:?}", record.status) };
    assert!(report.contains("capability launch was not granted to this process (granted: double)"), "{report}");
    assert_eq!(output(&mut host, "p"), "2535301200456458802993406410752\ndouble: expected an integer\n");
}

#[test]
fn a_completed_effect_is_not_repeated_after_a_restart() {
    // The provider counts its calls outside the store.
    let calls = Arc::new(Mutex::new(Vec::<String>::new()));
    let register = |host: &mut Host, calls: &Arc<Mutex<Vec<String>>>| {
        let calls = calls.clone();
        host.register("pay", HostKind::Idempotent, move |call| {
            calls.lock().unwrap().push(format!("{} {}", call.key, call.args[0]));
            Ok(Datum::symbol("paid"))
        });
    };
    let program = r#"
        (define first (host-call 'pay 10))
        (define second (receive))
        (list first second (host-call 'pay 20))"#;
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    register(&mut host, &calls);
    host.spawn("buyer").source("buyer.scm", program).grant(["pay"]).start().unwrap();
    host.run().unwrap();
    assert_eq!(*calls.lock().unwrap(), ["buyer/0 10"]);
    // The host goes away while the process waits; a new one over the same store resumes it.
    let store = host.release_store().expect("the host holds its store");
    drop(host);
    let mut host = quiet_host(store);
    register(&mut host, &calls);
    assert_eq!(host.resume_all().unwrap(), ["buyer"]);
    host.send("buyer", &Datum::symbol("go")).unwrap();
    host.run().unwrap();
    // Between the payments come two more effects: `receive` found nothing, then `go`.
    assert_eq!(*calls.lock().unwrap(), ["buyer/0 10", "buyer/3 20"], "each payment made once, each with its own key");
    assert_eq!(host.result("buyer").unwrap().map(|d| d.to_string()), Some("(paid go paid)".to_string()));
    let record = host.status("buyer").unwrap();
    let journal: Vec<String> = chenilles_durable::read_effects(host.store().unwrap(), &record)
        .unwrap()
        .iter()
        .map(|effect| effect.to_string())
        .collect();
    assert_eq!(journal, ["(pay) => \"paid\"", "(receive) => nothing", "(receive) => \"go\"", "(pay) => \"paid\""]);
}

#[test]
fn a_process_over_its_limits_fails_alone() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    let limited = |max_steps: Option<u64>, max_depth: Option<usize>| {
        let mut machine = chenilles_machine::Machine::durable();
        machine.vm.rt.limits = chenilles_machine::runtime::Limits { max_steps, max_heap: None, max_depth };
        machine
    };
    for (name, source, machine) in [
        ("spinner", "(let loop () (loop))", limited(Some(100_000), None)),
        ("diver", "(define (f n) (+ 1 (f n))) (f 0)", limited(None, Some(10_000))),
        ("worker", "(let loop ((i 0) (sum 0)) (if (= i 1000) sum (loop (+ i 1) (+ sum i))))", limited(None, None)),
    ] {
        let mut machine = machine;
        let image = machine.compile(&format!("{name}.scm"), source).unwrap();
        host.spawn(name).image(name, machine, &image).start().unwrap();
    }
    let ended = host.run().unwrap();
    assert_eq!(ended.len(), 3);
    let report = |host: &mut Host, name: &str| match host.status(name).unwrap().status {
        Status::Failed { report } => report,
        other => panic!("{name} is {other:?}"),
    };
    assert!(report(&mut host, "spinner").contains("step limit exceeded"));
    assert!(report(&mut host, "diver").contains("depth limit exceeded"));
    assert_eq!(host.result("worker").unwrap(), Some(Datum::from(499_500)));
}

#[test]
fn a_record_whose_echo_mark_is_past_its_output_is_refused_not_sliced() {
    // Found by the snapshot fuzz target: resuming such a record sliced the output journal out of
    // range and panicked.
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    host.spawn("talker").source("talker.scm", "(display \"hello\") (receive)").start().unwrap();
    host.run().unwrap();
    let store = host.store().unwrap();
    let head = store.get_ref(&chenilles_durable::process_ref("talker")).unwrap().unwrap();
    let mut record = chenilles_durable::read_record(store, "talker", head).unwrap();
    record.echoed = record.output_len + 1000;
    let mut batch = chenilles_store::Batch::default();
    chenilles_durable::stage_record(&mut batch, &mut record, Some(head));
    store.commit(batch).unwrap();
    let store = host.release_store().unwrap();
    let mut restarted = quiet_host(store);
    let error = restarted.resume("talker").expect_err("a damaged record is refused").to_string();
    assert!(error.contains("bytes of output were echoed"), "{error}");
}

/// A host function's typed error is raised in the process as a Scheme error it can catch.
#[test]
fn a_host_functions_error_is_a_scheme_error_the_process_can_catch() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    host.register("lookup", HostKind::Pure, |call| match call.args.first().and_then(|d| d.as_i64()) {
        Some(n) if n >= 0 => Ok(Datum::from(n * 2)),
        _ => Err(chenilles_machine::capabilities::HostError::new("a non-negative integer, please")),
    });
    let program = "(import (scheme base))
        (guard (e ((error-object? e) (error-object-message e)))
          (host-call 'lookup -1))";
    host.spawn("asker").source("asker.scm", program).grant(["lookup"]).start().unwrap();
    host.run().unwrap();
    let result = host.result("asker").unwrap().map(|d| d.to_string());
    assert_eq!(result.as_deref(), Some("\"lookup: a non-negative integer, please\""));
}

#[test]
fn statuses_display_as_words_and_times_are_system_times() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    let before = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    host.spawn("sleeper").source("sleeper.scm", "(receive 60 'nothing)").start().unwrap();
    host.run().unwrap();
    let record = host.status("sleeper").unwrap();
    assert_eq!(record.status.to_string(), "waiting");
    assert!(record.started_at() >= before && record.checkpointed_at() >= record.started_at());
    let deadline = host.next_deadline().expect("a deadline");
    let left = deadline.duration_since(std::time::SystemTime::now()).expect("in the future");
    assert!(left > std::time::Duration::from_secs(50) && left <= std::time::Duration::from_secs(60), "{left:?}");
    assert_eq!(record.status.deadline(), Some(deadline));
    assert_eq!(Status::Exited(3).to_string(), "exited(3)");
}

#[test]
fn a_released_store_is_an_error_not_a_panic_and_a_spawn_needs_a_program() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    let store = host.release_store().expect("the store");
    assert!(matches!(host.store(), Err(chenilles_durable::DurableError::StoreReleased)));
    assert!(matches!(host.status("x"), Err(chenilles_durable::DurableError::StoreReleased)));
    assert!(matches!(
        host.spawn("x").source("x.scm", "1").start(),
        Err(chenilles_durable::DurableError::StoreReleased)
    ));
    host.attach_store(store).unwrap();
    assert!(matches!(host.spawn("x").start(), Err(chenilles_durable::DurableError::NoProgram(_))));
    assert!(host.spawn("x").source("x.scm", "1").start().is_ok());
}

/// A host moves to another thread, and an async runtime drives it on a blocking task, a round
/// at a time, with messages sent between rounds.
#[test]
fn a_host_moves_between_threads_and_an_async_runtime_drives_it() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    let program =
        "(import (scheme base)) (let loop ((sum 0)) (let ((n (receive))) (if (eq? n 'done) sum (loop (+ sum n)))))";
    host.spawn("sum").source("sum.scm", program).start().unwrap();
    let mut host = std::thread::spawn(move || {
        host.run().unwrap();
        host
    })
    .join()
    .expect("the thread ran the host");
    assert_eq!(host.status("sum").unwrap().status.to_string(), "waiting");

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("a runtime");
    let total = runtime.block_on(async move {
        for n in 1..=10 {
            host.send("sum", &Datum::from(n)).unwrap();
            host = tokio::task::spawn_blocking(move || {
                while host.run_round().unwrap().more {}
                host
            })
            .await
            .expect("the blocking task ran");
        }
        host.send("sum", &Datum::symbol("done")).unwrap();
        let (host, ended) = tokio::task::spawn_blocking(move || {
            let ended = host.run().unwrap();
            (host, ended)
        })
        .await
        .expect("the blocking task ran");
        assert_eq!(ended, vec![("sum".to_string(), Status::Finished)]);
        let mut host = host;
        host.result("sum").unwrap().and_then(|d| d.as_i64())
    });
    assert_eq!(total, Some(55));
}

#[test]
fn a_host_cancels_a_waiting_process() {
    let mut host = quiet_host(Box::new(MemoryStore::default()));
    host.spawn("idle").source("idle.scm", "(receive)").start().unwrap();
    host.run().unwrap();
    let cancelled = host.cancel("idle", "no longer needed").unwrap();
    assert_eq!(cancelled.record.status, Status::Cancelled { reason: "no longer needed".into() });
    assert!(host.names().is_empty(), "it left memory");
    assert!(host.run().unwrap().is_empty());
    assert!(matches!(host.resume("idle"), Err(chenilles_durable::DurableError::Ended { .. })));
}
