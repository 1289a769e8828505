//! The data-driven suite: every `tests/programs/**/NAME.scm` is run with `chenilles-vm run`, and its
//! stdout must equal `NAME.out` byte for byte. When `NAME.err` exists, the run must fail and each of its
//! non-empty lines must appear in stderr; when `NAME.exit` exists, the exit code must equal it.
//! `NAME.grant` lists the capabilities the program is granted (`--grant`), nothing else is.
//! Libraries in a `lib/` folder beside a program are on its library path.
//!
//! Each program runs twice: `run/NAME` in memory, and `durable/NAME` as a durable process started
//! with `--checkpoint-every-steps N --reload-each-checkpoint`, N a sixteenth of the steps the
//! program takes (learned from a first durable run), so that at some sixteen points of its
//! computation, whatever the machine's speed, comes a checkpoint, the process is thrown away and
//! restored from the store, and the restored state must serialize to the same root. Both must
//! print exactly the expected output, and the durable run of a program that computes (at least
//! [`COMPUTES`] steps) must have made at least [`MIN_CHECKPOINTS`] checkpoints; each durable run
//! prints how many it made. A program that does not compile makes no process. `encrypted/NAME`
//! is the durable run on an encrypted store, whose raw file must then hold none of the lines the
//! program printed.
//! See `tests/programs/README.md`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};

mod common;

const TIMEOUT: Duration = Duration::from_secs(120);
/// The fewest checkpoints the durable run of a program that computes must make.
const MIN_CHECKPOINTS: u64 = 5;
/// A program that takes this many steps computes (fewer: it mostly loads and prints, and the
/// steps charged for loading its images come in one piece).
const COMPUTES: u64 = 1000;
/// How many points of its run a durable program is restored at, about.
const RESTORES: u64 = 16;

fn main() {
    let arguments = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs");
    let programs = common::scheme_programs(&root);
    let trials = programs
        .into_iter()
        .flat_map(|path| {
            let name = path.strip_prefix(&root).unwrap_or(&path).with_extension("").display().to_string();
            let (durable_path, encrypted_path) = (path.clone(), path.clone());
            [
                Trial::test(format!("run/{name}"), move || check(&path, Mode::Run)),
                Trial::test(format!("durable/{name}"), move || check(&durable_path, Mode::Durable)),
                Trial::test(format!("encrypted/{name}"), move || check(&encrypted_path, Mode::Encrypted)),
            ]
        })
        .collect();
    libtest_mimic::run(&arguments, trials).exit();
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Durable,
    /// As `Durable`, on an encrypted store; and no line the program prints is in the file.
    Encrypted,
}

