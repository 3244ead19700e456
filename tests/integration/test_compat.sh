#!/usr/bin/env bash
# kubectl compatibility beyond the basics: label/annotate overwrite and
# removal, paged lists (--chunk-size), set-based selectors, describe of
# pods, ReplicaSets and nodes with their events, explain, delete by
# selector, and drain/uncordon of a node running pods (pods/eviction),
# against the full cluster (apiserver, controllers, scheduler, kubelet).
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
# count N CMD...: CMD prints exactly N lines.
count() { local n=$1; shift; [ "$("$@" 2>/dev/null | wc -l)" -eq "$n" ]; }
# same NAME EXPECTED CMD...: the command's whole output.
same() {
  local name=$1 want=$2 got; shift 2
  got=$("$@" 2>&1)
  if [ "$got" = "$want" ]; then ok "$name"
  else not_ok "$name"; printf '    want: %s\n    got:  %s\n' "$want" "$got"; fi
}
kc() { echo "kubectl --cache-dir '$T/kcache'"; }
pod() { # pod NAME LABELS-YAML [NAMESPACE]
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, labels: %s}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - {name: main, image: busybox, command: [sleep, "3600"]}\n' \
    "$1" "${3:-default}" "$2"
}

wait_for "the node is Ready" 20 sh -c "$(kc) get nodes </dev/null | grep -q ' Ready '"

# ---- label / annotate ---------------------------------------------------------

pod lab '{app: lab}' >"$T/lab.yaml"
check "create a pod" k create -f "$T/lab.yaml"
expect_output "label" '^pod/lab labeled$' k label pod lab tier=a
expect_fail "label without --overwrite refuses a change" \
  "^error: 'tier' already has a value \(a\), and --overwrite is false" k label pod lab tier=b
expect_output "label --overwrite" '^pod/lab labeled$' k label pod lab tier=b --overwrite
same "label overwritten" "b" k get pod lab -o 'jsonpath={.metadata.labels.tier}'
expect_output "label removal" '^pod/lab unlabeled$' k label pod lab tier-
same "label removed" "app=lab " k get pod lab \
  -o go-template='{{range $k, $v := .metadata.labels}}{{$k}}={{$v}} {{end}}'
expect_output "annotate" '^pod/lab annotated$' k annotate pod lab note=x
expect_fail "annotate without --overwrite refuses a change" \
  "^error: --overwrite is false but found the following declared annotation\(s\): 'note' already has a value \(x\)" \
  k annotate pod lab note=y
expect_output "annotate --overwrite" '^pod/lab annotated$' k annotate pod lab note=y --overwrite
same "annotation overwritten" "y" k get pod lab -o 'jsonpath={.metadata.annotations.note}'
expect_output "annotation removal" '^pod/lab annotated$' k annotate pod lab note-
same "annotation removed" "" k get pod lab -o 'jsonpath={.metadata.annotations.note}'

# ---- paged lists, set-based selectors, delete by selector --------------------

check "create a namespace" k create namespace paged
for i in 1 2 3 4 5; do
  case $i in 1|4) t=a ;; 2|5) t=b ;; *) t=c ;; esac
  pod "p$i" "{tier: $t, app: x}" paged
done >"$T/paged.yaml"
sed -i 's/^apiVersion/---\napiVersion/' "$T/paged.yaml"
check "create 5 pods" k create -f "$T/paged.yaml"
same "get --chunk-size=2 lists all 5" "$(printf 'pod/p%s\n' 1 2 3 4 5)" \
  k get pods -n paged --chunk-size=2 -o name
k get pods -n paged --chunk-size=2 -v=6 >"$T/chunk.out" 2>&1
if grep -q 'limit=2' "$T/chunk.out" && grep -q 'continue=' "$T/chunk.out"; then
  ok "get --chunk-size=2 pages with limit and continue"
else not_ok "get --chunk-size=2 pages with limit and continue"; fi
expect_output "table over pages has one header" '^NAME +READY +STATUS' \
  k get pods -n paged --chunk-size=2
same "table over pages: 5 rows and 1 header" 6 sh -c "$(kc) get pods -n paged --chunk-size=2 </dev/null | wc -l"
same "get -l 'tier in (a,b)'" "$(printf 'pod/p%s\n' 1 2 4 5)" \
  k get pods -n paged -l 'tier in (a,b)' -o name
same "get -l 'tier in (a,b),tier notin (b)'" "$(printf 'pod/p%s\n' 1 4)" \
  k get pods -n paged -l 'tier in (a,b),tier notin (b)' -o name
