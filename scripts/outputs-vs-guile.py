#!/usr/bin/env python3
"""Checks where the data-driven suite's expected outputs come from: every program of
tests/programs outside chenilles/ (which holds what only Chenilles defines) runs under Guile 3
(`guile --r7rs`, installed with apt-get when missing) and its stdout must equal NAME.out, or the
program must be listed, with the part of R7RS-small that decides, in the table "Where Guile 3 is
not the reference" of tests/programs/README.md.

Before comparing, Guile's own spellings of data that the report spells otherwise are translated
(`#vu8(` to `#u8(`, `#\\nul` to `#\\null`, `#\\esc` to `#\\escape`, `#{a b}#` to `|a b|`), and
datum labels are renumbered in order of appearance on each line in both outputs (the report
leaves their numbers open). Programs that must fail (NAME.err, NAME.exit) are not compared: their
messages are Chenilles's own.

    python3 scripts/outputs-vs-guile.py [--no-install]

Exits 1 when a program differs (or fails under Guile) without being listed, or is listed but
now prints what Guile prints (the entry is stale): both mean the table no longer tells the truth.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "programs"
TABLE_TITLE = "## Where Guile 3 is not the reference"

# Guile's spelling -> the report's (R7RS-small 6.6 character names, 6.9 bytevectors, 2.1 identifiers).
GUILE_SPELLINGS = [
    (re.compile(r"#vu8\("), "#u8("),
    (re.compile(r"#\\nul\b"), r"#\\null"),
    (re.compile(r"#\\esc\b"), r"#\\escape"),
    (re.compile(r"#\{(.*?)\}#"), lambda m: "|" + m.group(1).replace("|", "\\|") + "|"),
]
DATUM_LABEL = re.compile(r"#(\d+)([=#])")


def renumber_labels(text):
    """Each line's datum labels renamed 0, 1, … in the order they are defined."""
    lines = []
    for line in text.split("\n"):
        names = {}

        def rename(m):
            number, mark = m.group(1), m.group(2)
            if mark == "=" and number not in names:
                names[number] = str(len(names))
            return "#" + names.get(number, number) + mark

        lines.append(DATUM_LABEL.sub(rename, line))
    return "\n".join(lines)


def in_report_spelling(guile_stdout):
    for pattern, replacement in GUILE_SPELLINGS:
        guile_stdout = pattern.sub(replacement, guile_stdout)
    return renumber_labels(guile_stdout)


def listed_differences():
    """The programs named in the README's table: {relative path: why}."""
    readme = (PROGRAMS / "README.md").read_text()
    if TABLE_TITLE not in readme:
        raise SystemExit(f"tests/programs/README.md has no section '{TABLE_TITLE}'")
    section = readme.split(TABLE_TITLE, 1)[1].split("\n## ", 1)[0]
    listed = {}
    for row in section.splitlines():
        m = re.match(r"\|\s*`([^`]+\.scm)`\s*\|(.*)\|\s*$", row)
        if m:
            listed[m.group(1)] = m.group(2).strip()
    return listed


def guile():
    found = shutil.which("guile")
    if found or "--no-install" in sys.argv:
        return found
    subprocess.run("(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq guile-3.0",
                   shell=True, check=False, stdout=subprocess.DEVNULL)
    return shutil.which("guile")


def run_under_guile(guile_path, scm, scratch):
    """Guile's stdout, or (None, why it failed)."""
    try:
        run = subprocess.run([guile_path, "--r7rs", "--no-auto-compile", "-L", str(scm.parent / "lib"), "-s", str(scm)],
                             capture_output=True, text=True, timeout=120, cwd=scratch,
                             env=dict(os.environ, GUILE_AUTO_COMPILE="0"))
    except subprocess.TimeoutExpired:
        return None, "timed out"
    if run.returncode != 0:
        last = run.stderr.strip().splitlines()[-1][:120] if run.stderr.strip() else f"exit {run.returncode}"
        return None, last
    return run.stdout, None


def main():
    guile_path = guile()
    if not guile_path:
        print("Guile 3 is not installed and cannot be installed here", file=sys.stderr)
        return 1
    listed = listed_differences()
    scratch = ROOT / "target" / "outputs-vs-guile"
    same, differ, failed, skipped = [], [], [], []
    for scm in sorted(PROGRAMS.rglob("*.scm")):
        rel = scm.relative_to(PROGRAMS)
        if rel.parts[0] == "chenilles" or "lib" in rel.parts[:-1]:
            continue
        if scm.with_suffix(".err").exists() or scm.with_suffix(".exit").exists():
            skipped.append(rel)
            continue
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        stdout, why = run_under_guile(guile_path, scm, scratch)
        if stdout is None:
            failed.append((rel.as_posix(), why))
        elif in_report_spelling(stdout) == renumber_labels(scm.with_suffix(".out").read_text()):
            same.append(rel.as_posix())
        else:
            differ.append(rel.as_posix())
    shutil.rmtree(scratch, ignore_errors=True)

    print(f"{len(same)} programs print what Guile 3 prints, {len(differ)} differ and {len(failed)} fail under "
          f"Guile (each listed with its reason: {len(listed)}), {len(skipped)} must fail and are not compared")
    problems = 0
    for rel in differ:
        if rel not in listed:
            print(f"differs from Guile and is not listed in tests/programs/README.md: {rel}")
            problems += 1
    for rel, why in failed:
        if rel not in listed:
            print(f"fails under Guile ({why}) and is not listed in tests/programs/README.md: {rel}")
            problems += 1
    for rel in sorted(listed):
        if rel in same:
            print(f"listed in tests/programs/README.md but prints what Guile prints (remove the entry): {rel}")
            problems += 1
        elif rel not in differ and rel not in dict(failed):
            print(f"listed in tests/programs/README.md but not a compared program: {rel}")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
