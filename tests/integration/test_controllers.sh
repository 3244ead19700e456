#!/usr/bin/env bash
# kapi-controller-manager against a real kapi-apiserver, driven with the
# real kubectl (no scheduler or kubelet: pods stay Pending and unscheduled,
# so deleting them takes effect at once).  The ReplicaSet controller
# creates, replaces, scales, adopts and releases pods and keeps the
# status; the garbage collector cascades deletes (background, foreground,
# orphan); the namespace controller empties and finalizes namespaces.
. "$(dirname "$0")/lib.sh"

CM=$KAPI_BUILDDIR/kapi-controller-manager
[ -x "$CM" ] || { echo "skipped: kapi-controller-manager not built"; exit 77; }
ls "$KAPI_BUILDDIR"/registry/replicaset/.libs/*.so >/dev/null 2>&1 ||
  { echo "skipped: the replicasets registry is not built"; exit 77; }

CM_PID=
stop_cm() {
  if [ -n "$CM_PID" ]; then
    kill "$CM_PID" 2>/dev/null
    wait "$CM_PID" 2>/dev/null
    CM_PID=
  fi
}
trap 'stop_cm; cleanup' EXIT

# The controller plugins, in a directory only we can write.
CTL=$T/plugins-controllers
mkdir -p "$CTL"
chmod 755 "$CTL"
install -m 644 "$KAPI_BUILDDIR"/plugins/controllers/*/.libs/*.so "$CTL/"

start_server || exit 1

# Leader election needs Leases; without them run unelected.
LEADER=false
req GET /apis/coordination.k8s.io/v1
[ "$CODE" = 200 ] && LEADER=true

"$CM" --master "$SERVER" --plugin-dir "$CTL" --leader-elect=$LEADER \
  --leader-elect-retry-period 1s -v 2 2>>"$T/controller-manager.log" &
CM_PID=$!

# wait_for DESCRIPTION SECONDS CMD...: polls until CMD succeeds.
wait_for() {
  local what=$1 secs=$2 i; shift 2
  for i in $(seq 1 $((secs * 5))); do
    "$@" >/dev/null 2>&1 && { ok "$what"; return 0; }
    sleep 0.2
  done
  not_ok "$what (waited ${secs}s)"
  "$@" 2>&1 | sed 's/^/    /'
  return 1
}

pod_count() { # pod_count NS SELECTOR N: exactly N pods not being deleted
  [ "$(k get pods -n "$1" -l "$2" -o json 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for p in json.load(sys.stdin)["items"]
          if "deletionTimestamp" not in p["metadata"]))')" -eq "$3" ]
}
# jq_ok EXPR CMD...: the JSON CMD prints satisfies the Python EXPR over b.
jq_ok() {
  local expr=$1; shift
  "$@" 2>/dev/null | python3 -c '
import json, re, sys
b = json.load(sys.stdin)
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$expr"
}

rs_yaml() { # rs_yaml NAME REPLICAS [NAMESPACE]
  cat <<Y
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: $1, namespace: ${3:-default}}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1, tier: t}}
    spec:
      containers:
      - {name: c, image: busybox, command: [sleep, "3600"]}
Y
}
pod_yaml() { # pod_yaml NAME APP [NAMESPACE]
  cat <<Y
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: ${3:-default}, labels: {app: $2}}
spec:
  containers:
  - {name: c, image: busybox}
Y
}

check "--help" "$CM" --help
expect_fail "unknown --controllers entry refused" \
  'is not in the list of known controllers' \
  "$CM" --master "$SERVER" --plugin-dir "$CTL" --leader-elect=false \
  --controllers '*,nosuch'

if [ "$LEADER" = true ]; then
  wait_for "the controller-manager holds the Lease" 20 jq_ok \
    'b["spec"].get("holderIdentity", "") != ""' \
    k get lease -n kube-system kube-controller-manager -o json
fi

# ---- ReplicaSet: create, status, events --------------------------------------
rs_yaml web 3 >"$T/web.yaml"
expect_output "create -f rs" 'replicaset.apps/web created' k create -f "$T/web.yaml"
wait_for "3 pods" 20 pod_count default app=web 3
jq_ok 'all(p["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1",
  "kind": "ReplicaSet", "name": "web", "uid": p["metadata"]["ownerReferences"][0]["uid"],
  "controller": True, "blockOwnerDeletion": True}] for p in b["items"])' \
  k get pods -l app=web -o json && ok "pods carry the controller reference" ||
  not_ok "pods carry the controller reference"
uid=$(k get rs web -o jsonpath='{.metadata.uid}')
jq_ok "all(p['metadata']['ownerReferences'][0]['uid'] == '$uid' and
  re.fullmatch(r'web-[a-z0-9]{5}', p['metadata']['name']) and
  p['metadata']['generateName'] == 'web-' and
  p['metadata']['labels'] == {'app': 'web', 'tier': 't'} for p in b['items'])" \
  k get pods -l app=web -o json && ok "generateName names, template labels, the RS uid" ||
  not_ok "generateName names, template labels, the RS uid"
wait_for "status.replicas=3, observedGeneration=1" 20 jq_ok \
  'b["status"].get("replicas") == 3 and b["status"].get("observedGeneration") == 1 and
   b["status"].get("fullyLabeledReplicas") == 3' k get rs web -o json
expect_output "get rs" '^web +3 +3 +0 ' k get rs web --no-headers
wait_for "SuccessfulCreate events" 10 sh -c \
  "kubectl --cache-dir '$T/kcache' get events </dev/null | grep -E 'SuccessfulCreate +replicaset/web +Created pod: web-'"

# ---- scale down, replacement -------------------------------------------------
expect_output "scale --replicas=1" 'scaled' k scale rs web --replicas=1
wait_for "2 pods deleted" 20 pod_count default app=web 1
wait_for "status.replicas=1, observedGeneration=2" 20 jq_ok \
  'b["status"].get("replicas") == 1 and b["status"].get("observedGeneration") == 2' \
  k get rs web -o json
wait_for "SuccessfulDelete events" 10 sh -c \
  "kubectl --cache-dir '$T/kcache' get events </dev/null | grep -E 'SuccessfulDelete +replicaset/web +Deleted pod: web-'"
old=$(k get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
check "delete the last pod by hand" k delete pod "$old" --wait=false
wait_for "the pod is replaced" 20 sh -c "
  n=\$(kubectl --cache-dir '$T/kcache' get pods -l app=web -o name </dev/null)
  [ \$(echo \"\$n\" | grep -c pod/) -eq 1 ] && ! echo \"\$n\" | grep -q 'pod/$old\$'"

# ---- adoption --------------------------------------------------------------
pod_yaml adoptee web2 >"$T/adoptee.yaml"
check "create an orphan pod" k create -f "$T/adoptee.yaml"
sleep 1
rs_yaml web2 2 >"$T/web2.yaml"
check "create rs web2 (2 replicas) over it" k create -f "$T/web2.yaml"
uid2=$(k get rs web2 -o jsonpath='{.metadata.uid}')
wait_for "the orphan is adopted" 20 jq_ok \
  "b['metadata'].get('ownerReferences', [{}])[0].get('uid') == '$uid2' and
   b['metadata']['ownerReferences'][0].get('controller') is True" \
  k get pod adoptee -o json
wait_for "web2 has 2 pods, the adoptee among them" 20 pod_count default app=web2 2

# ---- release -------------------------------------------------------------------
check "relabel a pod out of the selector" k label pod adoptee app=other --overwrite
wait_for "the relabelled pod is released" 20 jq_ok \
  '"ownerReferences" not in b["metadata"] or b["metadata"]["ownerReferences"] == []' \
  k get pod adoptee -o json
wait_for "and replaced" 20 pod_count default app=web2 2
check "delete the released pod" k delete pod adoptee --wait=false

# ---- garbage collection ---------------------------------------------------------
expect_output "delete rs web" 'deleted' k delete rs web
wait_for "its pods are collected" 20 pod_count default app=web 0

expect_output "delete rs web2 --cascade=orphan" 'deleted' k delete rs web2 --cascade=orphan
wait_for "the orphaned rs is gone" 20 sh -c \
  "! kubectl --cache-dir '$T/kcache' get rs web2 </dev/null"
wait_for "its pods stay, without owner references" 20 jq_ok \
  'len(b["items"]) == 2 and all(not p["metadata"].get("ownerReferences")
   for p in b["items"])' k get pods -l app=web2 -o json
check "clean up the orphans" k delete pods -l app=web2 --wait=false

rs_yaml fg 2 >"$T/fg.yaml"
check "create rs fg" k create -f "$T/fg.yaml"
wait_for "fg has 2 pods" 20 pod_count default app=fg 2
check "delete rs fg --cascade=foreground" k delete rs fg --cascade=foreground --wait=false
wait_for "foreground: the pods go" 20 pod_count default app=fg 0
wait_for "foreground: then the rs" 20 sh -c \
  "! kubectl --cache-dir '$T/kcache' get rs fg </dev/null"

# ---- namespaces ---------------------------------------------------------------------
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n' >"$T/ns.yaml"
check "create namespace doomed" k create -f "$T/ns.yaml"
rs_yaml web 2 doomed >"$T/doomed-rs.yaml"
pod_yaml solo solo doomed >"$T/doomed-pod.yaml"
check "an rs in it" k create -f "$T/doomed-rs.yaml"
check "a pod in it" k create -f "$T/doomed-pod.yaml"
wait_for "3 pods in doomed" 20 pod_count doomed '' 3
check "delete namespace doomed" k delete namespace doomed --wait=false
wait_for "the namespace is Terminating" 10 jq_ok \
  'b["status"]["phase"] == "Terminating"' k get ns doomed -o json
wait_for "its pods are gone" 40 pod_count doomed '' 0
wait_for "then the namespace" 40 sh -c \
  "kubectl --cache-dir '$T/kcache' get ns doomed </dev/null 2>&1 | grep -q NotFound"
expect_fail "get ns doomed: NotFound" 'namespaces "doomed" not found' k get ns doomed

# ---- leader election and shutdown ------------------------------------------------
if [ "$LEADER" = true ]; then
  # A second candidate waits while the first leads...
  "$CM" --master "$SERVER" --plugin-dir "$CTL" --leader-elect-retry-period 1s \
    --leader-elect-renew-deadline 2s --leader-elect-lease-duration 4s \
    2>>"$T/standby.log" &
  CM2_PID=$!
  sleep 3
  if grep -q "Starting controller" "$T/standby.log"; then
    not_ok "a second candidate stands by"; sed 's/^/    /' "$T/standby.log"
  else
    ok "a second candidate stands by"
  fi
fi
kill -TERM "$CM_PID"
rc=0
wait "$CM_PID" || rc=$?
CM_PID=
[ "$rc" -eq 0 ] && ok "SIGTERM: clean exit" || not_ok "SIGTERM: exit status $rc"
if grep -E '^[EF][0-9]{4} ' "$T/controller-manager.log" >"$T/errs"; then
  not_ok "no errors logged"; sed 's/^/    /' "$T/errs"
else
  ok "no errors logged"
fi
if [ "$LEADER" = true ]; then
  # ...takes over once the leader has released the Lease...
  CM_PID=$CM2_PID
  wait_for "the standby takes over" 15 grep -q "Started [0-9]* controllers" "$T/standby.log"
  # ...and exits 1, as upstream, when it loses the Lease.
  check "another holder takes the Lease" k patch lease -n kube-system \
    kube-controller-manager --type=merge \
    -p '{"spec":{"holderIdentity":"intruder","leaseDurationSeconds":60}}'
  for _ in $(seq 1 75); do
    kill -0 "$CM2_PID" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$CM2_PID" 2>/dev/null; then
    not_ok "lost leadership: still running after 15s"
    kill "$CM2_PID"
  fi
  rc=0
  wait "$CM2_PID" || rc=$?
  CM_PID=
  [ "$rc" -eq 1 ] && ok "lost leadership: exit status 1" ||
    not_ok "lost leadership: exit status $rc"
  expect_output "lost leadership is logged" 'leaderelection lost' cat "$T/standby.log"
fi

finish