same "get -l '!tier'" "" k get pods -n paged -l '!tier' -o name

# ---- describe, explain --------------------------------------------------------

cat >"$T/rs.yaml" <<'Y'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command: ["sleep", "3600"]
Y
check "create a ReplicaSet" k create -f "$T/rs.yaml"
wait_for "2 web pods Running" 60 count 2 k get pods -l app=web --field-selector status.phase=Running -o name
webpod=$(k get pods -l app=web -o name | head -1)
k describe "$webpod" >"$T/describe-pod" 2>&1
check "describe pod: Controlled By the ReplicaSet" grep -Eq '^Controlled By: +ReplicaSet/web$' "$T/describe-pod"
check "describe pod: Node" grep -Eq '^Node: +node-1/' "$T/describe-pod"
check "describe pod: Events section" grep -Eq '^Events:$' "$T/describe-pod"
check "describe pod: Scheduled event" grep -Eq 'Normal +Scheduled +.*default-scheduler +Successfully assigned default/' "$T/describe-pod"
# The ReplicaSet's status follows its pods' by one sync: wait for it.
rs_replicas() {
  k describe rs web >"$T/describe-rs" 2>&1
  grep -Eq '^Replicas: +2 current / 2 desired$' "$T/describe-rs"
}
wait_for "describe rs: Replicas" 20 rs_replicas
check "describe rs: Pods Status" grep -Eq '^Pods Status: +2 Running / 0 Waiting / 0 Succeeded / 0 Failed$' "$T/describe-rs"
check "describe rs: SuccessfulCreate events" grep -Eq 'Normal +SuccessfulCreate +.*replicaset-controller +Created pod: web-' "$T/describe-rs"
k describe node node-1 >"$T/describe-node" 2>&1
check "describe node: Name" grep -Eq '^Name: +node-1$' "$T/describe-node"
check "describe node: Conditions with Ready" grep -Eq '^ +Ready +True ' "$T/describe-node"
check "describe node: Capacity and Allocatable" sh -c "grep -q '^Capacity:' '$T/describe-node' && grep -q '^Allocatable:' '$T/describe-node'"
check "describe node: lists its pods" grep -Eq '^ +default +web-[a-z0-9]+ ' "$T/describe-node"
check "describe node: Events section" grep -Eq '^Events:' "$T/describe-node"
expect_output "explain pods.spec.containers: FIELDS" '^FIELDS:' k explain pods.spec.containers
expect_output "explain pods.spec.containers: image field" '^  image	<string>' k explain pods.spec.containers

# ---- delete by selector --------------------------------------------------------

wait_for "the paged pods Running" 60 count 5 k get pods -n paged --field-selector status.phase=Running -o name
expect_output "delete pods -l app=x" '^pod "p5" deleted' k delete pods -n paged -l app=x
same "nothing left" "" k get pods -n paged -o name

# ---- drain / uncordon ------------------------------------------------------------

wait_for "lab pod Running" 60 count 1 k get pods --field-selector metadata.name=lab,status.phase=Running -o name
k drain node-1 --force --ignore-daemonsets --delete-emptydir-data --timeout=60s >"$T/drain.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "drain succeeds" || { not_ok "drain succeeds (rc $rc)"; sed 's/^/    /' "$T/drain.out"; }
check "drain: node cordoned" grep -q '^node/node-1 cordoned$' "$T/drain.out"
check "drain: evicts the bare pod" grep -q '^pod/lab evicted$' "$T/drain.out"
check "drain: evicts the ReplicaSet's pods" grep -Eq '^pod/web-[a-z0-9]+ evicted$' "$T/drain.out"
check "drain: drained" grep -q '^node/node-1 drained$' "$T/drain.out"
check "drain: warns about the unmanaged pod" grep -q 'deleting Pods that declare no controller: default/lab' "$T/drain.out"
expect_fail "the bare pod is gone" 'NotFound' k get pod lab
expect_output "node SchedulingDisabled" '^node-1 +Ready,SchedulingDisabled ' k get nodes
wait_for "the ReplicaSet recreates 2 Pending pods" 30 count 2 k get pods -l app=web --field-selector status.phase=Pending -o name
same "recreated pods are not scheduled" "" k get pods -l app=web -o 'jsonpath={.items[*].spec.nodeName}'
expect_output "uncordon" '^node/node-1 uncordoned$' k uncordon node-1
wait_for "uncordoned: pods Running again" 60 count 2 k get pods -l app=web --field-selector status.phase=Running -o name
check "delete the ReplicaSet" k delete rs web --wait=false

finish
