#!/usr/bin/env bash
# The fault-injection campaign: every small durable program of vm/tests/faults.rs is run on a
# simulated disk that crashes (or tears a write, or fails an operation) at each of its disk
# operations in turn, ROUNDS times with different seeds for what the crashed disk keeps; each
# recovered run must end as the clean run did. Prints the seed first (CHENILLES_FAULT_SEED replays).
#
#   scripts/fault-campaign.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-1}"
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds"
  CHENILLES_FAULT_STRIDE=1 cargo test --release -p chenilles-vm --test faults -- --nocapture
done
