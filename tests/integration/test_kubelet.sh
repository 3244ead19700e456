#!/usr/bin/env bash
# kapi-kubelet against a real kapi-apiserver, driven with the real kubectl:
#   - the process runtime: the Node registers and is Ready, a pod bound to it
#     runs (a real process, its output in the container log), a crashing pod
#     shows a growing restartCount and CrashLoopBackOff, kubectl delete stops
#     the process and the pod goes away, the node Lease is renewed, events;
#   - --hollow-nodes 50: fifty Ready nodes, and a pod on one of them runs.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

KUBELET=$KAPI_BUILDDIR/kapi-kubelet
[ -x "$KUBELET" ] || { echo "skipped: $KUBELET not built"; exit 77; }

# The runtime plugins, in a directory only we can write.
RUNTIMES=$T/runtime
mkdir -p "$RUNTIMES"
chmod 755 "$RUNTIMES"
for f in "$KAPI_BUILDDIR"/plugins/runtime/*/.libs/*.so; do
  install -m 644 "$f" "$RUNTIMES/"
done

KUBELET_PIDS=()
start_kubelet() { # LOG ARGS...
  local log=$1; shift
  "$KUBELET" --master "$SERVER" --plugin-dir "$RUNTIMES" "$@" 2>>"$log" &
  KUBELET_PIDS+=($!)
}

stop_kubelets() {
  local p
  for p in "${KUBELET_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${KUBELET_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  KUBELET_PIDS=()
}
trap 'stop_kubelets; cleanup' EXIT

# wait_for NAME SECONDS CMD...: polls until CMD succeeds.
wait_for() {
  local name=$1 secs=$2 i; shift 2
  for i in $(seq 1 $((secs * 5))); do
    if "$@" >"$T/out" 2>&1; then ok "$name"; return 0; fi
    sleep 0.2
  done
  not_ok "$name (timed out after ${secs}s)"; sed 's/^/    /' "$T/out"
  return 1
}

jp() { k get "$@" 2>/dev/null; }
# kubectl apply of a manifest on stdin (k reads /dev/null).
kapply() { "$KUBECTL" --cache-dir "$T/kcache" apply -f - >/dev/null; }

start_server

# ---- the process runtime --------------------------------------------------
NODE=kapi-node-it
start_kubelet "$T/kubelet.log" --hostname-override "$NODE" \
  --root-dir "$T/kubelet" --node-status-update-frequency 1s -v 2

node_ready() { k get nodes --no-headers | grep -Eq "^$NODE +Ready "; }
wait_for "node $NODE registers and is Ready in kubectl get nodes" 20 node_ready
expect_output "node reports the kubelet version and runtime" \
  'v1.32.0-kapi.*kapi-process://0.1' k get node "$NODE" -o wide
check "node has InternalIP and Hostname addresses" sh -c \
  "kubectl --cache-dir '$T/kcache' get node $NODE -o jsonpath='{.status.addresses[*].type}' | grep -qx 'InternalIP Hostname'"

kapply <<EOF
apiVersion: v1
kind: Pod
metadata: {name: sleeper}
spec:
  nodeName: $NODE
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo \$\$\$\$; exec sleep 600"]
EOF
pod_running() {
  [ "$(jp pod sleeper -o jsonpath='{.status.phase}')" = Running ] &&
    [ -n "$(jp pod sleeper -o jsonpath='{.status.containerStatuses[0].state.running.startedAt}')" ]
}
wait_for "a pod bound to the node reaches Running" 20 pod_running
expect_output "its Ready condition is True" '^True$' \
  k get pod sleeper -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
expect_output "its container status is running, ready, kapi:// id" \
  '^true kapi://[0-9a-f]+ 0 127.0.0.1$' \
  k get pod sleeper -o 'jsonpath={.status.containerStatuses[0].ready} {.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount} {.status.podIP}'
expect_output "kubectl get pods shows 1/1 Running" '^sleeper +1/1 +Running +0 ' \
  k get pods --no-headers

UID_=$(jp pod sleeper -o 'jsonpath={.metadata.uid}')
LOGF=$T/kubelet/pods/default_sleeper_$UID_/main/0.log
# The runtime writes CRI log records: "<time> stdout F <line>".
log_has_pid() { grep -Eq '^[^ ]+ stdout F [0-9]+$' "$LOGF"; }
wait_for "the container's output is in its log file" 10 log_has_pid
PID=$(head -1 "$LOGF" 2>/dev/null | cut -d' ' -f4)
live() { [ -n "$PID" ] && [ "$PID" -gt 1 ] && kill -0 "$PID"; }
check "the container is a live process" live

# A container that keeps failing: restarts, then CrashLoopBackOff.
kapply <<EOF
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  nodeName: $NODE
  restartPolicy: Always
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "exit 1"]
EOF
restarts_grow() {
  local n
  n=$(jp pod crasher -o 'jsonpath={.status.containerStatuses[0].restartCount}')
  [ "${n:-0}" -ge 2 ] && k get pods crasher --no-headers | grep -q CrashLoopBackOff
}
wait_for "a failing pod shows a growing restartCount and CrashLoopBackOff" 60 restarts_grow
expect_output "its last state is the exit code 1 termination" '^1 Error CrashLoopBackOff$' \
  k get pod crasher -o 'jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.reason} {.status.containerStatuses[0].state.waiting.reason}'
expect_output "the back-off message names the container and pod" \
  'back-off [0-9ms]+ restarting failed container=c pod=crasher_default\(' \
  k get pod crasher -o 'jsonpath={.status.containerStatuses[0].state.waiting.message}'
expect_output "Created, Started and BackOff events were recorded" \
  'BackOff' k get events --field-selector involvedObject.name=crasher
expect_output "a Started event for the sleeper" 'Started container main' \
  k get events --field-selector involvedObject.name=sleeper

# Deletion: SIGTERM, the pod goes away, so does the process.
check "kubectl delete pod returns once the pod is gone" k delete pod sleeper --timeout=60s
pid_gone() {
  [ -n "$PID" ] && { ! kill -0 "$PID" 2>/dev/null || grep -q '^State:.*Z' "/proc/$PID/status"; }
}
wait_for "the container's process is gone from the process table" 10 pid_gone
expect_fail "the pod no longer exists" 'NotFound|not found' k get pod sleeper
check "delete the crashing pod" k delete pod crasher --timeout=60s

# The node lease.
lease_ok() {
  [ "$(jp lease -n kube-node-lease "$NODE" -o 'jsonpath={.spec.holderIdentity} {.spec.leaseDurationSeconds}')" = "$NODE 40" ]
}
wait_for "the node's Lease exists in kube-node-lease (holder, 40 s)" 10 lease_ok
R1=$(jp lease -n kube-node-lease "$NODE" -o 'jsonpath={.spec.renewTime}')
lease_renewed() { [ "$(jp lease -n kube-node-lease "$NODE" -o 'jsonpath={.spec.renewTime}')" != "$R1" ]; }
wait_for "the Lease's renewTime is renewed" 10 lease_renewed
check "renewTime is a MicroTime" sh -c "echo '$R1' | grep -Eq '^[0-9-]+T[0-9:]+\\.[0-9]{6}Z$'"
H1=$(jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}')
hb_moves() { [ "$(jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}')" != "$H1" ]; }
wait_for "the node's Ready heartbeat moves" 10 hb_moves

# Stopping the kubelet stops what its (in-memory) runtime runs.
kapply <<EOF
apiVersion: v1
kind: Pod
metadata: {name: survivor}
spec:
  nodeName: $NODE
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo \$\$\$\$; exec sleep 600"]
EOF
survivor_runs() { [ "$(jp pod survivor -o jsonpath='{.status.phase}')" = Running ]; }
wait_for "another pod runs" 20 survivor_runs
UID_=$(jp pod survivor -o 'jsonpath={.metadata.uid}')
LOGF=$T/kubelet/pods/default_survivor_$UID_/main/0.log
wait_for "its process id is in its log" 10 log_has_pid
PID=$(head -1 "$LOGF" 2>/dev/null | cut -d' ' -f4)
check "it is a live process" live
stop_kubelets
check "the kubelet stops on SIGTERM, and its containers with it" pid_gone
check "the kubelet left no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/kubelet.log'"

# ---- hollow nodes ------------------------------------------------------------
start_kubelet "$T/hollow.log" --hollow-nodes 50 --hostname-override hollow \
  --root-dir "$T/hollow" -v 1
fifty_ready() { [ "$(k get nodes --no-headers | grep -Ec '^hollow-[0-9]+ +Ready ')" -eq 50 ]; }
wait_for "--hollow-nodes 50 registers 50 Ready nodes" 60 fifty_ready
kapply <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hollow-pod}
spec:
  nodeName: hollow-3
  containers:
  - {name: app, image: nginx}
EOF
hollow_running() {
  jp pod hollow-pod -o 'jsonpath={.status.phase} {.status.podIP}' | grep -Eq '^Running 10\.64\.3\.[0-9]+$'
}
wait_for "a pod on a hollow node runs with a fake 10.x address" 20 hollow_running
check "deleting it completes" k delete pod hollow-pod --timeout=30s
stop_kubelets
check "the hollow kubelet left no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/hollow.log'"

finish
