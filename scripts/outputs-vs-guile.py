#!/usr/bin/env python3
"""Checks where the data-driven suite's expected outputs come from: runs every program of
tests/programs outside chenilles/ (which holds what only Chenilles defines) under Guile 3
(`guile --r7rs`, installed with apt-get when missing) and compares its stdout with NAME.out, byte
for byte. A program whose output differs must be justified by the report (R7RS leaves room:
datum-label numbering, Guile's `#\\nul` where the report names `#\\null`, …) or move to
tests/programs/chenilles/. Programs that must fail (NAME.err, NAME.exit) are not compared: their
messages are Chenilles's own.

    python3 scripts/outputs-vs-guile.py [--no-install]

Prints a summary line, then each program that differs or fails under Guile. Exits 0 (a report,
not a test: the review of each difference is a person's).
"""
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "programs"


def guile():
    found = shutil.which("guile")
    if found or "--no-install" in sys.argv:
        return found
    subprocess.run("(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq guile-3.0",
                   shell=True, check=False)
    return shutil.which("guile")


def main():
    guile_path = guile()
    if not guile_path:
        print("Guile 3 is not installed and cannot be installed here", file=sys.stderr)
        return 1
    same, differ, failed, skipped = [], [], [], []
    for scm in sorted(PROGRAMS.rglob("*.scm")):
        rel = scm.relative_to(PROGRAMS)
        if rel.parts[0] == "chenilles" or "lib" in rel.parts[:-1]:
            continue
        if scm.with_suffix(".err").exists() or scm.with_suffix(".exit").exists():
            skipped.append(rel)
            continue
        expected = scm.with_suffix(".out").read_text()
        scratch = ROOT / "target" / "outputs-vs-guile"
        scratch.mkdir(parents=True, exist_ok=True)
        try:
            run = subprocess.run([guile_path, "--r7rs", "--no-auto-compile", "-L", str(scm.parent / "lib"), "-s", str(scm)],
                                 capture_output=True, text=True, timeout=60, cwd=scratch,
                                 env=dict(os.environ, GUILE_AUTO_COMPILE="0"))
        except subprocess.TimeoutExpired:
            failed.append((rel, "timed out"))
            continue
        if run.returncode != 0:
            last = run.stderr.strip().splitlines()[-1][:120] if run.stderr.strip() else f"exit {run.returncode}"
            failed.append((rel, last))
        elif run.stdout == expected:
            same.append(rel)
        else:
            differ.append(rel)
    print(f"{len(same)} programs print what Guile 3 prints, {len(differ)} differ, {len(failed)} fail under Guile, "
          f"{len(skipped)} are failures not compared")
    for rel in differ:
        print(f"differs: {rel}")
    for rel, why in failed:
        print(f"fails under Guile: {rel}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
