#!/usr/bin/env python3
"""Throws mutated images and garbage sources at the release binaries and reports any run that
panics (exit 101), dies by a signal, or outlives its limits.

    python3 scripts/hostile-inputs.py [COUNT] [SEED]

Seeds: every program of tests/programs and examples-scm, and the images compiled from them.
Each mutant runs under `chenilles-vm run --max-steps 1000000 --max-heap 64M --max-depth 10000`
(images and sources) and `chenilles-scc check` (sources), with a 20 s timeout. Not part of CI
(the fuzz targets are); this checks the binaries themselves, as a user would meet them.
"""
import glob, os, random, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VM = os.path.join(ROOT, "target/release/chenilles-vm")
SCC = os.path.join(ROOT, "target/release/chenilles-scc")
LIMITS = ["--max-steps", "1000000", "--max-heap", "64M", "--max-depth", "10000"]
TIMEOUT = 20


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4, 16])):
        op = rng.randrange(6)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and data:
            data[min(at, len(data) - 1)] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        elif op == 2:
            del data[at : at + rng.randrange(1, 64)]
        elif op == 3:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
        elif op == 4 and len(data) > 8:
            start = rng.randrange(len(data) - 4)
            chunk = data[start : start + rng.randrange(1, 256)]
            data[at:at] = chunk * rng.randrange(1, 64)
        elif op == 5:
            del data[at:]
    return bytes(data)


def check(args, what):
    try:
        out = subprocess.run(args, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"hung past {TIMEOUT}s: {what}"
    code = out.returncode
    if code < 0:
        return f"killed by signal {-code}: {what}"
    if code == 101 or b"panicked at" in out.stderr:
        return f"panicked: {what}: {out.stderr[-400:].decode(errors='replace')}"
    return None


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else random.randrange(1 << 32)
    print(f"seed {seed}, {count} mutants of each kind")
    rng = random.Random(seed)
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="hostile-")
    sources = sorted(glob.glob(os.path.join(ROOT, "tests/programs/*/*.scm")) + glob.glob(os.path.join(ROOT, "examples-scm/*.scm")))
    images = []
    for i, source in enumerate(sources):
        image = os.path.join(work, f"seed{i}.chb")
        if subprocess.run([SCC, "compile", source, "-o", image], capture_output=True).returncode == 0:
            images.append(image)
    failures = []
    for n in range(count):
        image = open(rng.choice(images), "rb").read()
        path = os.path.join(work, f"mutant{n}.chb")
        open(path, "wb").write(mutate(image, rng))
        failure = check([VM, "run", *LIMITS, path], f"image {path}")
        source = open(rng.choice(sources), "rb").read()
        spath = os.path.join(work, f"mutant{n}.scm")
        open(spath, "wb").write(mutate(source, rng))
        failure = failure or check([VM, "run", *LIMITS, spath], f"source {spath}")
        failure = failure or check([SCC, "check", spath], f"check {spath}")
        if failure:
            failures.append(failure)
            print(failure)
        else:
            for p in (path, spath):
                os.remove(p)
    print(f"{count * 3} runs, {len(failures)} failures (mutants kept in {work})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
