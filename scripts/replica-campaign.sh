#!/usr/bin/env bash
# The replica kill campaign: vm/tests/replicas.rs's kill test (a process SIGKILLed at random
# instants while it replicates to a directory, SeaweedFS and a CAR archive; the S3 server killed
# and restarted; every replica restored after every kill; the store lost, the replicas damaged,
# restored from the three and resumed to exactly the uninterrupted output), and its freeze test
# (the S3 server and the VM SIGSTOPped), ROUNDS times each with fresh seeds.
#   scripts/replica-campaign.sh [ROUNDS]        (default 10)
# Every seed is printed; CHENILLES_REPLICA_SEED=N replays one. CI runs each test once.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
cargo test -p chenilles-vm --test replicas --no-run --locked >/dev/null 2>&1
failed=0
for round in $(seq 1 "$rounds"); do
  seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
  if CHENILLES_REPLICA_SEED=$seed cargo test -q -p chenilles-vm --test replicas --locked \
      -- a_process_killed a_frozen_s3_server >/tmp/replica-campaign.$$.log 2>&1; then
    echo "round $round: seed $seed: ok"
  else
    failed=$((failed + 1))
    echo "round $round: seed $seed: FAILED"
    grep -E "panicked|assert" /tmp/replica-campaign.$$.log | head -5
  fi
done
rm -f /tmp/replica-campaign.$$.log
echo "$((rounds - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
