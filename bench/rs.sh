#!/usr/bin/env bash
# bench/rs.sh - how long a ReplicaSet of REPLICAS pods (default 1000) takes
# to be fully created: from POSTing the ReplicaSet to the moment its
# status.replicas reports them all, with a fresh kapi-apiserver and
# kapi-controller-manager (no scheduler or kubelet: pods stay Pending).
# The end is seen through a watch on the ReplicaSets opened before the
# POST, so the figure has no polling interval in it.
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
command -v python3 >/dev/null || { echo "bench/rs.sh: needs python3" >&2; exit 1; }

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
trap 'exit 130' INT
trap 'exit 143' TERM

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

# The measuring side: a watch on the ReplicaSets opened (from a list's
# resourceVersion) before the POST, so the status update that reports the
# last replica is seen the moment the server sends it, not at the next
# poll; the clock runs from just before the POST.  Prints the seconds.
cat >"$T/measure.py" <<'PY'
import http.client, json, sys, time
from urllib.parse import urlsplit

server, n, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
u = urlsplit(server)
RSS = "/apis/apps/v1/namespaces/default/replicasets"

def conn():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)

c = conn()
c.request("GET", RSS)
r = c.getresponse()
body = r.read()
if r.status != 200:
    sys.exit("GET %s: HTTP %d %s" % (RSS, r.status, body[:300]))
rv = json.loads(body)["metadata"]["resourceVersion"]
w = conn()
w.request("GET", RSS + "?watch=1&resourceVersion=" + rv)
wr = w.getresponse()
if wr.status != 200:
    sys.exit("watch: HTTP %d" % wr.status)

rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
      "metadata": {"name": "bench"},
      "spec": {"replicas": n, "selector": {"matchLabels": {"app": "bench"}},
               "template": {"metadata": {"labels": {"app": "bench"}},
                            "spec": {"containers": [
                                {"name": "c", "image": "busybox",
                                 "command": ["sleep", "3600"]}]}}}}
p = conn()
t0 = time.monotonic()
p.request("POST", RSS, json.dumps(rs), {"Content-Type": "application/json"})
r = p.getresponse()
body = r.read()
if r.status != 201:
    sys.exit("creating the ReplicaSet: HTTP %d %s" % (r.status, body[:300]))

got = 0
deadline = t0 + timeout
for line in wr:
    line = line.strip()
    if not line:
        continue
    ev = json.loads(line)
    if ev.get("type") == "ERROR":
        sys.exit("watch: %s" % ev.get("object"))
    o = ev.get("object", {})
    if o.get("metadata", {}).get("name") != "bench":
        continue
    got = o.get("status", {}).get("replicas") or 0
    if got >= n:
        print("%.3f" % (time.monotonic() - t0))
        sys.exit(0)
    if time.monotonic() > deadline:
        break
sys.exit("timed out after %ss with status.replicas=%d" % (timeout, got))
PY

if ! secs=$(python3 "$T/measure.py" "$SERVER" "$REPLICAS" "$TIMEOUT"); then
  tail -20 "$T/cm.log" >&2
  exit 1
fi

pods=$(curl -fsS "$SERVER/api/v1/namespaces/default/pods?labelSelector=app%3Dbench" |
       python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
events=$(curl -fsS "$SERVER/api/v1/namespaces/default/events" |
       python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
printf 'rs_%s_seconds %s s (qps %s, burst %s; %s pods listed, %s events)\n' \
  "$REPLICAS" "$secs" "$QPS" "$BURST" "$pods" "$events"
