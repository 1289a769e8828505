//! Encrypted stores through the command line: what a contract writes (its output, its heap, its
//! mailbox, its name, a secret key it generated) never reaches the file, nor its bundles, in
//! clear; a wrong password or none is refused with the file unchanged; a killed process resumes
//! with the password; the password changes, a rotation keeps everything; an ssh-agent key
//! unlocks.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{PASSWORD, QUICK_KDF, init_encrypted, run, text, vm, write_program};

const SECRETS: &str = r#"
(import (scheme base) (scheme write) (chenilles crypto))
(define key (ed25519-generate-key))
;; Printed, so that the test knows what to look for in the file.
(display (bytevector->hex key)) (newline)
(display "counterparty: Zanzibar-Holdings-Ltd") (newline)
;; Only ever in the heap: built at run time, never printed.
(define ledger (list (string-append "heap-only-" "Quokka-" (number->string (* 7 11 13))) 1000042))
(let loop ((i 0) (acc '()))
  (if (< i 200000)
      (loop (+ i 1) (if (= 0 (modulo i 1000)) (cons i acc) acc))
      (begin (display "the ledger holds ") (display (length acc)) (display " entries") (newline))))
(let ((message (receive)))
  (display "received from the mailbox: ") (write message) (newline))
(display (car ledger)) (newline)
"#;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// `chenilles-vm` on `store`, offering nothing that unlocks it.
fn bare(store: &Path) -> Command {
    let mut command = vm(store);
    command.env_remove("CHENILLES_PASSWORD");
    command
}

fn password_file(dir: &Path, password: &str) -> PathBuf {
    let path = dir.join(format!("password-{}", password.len()));
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path
}

#[test]
fn nothing_a_contract_writes_is_in_the_file_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    init_encrypted(&store);
    let program = write_program(dir.path(), "secrets.scm", SECRETS);
    let sent = run(vm(&store).args(["send", "--ahead", "quokka-treasury", r#"(pay "Wombat-Escrow-Services" 777001)"#]));
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let started =
        run(vm(&store).args(["start", "--name", "quokka-treasury", "--checkpoint-every-steps", "20000"]).arg(&program));
    assert!(started.status.success(), "{}", text(&started.stderr));
    let output = text(&run(vm(&store).args(["output", "quokka-treasury"])).stdout);
    assert!(output.contains("received from the mailbox: (pay \"Wombat-Escrow-Services\" 777001)"), "{output}");
    assert!(output.contains("heap-only-Quokka-1001"), "{output}");
    let secret_hex = output.lines().next().unwrap().to_string();
    assert_eq!(secret_hex.len(), 64, "{output}");
    let secret = hex_bytes(&secret_hex);

    let raw = std::fs::read(&store).unwrap();
    let mut needles: Vec<Vec<u8>> = vec![
        secret.clone(),
        secret_hex.clone().into_bytes(),
        blake3::hash(&secret).as_bytes().to_vec(),
        b"Zanzibar-Holdings-Ltd".to_vec(),
        b"heap-only-".to_vec(),
        b"Quokka-1001".to_vec(),
        b"Wombat-Escrow-Services".to_vec(),
        b"quokka-treasury".to_vec(),
        b"the ledger holds".to_vec(),
        b"bytevector->hex".to_vec(),
        blake3::hash(output.as_bytes()).as_bytes().to_vec(),
    ];
    needles.extend(output.lines().map(|line| blake3::hash(line.as_bytes()).as_bytes().to_vec()));
    for needle in &needles {
        assert!(!contains(&raw, needle), "the file holds {:?} in clear", String::from_utf8_lossy(needle));
    }
    // Its bundle is sealed, and holds none of it in clear either.
    let bundle = dir.path().join("quokka.bundle");
    let exported = run(vm(&store).args(["export", "quokka-treasury", "-o"]).arg(&bundle));
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let sealed = std::fs::read(&bundle).unwrap();
    for needle in &needles {
        assert!(!contains(&sealed, needle), "the bundle holds {:?} in clear", String::from_utf8_lossy(needle));
    }
    // The same store, read back with the password: everything is there.
    let ps = text(&run(vm(&store).arg("ps")).stdout);
    assert!(ps.contains("quokka-treasury") && ps.contains("finished"), "{ps}");
    let verify = run(vm(&store).arg("verify"));
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

#[test]
fn a_wrong_password_or_none_is_refused_and_the_file_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    init_encrypted(&store);
    let program = write_program(dir.path(), "p.scm", "(display \"hello\") (newline)");
    assert!(run(vm(&store).args(["start", "--name", "p"]).arg(&program)).status.success());
    let before = std::fs::read(&store).unwrap();
    let wrong = password_file(dir.path(), "not the password");
    for command in [&["ps"][..], &["output", "p"], &["gc"], &["verify"], &["resume", "p"], &["inspect", "p"]] {
        let out = run(bare(&store).args(command).arg("--password-file").arg(&wrong));
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        assert!(
            text(&out.stderr).contains("opens none of the store's key slots"),
            "{command:?}: {}",
            text(&out.stderr)
        );
        let out = run(bare(&store).args(command));
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        assert!(text(&out.stderr).contains("is encrypted; unlock it with"), "{command:?}: {}", text(&out.stderr));
        assert!(std::fs::read(&store).unwrap() == before, "{command:?} changed the file");
    }
    let sent = run(bare(&store).args(["send", "p", "1"]).env("CHENILLES_PASSWORD", "wrong"));
    assert_eq!(sent.status.code(), Some(1));
    assert!(std::fs::read(&store).unwrap() == before);
}

#[test]
fn a_killed_process_resumes_with_the_password_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    init_encrypted(&store);
    let password = password_file(dir.path(), PASSWORD);
    let source = "(let loop ((i 0)) (when (< i 40) (display i) (newline) \
                  (let spin ((k 0)) (when (< k 200000) (spin (+ k 1)))) (loop (+ i 1))))";
    let program = write_program(dir.path(), "count.scm", source);
    let expected: String = (0..40).map(|i| format!("{i}\n")).collect();
    let mut child = bare(&store)
        .args(["start", "--name", "count", "--checkpoint-every", "5", "--password-file"])
        .arg(&password)
        .arg(&program)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !text(&run(vm(&store).args(["output", "count"])).stdout).contains("3\n") {
        assert!(started.elapsed() < Duration::from_secs(30), "the process printed nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let status = common::status_of(&store, "count");
    assert!(matches!(status.as_str(), "running" | "interrupted"), "killed, the process is {status}");
    let resumed = run(bare(&store).args(["resume", "count", "--password-file"]).arg(&password));
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(text(&run(vm(&store).args(["output", "count"])).stdout), expected);
}

#[test]
fn passwd_changes_the_password_and_rotate_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    init_encrypted(&store);
    let program = write_program(dir.path(), "p.scm", "(display \"kept across rotations\") (newline)");
    assert!(run(vm(&store).args(["start", "--name", "p"]).arg(&program)).status.success());
    let new = password_file(dir.path(), "a brand new passphrase");
    let changed = run(vm(&store).args(["store", "passwd", "--new-password-file"]).arg(&new).args(QUICK_KDF));
    assert!(changed.status.success(), "{}", text(&changed.stderr));
    assert_eq!(run(vm(&store).arg("ps")).status.code(), Some(1), "the old password still opens the store");
    let with_new = |command: &[&str]| run(bare(&store).args(command).arg("--password-file").arg(&new));
    assert_eq!(text(&with_new(&["output", "p"]).stdout), "kept across rotations\n");

    let rotated = with_new(&["store", "rotate"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert!(text(&rotated.stderr).contains("rotated the master key"), "{}", text(&rotated.stderr));
    assert_eq!(text(&with_new(&["output", "p"]).stdout), "kept across rotations\n");
    let methods = text(&run(bare(&store).args(["store", "unlock-methods"])).stdout);
    assert!(methods.contains("password (argon2id, 64 KiB, 1 pass, 1 lane)"), "{methods}");
    assert!(with_new(&["verify"]).status.success());
}

#[test]
fn an_ssh_agent_key_unlocks_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh-agent runs (install openssh-client)");
    let started = Instant::now();
    while !socket.exists() {
        assert!(started.elapsed() < Duration::from_secs(10), "ssh-agent made no socket");
        std::thread::sleep(Duration::from_millis(10));
    }
    let key = dir.path().join("id_ed25519");
    let made =
        Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f"]).arg(&key).status();
    assert!(made.unwrap().success());
    let added = Command::new("ssh-add").arg(&key).env("SSH_AUTH_SOCK", &socket).stderr(Stdio::null()).status();
    assert!(added.unwrap().success());

    let store = dir.path().join("store.redb");
    init_encrypted(&store);
    let program = write_program(dir.path(), "p.scm", "(display \"behind the agent\") (newline)");
    assert!(run(vm(&store).args(["start", "--name", "p"]).arg(&program)).status.success());
    let add = run(vm(&store).args(["store", "add-key", "--ssh-agent-key"]).env("SSH_AUTH_SOCK", &socket));
    assert!(add.status.success(), "{}", text(&add.stderr));
    assert!(text(&add.stderr).contains("ssh-agent key SHA256:"), "{}", text(&add.stderr));
    let out = run(bare(&store).args(["output", "p", "--ssh-agent"]).env("SSH_AUTH_SOCK", &socket));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "behind the agent\n");
    let _ = agent.kill();
    let _ = agent.wait();
    // Without the agent, the agent's slot opens nothing; the file is unchanged.
    let before = std::fs::read(&store).unwrap();
    let out = run(bare(&store).args(["output", "p", "--ssh-agent"]).env("SSH_AUTH_SOCK", &socket));
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::read(&store).unwrap() == before);
}

#[test]
fn a_passphrase_protected_ssh_key_unlocks_the_store_at_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "open sesame", "-C", "bob", "-f"])
        .arg(&key)
        .status();
    assert!(made.expect("ssh-keygen runs (install openssh-client)").success());
    let store = dir.path().join("store.redb");
    init_encrypted(&store);
    let program = write_program(dir.path(), "p.scm", "(display \"behind a protected key\") (newline)");
    assert!(run(vm(&store).args(["start", "--name", "p"]).arg(&program)).status.success());
    // Its recipient, from the private key's file: no passphrase needed for that.
    let add = run(vm(&store).args(["store", "add-key", "--recipient-of"]).arg(&key));
    assert!(add.status.success(), "{}", text(&add.stderr));

    // Without a terminal the passphrase cannot be asked: refused, saying why.
    let out = run(bare(&store).args(["output", "p", "--identity"]).arg(&key));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("passphrase-protected ssh key"), "{}", text(&out.stderr));

    let at_terminal = |answers: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chenilles-vm"));
        command.env("CHENILLES_STORE", &store).args(["output", "p", "--identity"]).arg(&key);
        let mut session = rexpect::session::spawn_command(command, Some(20_000)).expect("runs in a pseudo-terminal");
        for answer in answers {
            session.exp_string("Passphrase for the ssh key").expect("asks for the passphrase");
            session.send_line(answer).expect("answers");
        }
        session.exp_eof().expect("ends")
    };
    let all = at_terminal(&["open sesame"]);
    assert!(all.contains("behind a protected key"), "{all:?}");
    let all = at_terminal(&["wrong", "still wrong", "no"]);
    assert!(all.contains("the passphrase does not open the ssh key"), "{all:?}");
}
