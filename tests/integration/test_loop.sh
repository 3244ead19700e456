#!/usr/bin/env bash
# The whole control loop with the real daemons: apiserver, controller-
# manager, scheduler and one kubelet on the process runtime.  A
# ReplicaSet ends with Running pods; scaling, replacement, crash loops,
# cascading deletes and namespace deletion behave as upstream.
. "$(dirname "$0")/lib.sh"

for d in kapi-controller-manager kapi-scheduler kapi-kubelet; do
  [ -x "$KAPI_BUILDDIR/$d" ] || { echo "skipped: $d not built"; exit 77; }
done

start_server || exit 1
start_cluster || exit 1

# wait_for DESCRIPTION SECONDS CMD...: polls until CMD succeeds.
wait_for() {
  local what=$1 secs=$2 i; shift 2
  for i in $(seq 1 $((secs * 4))); do
    "$@" >/dev/null 2>&1 && { ok "$what"; return 0; }
    sleep 0.25
  done
  not_ok "$what (waited ${secs}s)"
  "$@" 2>&1 | sed 's/^/    /'
  return 1
}

running_pods() { # running_pods NS SELECTOR N: exactly N Running pods
  [ "$(k get pods -n "$1" -l "$2" --field-selector status.phase=Running \
        -o name 2>/dev/null | wc -l)" -eq "$3" ]
}
pod_count() { # pod_count NS SELECTOR N: exactly N pods, whatever phase
  [ "$(k get pods -n "$1" -l "$2" -o name 2>/dev/null | wc -l)" -eq "$3" ]
}

cat >"$T/rs.yaml" <<'Y'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: sleeper
        image: busybox
        command: ["sleep", "3600"]
Y

wait_for "the node is Ready" 20 sh -c "kubectl --cache-dir '$T/kcache' get nodes </dev/null | grep -q ' Ready '"
expect_output "create -f rs" 'replicaset.apps/web created' k create -f "$T/rs.yaml"
wait_for "3 pods Running" 60 running_pods default app=web 3
expect_output "pods are owned by the ReplicaSet" '"controller": true' k get pods -l app=web -o json
expect_output "pods are on the node" '"nodeName": "node-1"' k get pods -l app=web -o json
wait_for "get rs shows 3 ready" 30 sh -c "kubectl --cache-dir '$T/kcache' get rs web </dev/null | grep -Eq '^web +3 +3 +3 '"
pod=$(k get pods -l app=web -o name | head -1)
expect_output "describe shows Scheduled and Started" 'Scheduled.*Started|Started.*Scheduled' \
  sh -c "kubectl --cache-dir '$T/kcache' describe $pod </dev/null | tr '\n' ' '"

expect_output "scale to 1" 'replicaset.apps/web scaled' k scale rs web --replicas=1
wait_for "scaled down to 1 pod" 60 pod_count default app=web 1
pod=$(k get pods -l app=web -o name | head -1)
k delete "$pod" --wait=false >/dev/null
wait_for "a deleted pod is replaced" 60 sh -c "
  [ \$(kubectl --cache-dir '$T/kcache' get pods -l app=web --field-selector status.phase=Running -o name </dev/null | grep -v '$pod' | wc -l) -eq 1 ]"

cat >"$T/crash.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "exit 1"]}
Y
k create -f "$T/crash.yaml" >/dev/null
wait_for "a crashing pod backs off" 60 sh -c "kubectl --cache-dir '$T/kcache' get pod crasher </dev/null | grep -q CrashLoopBackOff"
expect_output "restart count grows" '"restartCount": [1-9]' k get pod crasher -o json

cat >"$T/big.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: too-big}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "1"]
    resources: {requests: {cpu: "1000"}}
Y
k create -f "$T/big.yaml" >/dev/null
wait_for "an unschedulable pod says why" 30 sh -c "kubectl --cache-dir '$T/kcache' describe pod too-big </dev/null | grep -q '0/1 nodes are available: 1 Insufficient cpu'"

expect_output "delete rs" 'replicaset.apps "web" deleted' k delete rs web
wait_for "its pods are gone" 60 pod_count default app=web 0

k create -f "$T/rs.yaml" >/dev/null
wait_for "recreated rs runs 3 pods" 60 running_pods default app=web 3
expect_output "delete rs --cascade=orphan" 'deleted' k delete rs web --cascade=orphan
sleep 2
check "orphaned pods stay" pod_count default app=web 3

expect_output "create a namespace" 'namespace/doomed created' k create namespace doomed
expect_output "a pod in it" 'pod/crasher created' k create -f "$T/crash.yaml" -n doomed
wait_for "the pod reaches the node" 30 sh -c "kubectl --cache-dir '$T/kcache' get pod crasher -n doomed -o jsonpath='{.spec.nodeName}' </dev/null | grep -q node-1"
k delete namespace doomed --wait=false >/dev/null
wait_for "a deleted namespace goes away with its content" 90 sh -c "
  ! kubectl --cache-dir '$T/kcache' get namespace doomed </dev/null"

finish
