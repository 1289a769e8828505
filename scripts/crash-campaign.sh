#!/usr/bin/env bash
# The long crash campaign: every program of tests/durable is started as a durable process, killed
# with SIGKILL at random instants (up to KILLS_PER_RUN times per run), resumed, and checked against
# an uninterrupted run, ROUNDS times over, each round in fresh stores. Prints the seed first (set
# CHENILLES_CRASH_SEED to replay) and the total number of kills last.
#
#   scripts/crash-campaign.sh [ROUNDS] [KILLS_PER_RUN]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-100}"
kills="${2:-20}"
CHENILLES_CRASH_ROUNDS="$rounds" CHENILLES_CRASH_KILLS="$kills" \
  cargo test --release -p chenilles-vm --test crash -- --nocapture --exact killed_programs_end_as_uninterrupted_runs
