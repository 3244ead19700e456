#!/usr/bin/env bash
# bench/loop.sh - the whole control loop: the time from creating a
# ReplicaSet of N replicas to all its pods Running on hollow nodes.
#
# Each run starts a fresh kapi-apiserver (empty data directory, free
# loopback port), kapi-controller-manager and kapi-scheduler (client QPS
# raised, as bench/rs.sh and kapi-bench-sched allow), and one kapi-kubelet
# with --hollow-nodes 10 --runtime fake; waits for the 10 nodes to be
# Ready; then POSTs the ReplicaSet and, through watches opened before the
# POST, times
#   - the last of its N pods reaching status.phase Running,
#   - the ReplicaSet's status.readyReplicas reaching N.
# Once that is done and the daemons have been idle for IDLE seconds, it
# reads each daemon's VmRSS.  Everything started is stopped (by pid) and
# its directory removed, whatever happens.  Prints, for each N, the median
# over RUNS runs:
#   loop_rs100_running_seconds 1.23 s
#   loop_rs100_ready_seconds 1.25 s
#   rss_apiserver_mb 12.3 MB
#   rss_controller_manager_mb 8.1 MB
#   rss_scheduler_mb 7.9 MB
#   rss_kubelet_10_hollow_mb 9.0 MB
# (the rss lines follow a `# ... after rsN` line saying which runs they
# were read after).
#
# Environment:
#   KAPI_BUILD   build tree (default: <source root>/build)
#   REPLICAS     replica counts, one run set each (default "100 1000")
#   RUNS         fresh clusters per replica count (default 3)
#   NODES        hollow nodes (default 10)
#   QPS, BURST   client QPS/burst of the controller-manager and the
#                scheduler (default 5000, 5000)
#   KUBELET_QPS  the kubelet's --kube-api-qps (default: its own, 50/node)
#   FSYNC        the apiserver's --fsync (default true)
#   IDLE         seconds of idling before reading RSS (default 5)
#   TIMEOUT      seconds before a run gives up (default 300)
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KAPI_BUILD:-$ROOT/build}
REPLICAS=${REPLICAS:-100 1000}
RUNS=${RUNS:-3}
NODES=${NODES:-10}
QPS=${QPS:-5000}
BURST=${BURST:-5000}
KUBELET_QPS=${KUBELET_QPS:-}
FSYNC=${FSYNC:-true}
IDLE=${IDLE:-5}
TIMEOUT=${TIMEOUT:-300}

die() { echo "bench/loop.sh: $*" >&2; exit 1; }

for b in kapi-apiserver kapi-controller-manager kapi-scheduler kapi-kubelet; do
  [ -x "$BUILD/$b" ] || die "$BUILD/$b not built (run make in $BUILD, or set KAPI_BUILD)"
done
case $RUNS in ''|*[!0-9]*|0) die "RUNS must be a positive number" ;; esac
command -v python3 >/dev/null || die "needs python3"

