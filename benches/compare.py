#!/usr/bin/env python3
"""Runs the benchmark programs under Chenilles VM and its peers, and prints one table of medians,
peak memory and ratios.

    python3 benches/compare.py [--runs N] [--no-install] [--only NAME,...] [--runners NAME,...]
                               [--baseline PATH/TO/chenilles-vm] [DIR ...]

DIR defaults to ../shared/bench-scm (next to the repository), plus $R7RS_BENCHMARKS if it is set
(a directory of the public r7rs-benchmarks suite's programs, with NAME.out files beside them).
Runners: `chenilles-vm run`, `chenilles-vm start` (durable, default checkpoint interval, a fresh
store each run), Guile 3 (`guile --r7rs`, compiled: one warm-up run compiles it), Chez Scheme
(`scheme --script`, on a copy without the `import` line) and Steel (`steel`). Missing peers are
installed when possible (Debian packages guile-3.0 and chezscheme; the crate steel-interpreter);
those that cannot be are skipped with a note. Every run's output is compared with NAME.out first:
a wrong answer is reported and its time not used. `--baseline BIN` also runs another build of
`chenilles-vm` (say, the commit before a change) as `baseline run` and `baseline start`, and adds
the ratios of this build to it: before and after in one table. Not part of CI; `docs/history.md` keeps its tables, the README its latest ratios.
"""

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def note(text):
    print(f"# {text}", file=sys.stderr, flush=True)


