#!/usr/bin/env bash
# Fuzzes everything that reads bytes from outside, with cargo fuzz (libFuzzer), SECONDS per target
# (default 20; CI makes a shorter run, 10). Seeds come from the repository's programs (sources, and
# images compiled from them); fuzz/regressions/TARGET/ holds inputs that once crashed or hung and
# is run first. A crash, a panic or an input slower than 10 s fails the script; the input is left
# in fuzz/artifacts/TARGET/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      targets: read compile run image snapshot store
#
# cargo fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain provide them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(read compile run image snapshot store)

# The seeds are made with the dev build of the whole workspace, as `cargo test --workspace` builds
# it (so after the tests, as in CI, this builds little; nothing is timed here). Before
# RUSTC_BOOTSTRAP is set: a change of it makes cargo rebuild everything.
cargo build --workspace --all-targets --locked
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --version 0.13.2

seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$seeds/source" "$seeds/image"
for program in tests/programs/*/*.scm examples-scm/*.scm; do
  name="$(basename "$(dirname "$program")")-$(basename "$program" .scm)"
  cp "$program" "$seeds/source/$name.scm"
  target/debug/chenilles-scc compile "$program" -o "$seeds/image/$name.chb" >/dev/null 2>&1 || true
done

# A small real store: one process that printed, one that waits with a message in its mailbox.
mkdir -p "$seeds/store"
printf '(display (list 1 2.5 "three"))' >"$seeds/printer.scm"
printf '(display (receive))' >"$seeds/waiter.scm"
target/debug/chenilles-vm start --store "$seeds/store/seed.redb" "$seeds/printer.scm" >/dev/null 2>&1
target/debug/chenilles-vm start --exit-when-waiting --store "$seeds/store/seed.redb" "$seeds/waiter.scm" >/dev/null 2>&1
target/debug/chenilles-vm send --store "$seeds/store/seed.redb" waiter '(hello 42)' >/dev/null 2>&1
rm -f "$seeds/store/"*.holder

(cd fuzz && cargo fuzz build --sanitizer none)
for target in "${targets[@]}"; do
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus"
  case "$target" in
    read | compile | run) cp -n "$seeds/source/"* "$corpus/" ;;
    image) cp -n "$seeds/image/"* "$corpus/" ;;
    store) cp -n "$seeds/store/"* "$corpus/" ;;
  esac
  echo "== fuzz $target for ${seconds}s"
  log="$seeds/$target.log"
  status=0
  (cd fuzz && cargo fuzz run --sanitizer none "$target" "corpus/$target" "regressions/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -close_fd_mask=3 -print_final_stats=1) \
    >"$log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done|SUMMARY|==[0-9]+== ERROR)|panicked|cov: " "$log" |
    grep -vE "^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)" | tail -n 8 || true
  if [ "$status" -ne 0 ] || ls "fuzz/artifacts/$target/"* >/dev/null 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz $target failed (exit $status); inputs: $(ls fuzz/artifacts/$target/ 2>/dev/null)" >&2
    exit 1
  fi
done
