#!/usr/bin/env bash
# bench/rs.sh - how long a ReplicaSet of REPLICAS pods (default 1000) takes
# to be fully created: from POSTing the ReplicaSet to the moment its
# status.replicas reports them all, with a fresh kapi-apiserver and
# kapi-controller-manager (no scheduler or kubelet: pods stay Pending).
#
# Prints `rs_<REPLICAS>_seconds X` (plus the pods counted and the server's
# event count), then stops what it started, whatever happens.
#
# Environment:
#   KAPI_BUILD  build tree (default: <source root>/build)
#   REPLICAS    pods (default 1000)
#   QPS, BURST  the controller-manager's --kube-api-qps/--kube-api-burst
#               (default: upstream's 20 and 30)
#   FSYNC       the server's --fsync (default true)
#   TIMEOUT     seconds before giving up (default 600)
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KAPI_BUILD:-$ROOT/build}
REPLICAS=${REPLICAS:-1000}
QPS=${QPS:-20}
BURST=${BURST:-30}
FSYNC=${FSYNC:-true}
TIMEOUT=${TIMEOUT:-600}

for b in kapi-apiserver kapi-controller-manager; do
  [ -x "$BUILD/$b" ] || { echo "bench/rs.sh: $BUILD/$b not built" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/kapi-rs-bench.XXXXXX")
chmod 755 "$T"
PIDS=
cleanup() {
  local p
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  for p in $PIDS; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/plugins" "$T/controllers"
chmod 755 "$T/plugins" "$T/controllers"
for f in "$BUILD"/authn/*/.libs/*.so "$BUILD"/authz/*/.libs/*.so \
         "$BUILD"/admission/*/.libs/*.so "$BUILD"/registry/*/.libs/*.so; do
  install -m 644 "$f" "$T/plugins/"
done
install -m 644 "$BUILD"/plugins/controllers/*/.libs/*.so "$T/controllers/"

"$BUILD/kapi-apiserver" --data-dir "$T/data" --insecure-port 0 \
  --no-default-plugins --plugin-dir "$T/plugins" \
  --authorization-mode AlwaysAllow --disable-admission-plugins ServiceAccount \
  --fsync "$FSYNC" 2>"$T/apiserver.log" &
PIDS="$PIDS $!"
SERVER=
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*serving on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$T/apiserver.log" | tail -1)
  if [ -n "$port" ] && curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    SERVER=http://127.0.0.1:$port
    break
  fi
  sleep 0.05
done
[ -n "$SERVER" ] || { echo "apiserver did not start" >&2; cat "$T/apiserver.log" >&2; exit 1; }

"$BUILD/kapi-controller-manager" --master "$SERVER" \
  --plugin-dir "$T/controllers" --leader-elect=false \
  --kube-api-qps "$QPS" --kube-api-burst "$BURST" 2>"$T/cm.log" &
PIDS="$PIDS $!"
for _ in $(seq 1 200); do
  grep -q "Started .* controllers" "$T/cm.log" && break
  sleep 0.05
done

rs='{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"bench"},
"spec":{"replicas":'"$REPLICAS"',"selector":{"matchLabels":{"app":"bench"}},
"template":{"metadata":{"labels":{"app":"bench"}},"spec":{"containers":[
{"name":"c","image":"busybox","command":["sleep","3600"]}]}}}}'

t0=$(date +%s.%N)
code=$(curl -sS -o "$T/created" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary "$rs" "$SERVER/apis/apps/v1/namespaces/default/replicasets")
[ "$code" = 201 ] || { echo "creating the ReplicaSet: HTTP $code" >&2; cat "$T/created" >&2; exit 1; }

deadline=$(( $(date +%s) + TIMEOUT ))
got=0
while :; do
  got=$(curl -fsS "$SERVER/apis/apps/v1/namespaces/default/replicasets/bench" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",{}).get("replicas",0))')
  [ "$got" -ge "$REPLICAS" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "timed out after ${TIMEOUT}s with status.replicas=$got" >&2
    tail -20 "$T/cm.log" >&2
    exit 1
  fi
  sleep 0.05
done
t1=$(date +%s.%N)

pods=$(curl -fsS "$SERVER/api/v1/namespaces/default/pods?labelSelector=app%3Dbench" |
       python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
events=$(curl -fsS "$SERVER/api/v1/namespaces/default/events" |
       python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
printf 'rs_%s_seconds %.2f s (qps %s, burst %s; %s pods listed, %s events)\n' \
  "$REPLICAS" "$(python3 -c "print($t1 - $t0)")" "$QPS" "$BURST" "$pods" "$events"