def ensure(command, install):
    """Returns the path of `command`, installing it with `install` (a shell line) if asked."""
    found = shutil.which(command)
    if found or install is None:
        return found
    note(f"installing {command}: {install}")
    subprocess.run(install, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return shutil.which(command)


def measure(argv, cwd=None, env=None, timeout=600):
    """Runs argv; returns (seconds, peak RSS in KiB, stdout) or None if it failed."""
    started = time.perf_counter()
    try:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = process.communicate(timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        note(f"{' '.join(map(str, argv))}: {error}")
        return None
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        note(f"{' '.join(map(str, argv))}: exit {process.returncode}: {err.decode(errors='replace')[:200]}")
        return None
    return elapsed, out.decode(errors="replace")


def timed(argv, **kw):
    """Like measure, with the peak RSS from GNU time when available."""
    gnu_time = "/usr/bin/time"
    if os.path.exists(gnu_time):
        with tempfile.NamedTemporaryFile("r") as report:
            result = measure([gnu_time, "-f", "%M", "-o", report.name, *argv], **kw)
            if result is None:
                return None
            try:
                peak = int(report.read().strip().splitlines()[-1])
            except (ValueError, IndexError):
                peak = 0
            return result[0], peak, result[1]
    result = measure(argv, **kw)
    return None if result is None else (result[0], 0, result[1])


def without_imports(program, directory):
    """A copy of `program` in `directory` without its `import` lines (for peers without R7RS libraries)."""
    directory.mkdir(exist_ok=True)
    copy = directory / program.name
    lines = program.read_text().splitlines()
    copy.write_text("\n".join(line for line in lines if not line.lstrip().startswith("(import")) + "\n")
    return copy


class Runner:
    def __init__(self, name, prepare):
        self.name = name
        self.prepare = prepare  # program path -> (argv, cwd, env) or None


def runners(args, scratch):
    vm = ROOT / "target" / "release" / "chenilles-vm"
    note("building chenilles-vm (release)")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "chenilles-vm"], cwd=ROOT, check=True)
    found = []

    def chenilles_run(program):
        return [str(vm), "run", str(program)], None, None

    counter = [0]

    def chenilles_start(program):
        counter[0] += 1
        env = dict(os.environ, CHENILLES_STORE=str(scratch / f"store-{counter[0]}.redb"))
        return [str(vm), "start", str(program)], None, env

    if not os.path.exists("/usr/bin/time") and not args.no_install:
        ensure("time-for-peaks", "(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time")
    found.append(Runner("chenilles run", chenilles_run))
    found.append(Runner("chenilles start", chenilles_start))
    if args.baseline:
        baseline = str(Path(args.baseline).resolve())

        def baseline_run(program):
            return [baseline, "run", str(program)], None, None

        def baseline_start(program):
            counter[0] += 1
            env = dict(os.environ, CHENILLES_STORE=str(scratch / f"store-{counter[0]}.redb"))
            return [baseline, "start", str(program)], None, env

        found.append(Runner("baseline run", baseline_run))
        found.append(Runner("baseline start", baseline_start))
    install = not args.no_install
    apt = "(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {}"
    guile = ensure("guile", apt.format("guile-3.0") if install else None)
    if guile:
        def guile_run(program):
            return [guile, "--r7rs", "-s", str(program)], None, dict(os.environ, GUILE_AUTO_COMPILE="1")
        found.append(Runner("guile", guile_run))
    else:
        note("skipping Guile: not installed and not installable here")
    chez = ensure("scheme", apt.format("chezscheme") if install else None) or ensure("chezscheme", None)
    if chez:
        def chez_run(program):
            return [chez, "--script", str(without_imports(program, scratch / "chez"))], None, None
        found.append(Runner("chez", chez_run))
    else:
        note("skipping Chez Scheme: not installed and not installable here")
    steel = ensure("steel", "cargo install -q steel-interpreter" if install else None)
    if steel:
        # Steel wants a home directory, and has no R7RS `import`.
        (Path.home() / ".local" / "share" / "steel").mkdir(parents=True, exist_ok=True)

        def steel_run(program):
            side = ROOT / "benches" / "steel" / program.name
            return [steel, str(side if side.exists() else without_imports(program, scratch / "steel"))], None, None
        found.append(Runner("steel", steel_run))
    else:
        note("skipping Steel: `cargo install steel-interpreter` failed or was not asked for")
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--only", default="", help="programs to run, by name, comma-separated")
    parser.add_argument("--runners", default="", help="runners to use (e.g. guile,steel), comma-separated")
    parser.add_argument("--baseline", default="", help="another chenilles-vm binary to compare this build with")
    parser.add_argument("dirs", nargs="*")
    args = parser.parse_args()
    dirs = [Path(d) for d in args.dirs] or [ROOT.parent / "shared" / "bench-scm"]
    if os.environ.get("R7RS_BENCHMARKS"):
        dirs.append(Path(os.environ["R7RS_BENCHMARKS"]))
    programs = sorted(p for d in dirs for p in d.glob("*.scm") if p.with_suffix(".out").exists())
    if args.only:
        wanted = set(args.only.split(","))
        programs = [p for p in programs if p.stem in wanted]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        all_runners = runners(args, scratch)
        if args.runners:
            wanted_runners = set(args.runners.split(","))
            all_runners = [r for r in all_runners if r.name in wanted_runners or r.name.split()[-1] in wanted_runners]
        table = {}  # (program, runner) -> (median seconds, peak KiB) or a note
        for program in programs:
            expected = program.with_suffix(".out").read_text().strip()
            for runner in all_runners:
                argv, cwd, env = runner.prepare(program)
                if runner.name == "guile":
                    timed(argv, cwd=cwd, env=env)  # the first run compiles
                times, peaks, wrong = [], [], None
                for _ in range(args.runs):
                    # Each run prepared afresh: a `start` gets a store of its own every time.
                    argv, cwd, env = runner.prepare(program)
                    result = timed(argv, cwd=cwd, env=env)
                    if result is None:
                        wrong = "failed"
                        break
                    seconds, peak, out = result
                    if out.strip() != expected:
                        wrong = f"wrong output: {out.strip()[:60]!r}"
                        break
                    times.append(seconds)
                    peaks.append(peak)
                table[(program.stem, runner.name)] = wrong or (statistics.median(times), max(peaks))
                note(f"{program.stem} / {runner.name}: {table[(program.stem, runner.name)]}")
        names = [r.name for r in all_runners]
        pairs = [
            ("run/guile", "chenilles run", "guile"),
            ("start/run", "chenilles start", "chenilles run"),
            ("run/steel", "chenilles run", "steel"),
            ("run/chez", "chenilles run", "chez"),
        ]
        if args.baseline:
            pairs += [("run/baseline", "chenilles run", "baseline run"), ("start/baseline", "chenilles start", "baseline start")]
        header = ["program"] + [f"{n} s (MiB)" for n in names] + [key for key, _, _ in pairs]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        ratios = {key: [] for key, _, _ in pairs}

        def ratio(program, a, b, key):
            x, y = table.get((program, a)), table.get((program, b))
            if isinstance(x, tuple) and isinstance(y, tuple) and y[0] > 0:
                ratios[key].append(x[0] / y[0])
                return f"{x[0] / y[0]:.2f}"
            return "-"

        for program in [p.stem for p in programs]:
            cells = [program]
            for name in names:
                cell = table.get((program, name))
                cells.append(f"{cell[0]:.3f} ({cell[1] / 1024:.0f})" if isinstance(cell, tuple) else str(cell))
            cells += [ratio(program, a, b, key) for key, a, b in pairs]
            print("| " + " | ".join(cells) + " |")
        geo = ["**geometric mean**"] + [""] * len(names)
        for key, _, _ in pairs:
            values = ratios[key]
            geo.append(f"**{math.exp(sum(map(math.log, values)) / len(values)):.2f}**" if values else "-")
        print("| " + " | ".join(geo) + " |")
        print(f"\n{args.runs} runs each, medians; peak resident memory in MiB (GNU time).")


if __name__ == "__main__":
    main()