T=$(mktemp -d "${TMPDIR:-/tmp}/kapi-loop.XXXXXX") || die "cannot mktemp"
chmod 755 "$T"
PIDS=()
stop_all() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  PIDS=()
}
cleanup() {
  stop_all
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Plugins in directories only we can write, as the loaders want.
mkdir -p "$T/plugins" "$T/controllers" "$T/sched-plugins" "$T/runtime"
chmod 755 "$T/plugins" "$T/controllers" "$T/sched-plugins" "$T/runtime"
for f in "$BUILD"/authn/*/.libs/*.so "$BUILD"/authz/*/.libs/*.so \
         "$BUILD"/admission/*/.libs/*.so "$BUILD"/registry/*/.libs/*.so; do
  install -m 644 "$f" "$T/plugins/"
done
install -m 644 "$BUILD"/plugins/controllers/*/.libs/*.so "$T/controllers/" ||
  die "the controller plugins are not built"
install -m 644 "$BUILD"/sched-plugins/*/.libs/*.so "$T/sched-plugins/" ||
  die "the scheduler plugins are not built"
install -m 644 "$BUILD"/plugins/runtime/fake/.libs/*.so "$T/runtime/" ||
  die "the fake runtime plugin is not built"

cat >"$T/sched.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {qps: $QPS, burst: $BURST}
leaderElection: {leaderElect: false}
EOF

# The measuring side: watches on the pods and on the ReplicaSet, opened
# (from a list's resourceVersion) before the POST so no transition is
# missed; times from just before the POST.  Prints "RUNNING READY".
cat >"$T/measure.py" <<'PY'
import http.client, json, sys, threading, time
from urllib.parse import urlsplit

server, n, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
u = urlsplit(server)
NS = "/namespaces/default"
PODS = "/api/v1" + NS + "/pods"
RSS = "/apis/apps/v1" + NS + "/replicasets"
SEL = "labelSelector=app%3Dloop"

def conn():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)

def get(path):
    c = conn()
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        sys.exit("GET %s: HTTP %d %s" % (path, r.status, body[:300]))
    return json.loads(body)

def watch(path, rv, on_event):
    c = conn()
    c.request("GET", "%s%swatch=1&resourceVersion=%s&allowWatchBookmarks=false"
              % (path, "&" if "?" in path else "?", rv))
    r = c.getresponse()
    if r.status != 200:
        sys.exit("watch %s: HTTP %d" % (path, r.status))
    return c, r

done = {"running": None, "ready": None}
errors = []
t0 = None
lock = threading.Lock()
cv = threading.Condition(lock)

def pods_loop(resp):
    phases = {}
    try:
        for line in resp:
            line = line.strip()
            if not line:
                continue
            ev = json.loads(line)
            if ev.get("type") == "ERROR":
                errors.append("pods watch: %s" % ev.get("object"))
                return
            o = ev.get("object", {})
            name = o.get("metadata", {}).get("name")
            if ev["type"] == "DELETED":
                phases.pop(name, None)
            else:
                phases[name] = o.get("status", {}).get("phase")
            running = sum(1 for p in phases.values() if p == "Running")
            if running >= n and done["running"] is None:
                with cv:
                    done["running"] = time.monotonic()
                    cv.notify_all()
                return
    except Exception as e:  # a closed socket at the end is fine
        if done["running"] is None:
            errors.append("pods watch: %r" % e)

def rs_loop(resp):
    try:
        for line in resp:
            line = line.strip()
            if not line:
                continue
            ev = json.loads(line)
            if ev.get("type") == "ERROR":
                errors.append("rs watch: %s" % ev.get("object"))
                return
            o = ev.get("object", {})
            if o.get("metadata", {}).get("name") != "loop":
                continue
            if (o.get("status", {}).get("readyReplicas") or 0) >= n:
                with cv:
                    done["ready"] = time.monotonic()
                    cv.notify_all()
                return
    except Exception as e:
        if done["ready"] is None:
            errors.append("rs watch: %r" % e)

prv = get(PODS + "?" + SEL)["metadata"]["resourceVersion"]
rrv = get(RSS)["metadata"]["resourceVersion"]
pc, presp = watch(PODS + "?" + SEL, prv, None)
rc, rresp = watch(RSS, rrv, None)
threads = [threading.Thread(target=pods_loop, args=(presp,), daemon=True),
           threading.Thread(target=rs_loop, args=(rresp,), daemon=True)]
for t in threads:
    t.start()

rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
      "metadata": {"name": "loop"},
      "spec": {"replicas": n, "selector": {"matchLabels": {"app": "loop"}},
               "template": {"metadata": {"labels": {"app": "loop"}},
                            "spec": {"containers": [
                                {"name": "c", "image": "busybox",
                                 "command": ["sleep", "3600"]}]}}}}
c = conn()
t0 = time.monotonic()
c.request("POST", RSS, json.dumps(rs), {"Content-Type": "application/json"})
r = c.getresponse()
body = r.read()
if r.status != 201:
    sys.exit("creating the ReplicaSet: HTTP %d %s" % (r.status, body[:300]))

deadline = t0 + timeout
with cv:
    while (done["running"] is None or done["ready"] is None) and not errors:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        cv.wait(min(left, 1.0))
if errors or done["running"] is None or done["ready"] is None:
    pods = get(PODS + "?" + SEL)["items"]
    st = {}
    for p in pods:
        ph = p.get("status", {}).get("phase")
        st[ph] = st.get(ph, 0) + 1
    rs = get(RSS + "/loop")
    sys.exit("gave up: %s; pods by phase %s; rs status %s"
             % ("; ".join(errors) or "timeout", st, rs.get("status")))

# Cross-check with a fresh list: every pod of the RS is Running.
pods = get(PODS + "?" + SEL)["items"]
running = sum(1 for p in pods if p.get("status", {}).get("phase") == "Running")
if running < n:
    sys.exit("watch said %d Running, the list says %d of %d"
             % (n, running, len(pods)))
print("%.3f %.3f" % (done["running"] - t0, done["ready"] - t0))
PY

# rss_mb PID: the process's VmRSS in MB.
rss_mb() {
  awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

median() { # numbers as arguments
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
    END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR/2] + a[NR/2 + 1]) / 2 }'
}

# one_run N DIR: a fresh cluster, one measurement; sets RUNNING READY and
# the RSS_* figures.
one_run() {
  local n=$1 d=$2 port server i ready apiserver cm sched kubelet out kqps=()
  mkdir -p "$d"
  "$BUILD/kapi-apiserver" --data-dir "$d/data" --insecure-port 0 \
    --no-default-plugins --plugin-dir "$T/plugins" \
    --authorization-mode AlwaysAllow --disable-admission-plugins ServiceAccount \
    --fsync "$FSYNC" 2>"$d/apiserver.log" &
  apiserver=$!
  PIDS+=("$apiserver")
  server=
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$d/apiserver.log" | tail -1)
    if [ -n "$port" ] && curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
      server=http://127.0.0.1:$port
      break
    fi
    kill -0 "$apiserver" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$server" ] || { cat "$d/apiserver.log" >&2; die "apiserver did not start"; }

  "$BUILD/kapi-controller-manager" --master "$server" \
    --plugin-dir "$T/controllers" --leader-elect=false \
    --kube-api-qps "$QPS" --kube-api-burst "$BURST" 2>"$d/controller-manager.log" &
  cm=$!
  PIDS+=("$cm")
  "$BUILD/kapi-scheduler" --master "$server" --no-default-plugins \
    --plugin-dir "$T/sched-plugins" --config "$T/sched.yaml" \
    --leader-elect=false 2>"$d/scheduler.log" &
  sched=$!
  PIDS+=("$sched")
  [ -n "$KUBELET_QPS" ] && kqps=(--kube-api-qps "$KUBELET_QPS")
  "$BUILD/kapi-kubelet" --master "$server" --hollow-nodes "$NODES" \
    --hostname-override hollow --runtime fake --plugin-dir "$T/runtime" \
    --root-dir "$d/kubelet" "${kqps[@]}" 2>"$d/kubelet.log" &
  kubelet=$!
  PIDS+=("$kubelet")

  # All NODES nodes Ready, and the controllers started.
  for i in $(seq 1 300); do
    ready=$(curl -fsS "$server/api/v1/nodes" 2>/dev/null | python3 -c '
import json, sys
items = json.load(sys.stdin).get("items", [])
print(sum(1 for o in items for c in o.get("status", {}).get("conditions", [])
          if c.get("type") == "Ready" and c.get("status") == "True"))' 2>/dev/null)
    [ "${ready:-0}" -ge "$NODES" ] && grep -q "Started .* controllers" "$d/controller-manager.log" && break
    sleep 0.1
  done
  if [ "${ready:-0}" -lt "$NODES" ]; then
    tail -20 "$d/kubelet.log" >&2
    die "only ${ready:-0} of $NODES hollow nodes became Ready"
  fi
  grep -q "Started .* controllers" "$d/controller-manager.log" ||
    { tail -20 "$d/controller-manager.log" >&2; die "the controller-manager did not start"; }

  if ! out=$(python3 "$T/measure.py" "$server" "$n" "$TIMEOUT"); then
    for f in "$d"/*.log; do echo "==> $f" >&2; tail -15 "$f" >&2; done
    die "run with $n replicas failed"
  fi
  RUNNING=${out% *}
  READY=${out#* }

  sleep "$IDLE"
  RSS_APISERVER=$(rss_mb "$apiserver")
  RSS_CM=$(rss_mb "$cm")
  RSS_SCHED=$(rss_mb "$sched")
  RSS_KUBELET=$(rss_mb "$kubelet")
  for p in "$apiserver" "$cm" "$sched" "$kubelet"; do
    kill -0 "$p" 2>/dev/null || die "a daemon (pid $p) died during the run"
  done
  stop_all
  rm -rf "$d"
}

echo "# bench/loop.sh: $NODES hollow nodes, $RUNS runs per size, qps/burst $QPS/$BURST, fsync $FSYNC"
for n in $REPLICAS; do
  case $n in ''|*[!0-9]*|0) die "REPLICAS must list positive numbers" ;; esac
  run_v=() ready_v=() ra=() rc=() rs=() rk=()
  for r in $(seq 1 "$RUNS"); do
    one_run "$n" "$T/run-$n-$r"
    echo "# rs$n run $r: running ${RUNNING}s ready ${READY}s;" \
         "rss MB apiserver $RSS_APISERVER cm $RSS_CM scheduler $RSS_SCHED kubelet $RSS_KUBELET"
    run_v+=("$RUNNING"); ready_v+=("$READY")
    ra+=("$RSS_APISERVER"); rc+=("$RSS_CM"); rs+=("$RSS_SCHED"); rk+=("$RSS_KUBELET")
  done
  printf 'loop_rs%s_running_seconds %s s\n' "$n" "$(median "${run_v[@]}")"
  printf 'loop_rs%s_ready_seconds %s s\n' "$n" "$(median "${ready_v[@]}")"
  echo "# idle RSS ${IDLE}s after rs$n (median of $RUNS)"
  printf 'rss_apiserver_mb %s MB\n' "$(median "${ra[@]}")"
  printf 'rss_controller_manager_mb %s MB\n' "$(median "${rc[@]}")"
  printf 'rss_scheduler_mb %s MB\n' "$(median "${rs[@]}")"
  printf 'rss_kubelet_%s_hollow_mb %s MB\n' "$NODES" "$(median "${rk[@]}")"
done
