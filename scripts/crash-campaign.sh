#!/usr/bin/env bash
# The long crash campaign: every program of tests/durable is started as a durable process, killed
# with SIGKILL at random instants (up to KILLS_PER_RUN times per run), resumed, and checked against
# an uninterrupted run, ROUNDS times over, each round in fresh stores; then the programs crashed at
# chosen disk operations (KILLS_PER_RUN per run, each sequence run twice: outcomes must replay),
# and ROUNDS conversations whose host and senders are frozen with SIGSTOP at random instants.
# Each part prints its seed first (set CHENILLES_CRASH_SEED to replay) and its totals last.
#
#   scripts/crash-campaign.sh [ROUNDS] [KILLS_PER_RUN]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-100}"
kills="${2:-20}"
export CHENILLES_CRASH_ROUNDS="$rounds" CHENILLES_CRASH_KILLS="$kills"
cargo test --release -p chenilles-vm --test crash -- --nocapture --exact \
  killed_programs_end_as_uninterrupted_runs crashes_at_chosen_disk_operations_replay_exactly
cargo test --release -p chenilles-vm --test stopped_processes -- --nocapture
