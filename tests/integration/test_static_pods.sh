#!/usr/bin/env bash
# Static pods: kapi-kubelet --pod-manifest-path DIR on the process runtime,
# against a real kapi-apiserver, driven with the real kubectl:
#   - a manifest appearing in DIR runs as a pod, and its mirror pod
#     "web-node-1" shows Running in kubectl get pods, annotated with
#     config.mirror (= config.hash), config.source=file, owned by the Node;
#     a manifest of another kind is ignored with a log line, one that
#     does not parse is reported;
#   - editing the manifest restarts the pod: a new mirror pod (another
#     uid) with the new spec, the old process stopped, the new one running;
#   - deleting the mirror pod with kubectl makes it re-appear, the static
#     pod itself left running;
#   - removing the manifest stops the pod and deletes the mirror pod;
#   - a mirror pod whose manifest went while the kubelet was down is
#     deleted when it comes back.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

KUBELET=$KAPI_BUILDDIR/kapi-kubelet
[ -x "$KUBELET" ] || { echo "skipped: $KUBELET not built"; exit 77; }

RUNTIMES=$T/runtime
mkdir -p "$RUNTIMES"
chmod 755 "$RUNTIMES"
for f in "$KAPI_BUILDDIR"/plugins/runtime/*/.libs/*.so; do
  install -m 644 "$f" "$RUNTIMES/"
done

NODE=node-1
POD=web-$NODE
MANIFESTS=$T/manifests
mkdir -p "$MANIFESTS"
# Marks this run's processes (the pod's command lines) among others'.
MARK=$$

KUBELET_PID=
start_kubelet() {
  "$KUBELET" --master "$SERVER" --hostname-override "$NODE" \
    --runtime process --plugin-dir "$RUNTIMES" --root-dir "$T/kubelet" \
    --port 0 --node-status-update-frequency 1s \
    --pod-manifest-path "$MANIFESTS" -v 2 "$@" 2>>"$T/kubelet.log" &
  KUBELET_PID=$!
}
stop_kubelet() {
  [ -n "$KUBELET_PID" ] || return 0
  kill "$KUBELET_PID" 2>/dev/null
  wait "$KUBELET_PID" 2>/dev/null
  KUBELET_PID=
}
trap 'stop_kubelet; cleanup' EXIT

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

jp() { k get pod "$POD" -o jsonpath="$1" 2>/dev/null; }
running() { [ "$(jp '{.status.phase}')" = Running ] &&
  [ -n "$(jp '{.status.containerStatuses[0].state.running.startedAt}')" ]; }
# A process of the pod's version $1 runs (its command line carries it).
proc_runs() { pgrep -f "[s]leep 6${MARK}$1" >/dev/null; }

# manifest VERSION: the web pod's manifest, written as an editor would
# (into a temporary file renamed over the old one).
manifest() {
  cat >"$MANIFESTS/.web.yaml.tmp" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, version: "v$1"}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo hello v$1; exec sleep 6${MARK}$1"]
EOF
  mv "$MANIFESTS/.web.yaml.tmp" "$MANIFESTS/web.yaml"
}

start_server
start_kubelet
node_ready() { k get nodes --no-headers | grep -Eq "^$NODE +Ready "; }
wait_for "node $NODE registers and is Ready" 20 node_ready

# ---- a manifest appears ---------------------------------------------------
cat >"$MANIFESTS/config.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-pod}
data: {a: b}
EOF
echo "not a manifest" >"$MANIFESTS/README"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: [broken\n' >"$MANIFESTS/broken.yaml"
manifest 1
wait_for "mirror pod $POD shows Running in kubectl get pods" 20 running
expect_output "kubectl get pods lists it Running on $NODE" \
  "^$POD +1/1 +Running +0 .* $NODE " k get pods -o wide
HASH=$(jp '{.metadata.annotations.kubernetes\.io/config\.hash}')
check "mirror pod has config.mirror = config.hash" \
  test -n "$HASH" -a "$(jp '{.metadata.annotations.kubernetes\.io/config\.mirror}')" = "$HASH"
check "mirror pod has config.source=file and config.seen" sh -c \
  "test '$(jp '{.metadata.annotations.kubernetes\.io/config\.source}')' = file &&
   test -n '$(jp '{.metadata.annotations.kubernetes\.io/config\.seen}')'"
NODE_UID=$(k get node "$NODE" -o jsonpath='{.metadata.uid}')
expect_output "mirror pod is owned by the Node (controller)" \
  "^v1 Node $NODE $NODE_UID true$" \
  jp '{range .metadata.ownerReferences[*]}{.apiVersion} {.kind} {.name} {.uid} {.controller}{end}'
expect_output "static pod tolerates NoExecute taints" \
  'Exists NoExecute' jp '{range .spec.tolerations[*]}{.operator} {.effect}{end}'
check "the static pod's process runs" proc_runs 1
expect_output "kubectl logs reads the static pod's log" \
  '^hello v1$' k logs "$POD"
check "the ConfigMap manifest is ignored with a log line" \
  grep -q 'config.yaml: ignoring v1 ConfigMap: not a Pod' "$T/kubelet.log"
check "a manifest that does not parse is reported" \
  grep -q 'could not process static pod manifest: error parsing .*broken.yaml' "$T/kubelet.log"
expect_fail "no other pod comes from the manifests" 'NotFound|not found' \
  k get pod not-a-pod-$NODE
UID1=$(jp '{.metadata.uid}')

# ---- the manifest changes -------------------------------------------------
manifest 2
new_version() { [ "$(jp '{.metadata.labels.version}')" = v2 ] && running; }
wait_for "an edited manifest re-creates the mirror pod with the new spec" 30 \
  new_version
check "the mirror pod is another object (new uid)" \
  test "$(jp '{.metadata.uid}')" != "$UID1"
check "the mirror pod has the new hash" \
  test "$(jp '{.metadata.annotations.kubernetes\.io/config\.mirror}')" != "$HASH"
expect_output "the new command shows in the mirror pod" "sleep 6${MARK}2" \
  jp '{.spec.containers[0].command}'
check "the new version's process runs" proc_runs 2
wait_for "the old version's process is stopped" 10 sh -c "! pgrep -f '[s]leep 6${MARK}1'"
check "the mirror pod has one container status" \
  test "$(jp '{.status.containerStatuses[*].name}')" = main

# ---- a user deletes the mirror pod ----------------------------------------
UID2=$(jp '{.metadata.uid}')
STARTED=$(jp '{.status.containerStatuses[0].state.running.startedAt}')
check "kubectl delete pod $POD succeeds" k delete pod "$POD" --timeout=30s
recreated() { u=$(jp '{.metadata.uid}'); [ -n "$u" ] && [ "$u" != "$UID2" ] && running; }
wait_for "a deleted mirror pod re-appears" 20 recreated
check "the static pod kept running (same container start)" \
  test "$(jp '{.status.containerStatuses[0].state.running.startedAt}')" = "$STARTED"
check "the version 2 process still runs" proc_runs 2

# ---- the manifest is removed ----------------------------------------------
rm -f "$MANIFESTS/web.yaml"
gone() { ! k get pod "$POD" >/dev/null 2>&1; }
wait_for "removing the manifest deletes the mirror pod" 20 gone
wait_for "removing the manifest stops the pod's process" 10 sh -c "! pgrep -f '[s]leep 6${MARK}2'"

# ---- an orphaned mirror pod -----------------------------------------------
manifest 3
wait_for "a new manifest runs again" 20 running
stop_kubelet
rm -f "$MANIFESTS/web.yaml"
check "its mirror pod outlives the kubelet" k get pod "$POD"
start_kubelet
wait_for "a restarted kubelet deletes the mirror pod of a removed manifest" 20 gone

stop_kubelet
finish
