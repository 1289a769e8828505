#!/usr/bin/env bash
# Runs a conversation between parties on different nodes, each `chenilles-vm serve` over its own
# store, on loopback:
#
#   examples-scm/parties.sh channel   # the payment channel: alice and bob (channel/*.scm)
#   examples-scm/parties.sh escrow    # the escrow: alice buys, bob sells, carol holds (escrow/*.scm)
#
# The stores are .chenilles/parties/EXAMPLE/NAME.redb (made afresh); each node listens on
# 127.0.0.1 (ports from 47100). Kill any node while it runs (kill -9 PID: the PIDs are printed)
# and start it again with the command printed beside it: the conversation goes on, each message
# received once. When every process has finished, prints each party's output and stops the nodes.
# CHENILLES_VM names the binary (default: target/release/chenilles-vm, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
example=${1:-channel}
vm=${CHENILLES_VM:-target/release/chenilles-vm}
[[ -n ${CHENILLES_VM:-} || -x $vm ]] || cargo build --release -q -p chenilles-vm
# Each party: its name, its process, its program, the peers it knows.
case $example in
  channel) parties=("alice alice channel/alice.scm bob" "bob bob channel/bob.scm alice") ;;
  escrow) parties=("alice buyer escrow/buyer.scm carol" "bob seller escrow/seller.scm carol"
                   "carol escrow escrow/escrow.scm alice,bob") ;;
  *) echo "usage: $0 channel|escrow" >&2; exit 2 ;;
esac
dir=.chenilles/parties/$example
rm -rf "$dir"; mkdir -p "$dir"
declare -A port id
next=47100
for party in "${parties[@]}"; do
  read -r name _ <<<"$party"
  port[$name]=$next; next=$((next + 1))
  id[$name]=$("$vm" node id --store "$dir/$name.redb")
done
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for party in "${parties[@]}"; do
  read -r name process program knows <<<"$party"
  store=$dir/$name.redb grants=()
  for peer in ${knows//,/ }; do
    "$vm" peer add --store "$store" "$peer" "/ip4/127.0.0.1/tcp/${port[$peer]}/p2p/${id[$peer]}" 2>/dev/null
    grants+=(--grant "peer:$peer")
  done
  "$vm" start --store "$store" --exit-when-waiting --name "$process" "${grants[@]}" "examples-scm/$program" \
    >/dev/null 2>&1
done
for party in "${parties[@]}"; do
  read -r name _ <<<"$party"
  serve=("$vm" serve --store "$dir/$name.redb" --listen "/ip4/127.0.0.1/tcp/${port[$name]}")
  "${serve[@]}" >/dev/null 2>>"$dir/$name.log" &
  pids+=($!)
  echo "$name's node: pid $!, log $dir/$name.log; to restart it: ${serve[*]}"
done
for party in "${parties[@]}"; do
  read -r name process _ <<<"$party"
  until "$vm" ps --store "$dir/$name.redb" | grep -Eq "^$process +(finished|failed|exited)"; do sleep 0.2; done
done
for party in "${parties[@]}"; do
  read -r name process _ <<<"$party"
  echo "== $name ($process):"
  "$vm" output --store "$dir/$name.redb" "$process"
done