fn check(program: &Path, mode: Mode) -> Result<(), Failed> {
    let expected_out = std::fs::read_to_string(program.with_extension("out"))
        .map_err(|e| format!("{}: no expected output: {e}", program.display()))?;
    let expected_err = std::fs::read_to_string(program.with_extension("err")).ok();
    let expected_exit = std::fs::read_to_string(program.with_extension("exit"))
        .ok()
        .map(|text| text.trim().parse::<i32>().map_err(|e| format!("bad .exit file: {e}")))
        .transpose()?;

    let scratch = tempfile::tempdir()?;
    let output = match mode {
        Mode::Run => run_program(program, scratch.path(), &["run"])?,
        Mode::Durable | Mode::Encrypted => {
            // A first durable run says how many steps the program takes.
            let first = scratch.path().join("first.redb");
            run_program(program, scratch.path(), &["start", "--name", "p", "--store", &first.display().to_string()])?;
            let steps = if first.exists() { checkpoints_and_steps(&first)?.1 } else { 0 };
            let every = (steps / RESTORES).max(1).to_string();
            let store = scratch.path().join("store.redb");
            let store_arg = store.display().to_string();
            if mode == Mode::Encrypted {
                common::init_encrypted(&store);
            }
            let output = run_program(
                program,
                scratch.path(),
                &[
                    "start",
                    "--name",
                    "p",
                    "--store",
                    &store_arg,
                    "--checkpoint-every-steps",
                    &every,
                    "--reload-each-checkpoint",
                ],
            )?;
            // A program that does not compile makes no process (nor, when plain, a store).
            if store.exists() && first.exists() {
                let (checkpoints, steps) = checkpoints_and_steps(&store)?;
                let name = program.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let kind = if mode == Mode::Encrypted { "encrypted" } else { "durable" };
                eprintln!("{kind} {name}: {checkpoints} checkpoints in {steps} steps (one every {every})");
                if steps >= COMPUTES && checkpoints < MIN_CHECKPOINTS {
                    return Err(format!(
                        "the durable run made {checkpoints} checkpoints in {steps} steps (one every {every}); \
                         at least {MIN_CHECKPOINTS} were wanted"
                    )
                    .into());
                }
            }
            if mode == Mode::Encrypted {
                refuse_plaintext(&store, &output.stdout)?;
            }
            output
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();

    if stdout != expected_out {
        return Err(format!(
            "stdout differs\n--- expected\n{expected_out}\n--- actual\n{stdout}\n--- stderr\n{stderr}"
        )
        .into());
    }
    match (&expected_err, expected_exit) {
        (Some(expected), _) => {
            if code == Some(0) {
                return Err(format!("expected a failure, but the run succeeded\nstderr:\n{stderr}").into());
            }
            for line in expected.lines().filter(|l| !l.trim().is_empty()) {
                if !stderr.contains(line) {
                    return Err(format!("stderr lacks {line:?}\nstderr:\n{stderr}").into());
                }
            }
        }
        (None, None) if code != Some(0) => {
            return Err(format!("exited with {code:?}\nstderr:\n{stderr}").into());
        }
        _ => {}
    }
    if let Some(expected) = expected_exit
        && code != Some(expected)
    {
        return Err(format!("exit code {code:?}, expected {expected}\nstderr:\n{stderr}").into());
    }
    Ok(())
}

/// Runs `chenilles-vm ARGS… PROGRAM` in directory `cwd` (a scratch directory of the test's own:
/// files a program makes by relative names go there) with the program's grants and library
/// folder, within [`TIMEOUT`].
fn run_program(program: &Path, cwd: &Path, args: &[&str]) -> Result<std::process::Output, Failed> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chenilles-vm"));
    // Opens the encrypted stores of `Mode::Encrypted`; changes nothing for plain ones.
    command.current_dir(cwd).env("CHENILLES_PASSWORD", common::PASSWORD).args(args);
    if let Ok(grants) = std::fs::read_to_string(program.with_extension("grant")) {
        for grant in grants.split_whitespace() {
            command.arg("--grant").arg(grant);
        }
    }
    // Libraries a program imports may live in a `lib/` folder beside it.
    if let Some(lib) = program.parent().map(|dir| dir.join("lib")).filter(|lib| lib.is_dir()) {
        command.arg("-L").arg(lib);
    }
    let mut child = command
        .arg(program)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start chenilles-vm: {e}"))?;
    let started = Instant::now();
    while child.try_wait()?.is_none() {
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            return Err(format!("timed out after {TIMEOUT:?}").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(child.wait_with_output()?)
}

/// Fails if a line of `printed` (one long enough not to turn up by chance) is in the raw bytes of
/// the encrypted store at `store`: its output journal, heap and names must all be sealed.
fn refuse_plaintext(store: &Path, printed: &[u8]) -> Result<(), Failed> {
    let raw = std::fs::read(store).map_err(|e| format!("cannot read {}: {e}", store.display()))?;
    for line in printed.split(|&b| b == b'\n').filter(|line| line.len() >= 10) {
        if raw.windows(line.len()).any(|window| window == line) {
            return Err(format!(
                "the encrypted store holds the printed line {:?} in clear",
                String::from_utf8_lossy(line)
            )
            .into());
        }
    }
    Ok(())
}

/// The checkpoints and steps that `inspect` reports for process `p` of `store`.
fn checkpoints_and_steps(store: &Path) -> Result<(u64, u64), Failed> {
    let out = Command::new(env!("CARGO_BIN_EXE_chenilles-vm"))
        .env("CHENILLES_PASSWORD", common::PASSWORD)
        .args(["inspect", "p", "--store"])
        .arg(store)
        .output()
        .map_err(|e| format!("cannot run inspect: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> Result<u64, Failed> {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("inspect shows no {name}\n{text}{}", String::from_utf8_lossy(&out.stderr)).into())
    };
    Ok((field("checkpoints:")?, field("steps:")?))
}
