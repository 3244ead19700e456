#!/usr/bin/env bash
# The Deployment controller with the real daemons (apiserver,
# controller-manager, scheduler, one kubelet on the process runtime),
# driven by the real kubectl: create deployment gives Running pods and a
# ReplicaSet named with its pod-template-hash, rollout status finishes,
# set image rolls to a second ReplicaSet and scales the first to 0,
# scale follows, events and conditions read as upstream's, and deleting
# the Deployment takes its ReplicaSets and pods (garbage collection).
. "$(dirname "$0")/lib.sh"

for d in kapi-controller-manager kapi-scheduler kapi-kubelet; do
  [ -x "$KAPI_BUILDDIR/$d" ] || { echo "skipped: $d not built"; exit 77; }
done
ls "$KAPI_BUILDDIR"/plugins/controllers/deployment/.libs/*.so >/dev/null 2>&1 ||
  { echo "skipped: the deployment controller is not built"; exit 77; }

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

kc() { "$KUBECTL" --cache-dir "$T/kcache" "$@" </dev/null; }
running_pods() { # running_pods SELECTOR N: exactly N Running pods
  [ "$(kc get pods -l "$1" --field-selector status.phase=Running \
        -o name 2>/dev/null | wc -l)" -eq "$2" ]
}
pod_count() { # pod_count SELECTOR N: exactly N pods, whatever phase
  [ "$(kc get pods -l "$1" -o name 2>/dev/null | wc -l)" -eq "$2" ]
}
rs_count() { # rs_count SELECTOR N
  [ "$(kc get rs -l "$1" -o name 2>/dev/null | wc -l)" -eq "$2" ]
}
# rs_sizes: "name spec ready" per ReplicaSet of app=web, oldest first.
rs_sizes() {
  kc get rs -l app=web --sort-by=.metadata.creationTimestamp \
    -o jsonpath='{range .items[*]}{.metadata.name} {.spec.replicas} {.status.readyReplicas}{"\n"}{end}'
}

wait_for "the node is Ready" 20 sh -c "kubectl --cache-dir '$T/kcache' get nodes </dev/null | grep -q ' Ready '"

# ---- create ------------------------------------------------------------
expect_output "create deployment" 'deployment.apps/web created' \
  k create deployment web --image=busybox --replicas=3 -- sleep 3600
wait_for "3 pods Running" 60 running_pods app=web 3
check "rollout status finishes" \
  kc rollout status deployment/web --timeout=60s
wait_for "one ReplicaSet" 10 rs_count app=web 1
RS1=$(kc get rs -l app=web -o jsonpath='{.items[0].metadata.name}')
HASH1=$(kc get rs "$RS1" -o jsonpath='{.metadata.labels.pod-template-hash}')
check "the ReplicaSet is web-<pod-template-hash>" test "$RS1" = "web-$HASH1" -a -n "$HASH1"
expect_output "get rs shows it 3/3/3" "^$RS1 +3 +3 +3 " kc get rs --no-headers
expect_output "the ReplicaSet is controlled by the Deployment" \
  '"kind": "Deployment".*"name": "web"' sh -c \
  "kubectl --cache-dir '$T/kcache' get rs $RS1 -o json </dev/null | tr -d '\n' | sed 's/  */ /g'"
expect_output "its selector carries the hash" "\"pod-template-hash\": ?\"$HASH1\"" \
  kc get rs "$RS1" -o jsonpath='{.spec.selector}'
expect_output "revision 1 on the ReplicaSet" '^1$' \
  kc get rs "$RS1" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'
expect_output "revision 1 on the Deployment" '^1$' \
  kc get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'
expect_output "desired/max replicas annotations" '^3 4$' \
  kc get rs "$RS1" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/desired-replicas} {.metadata.annotations.deployment\.kubernetes\.io/max-replicas}'
expect_output "get deploy shows 3/3 3 3" '^web +3/3 +3 +3 ' kc get deploy web --no-headers
expect_output "status counts" '^3 3 3 3 1$' kc get deploy web \
  -o jsonpath='{.status.replicas} {.status.updatedReplicas} {.status.readyReplicas} {.status.availableReplicas} {.status.observedGeneration}'
expect_output "Available: MinimumReplicasAvailable" \
  'True MinimumReplicasAvailable Deployment has minimum availability.' kc get deploy web \
  -o jsonpath='{.status.conditions[?(@.type=="Available")].status} {.status.conditions[?(@.type=="Available")].reason} {.status.conditions[?(@.type=="Available")].message}'
expect_output "Progressing: NewReplicaSetAvailable" \
  "True NewReplicaSetAvailable ReplicaSet \"$RS1\" has successfully progressed." kc get deploy web \
  -o jsonpath='{.status.conditions[?(@.type=="Progressing")].status} {.status.conditions[?(@.type=="Progressing")].reason} {.status.conditions[?(@.type=="Progressing")].message}'
expect_output "event ScalingReplicaSet" "ScalingReplicaSet.*Scaled up replica set $RS1 from 0 to 3" \
  kc get events --field-selector involvedObject.kind=Deployment

# ---- set image: a second ReplicaSet ---------------------------------------
check "set image" kc set image deployment/web busybox=busybox:1.36
check "rollout status finishes after set image" \
  kc rollout status deployment/web --timeout=90s
wait_for "two ReplicaSets" 10 rs_count app=web 2
RS2=$(kc get rs -l app=web -o jsonpath="{.items[?(@.metadata.name!=\"$RS1\")].metadata.name}")
check "the new ReplicaSet has another hash" test -n "$RS2" -a "$RS2" != "$RS1"
wait_for "old ReplicaSet at 0, new at 3" 30 sh -c \
  "[ \"\$(kubectl --cache-dir '$T/kcache' get rs $RS1 -o jsonpath='{.spec.replicas}' </dev/null)\" = 0 ] &&
   [ \"\$(kubectl --cache-dir '$T/kcache' get rs $RS2 -o jsonpath='{.spec.replicas}' </dev/null)\" = 3 ]"
wait_for "3 pods Running, all of the new template" 60 sh -c \
  "[ \"\$(kubectl --cache-dir '$T/kcache' get pods -l app=web --field-selector status.phase=Running -o jsonpath='{.items[*].spec.containers[0].image}' </dev/null)\" = 'busybox:1.36 busybox:1.36 busybox:1.36' ]"
expect_output "revision 2 on the new ReplicaSet" '^2$' \
  kc get rs "$RS2" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'
expect_output "revision 2 on the Deployment" '^2$' \
  kc get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'
expect_output "scaled down the old one (event)" "Scaled down replica set $RS1 from" \
  kc get events --field-selector involvedObject.kind=Deployment
expect_output "rollout history lists both revisions" ' 1 +<none> +2 +<none>' sh -c \
  "kubectl --cache-dir '$T/kcache' rollout history deployment/web </dev/null | tr '\n' ' '"

# ---- scale -----------------------------------------------------------------
check "scale to 5" kc scale deployment/web --replicas=5
wait_for "5 pods Running" 60 running_pods app=web 5
check "rollout status after scale up" kc rollout status deployment/web --timeout=60s
expect_output "the new ReplicaSet follows" '^5$' kc get rs "$RS2" -o jsonpath='{.spec.replicas}'
check "scale to 2" kc scale deployment/web --replicas=2
wait_for "2 pods left" 60 pod_count app=web 2
wait_for "get deploy shows 2/2" 30 sh -c \
  "kubectl --cache-dir '$T/kcache' get deploy web --no-headers </dev/null | grep -Eq '^web +2/2 +2 +2 '"

# ---- paused: no rollout --------------------------------------------------------
check "rollout pause" kc rollout pause deployment/web
check "set image while paused" kc set image deployment/web busybox=busybox:1.37
sleep 2
check "paused: no third ReplicaSet" rs_count app=web 2
expect_output "Progressing: DeploymentPaused" 'Unknown DeploymentPaused' kc get deploy web \
  -o jsonpath='{.status.conditions[?(@.type=="Progressing")].status} {.status.conditions[?(@.type=="Progressing")].reason}'
check "rollout resume" kc rollout resume deployment/web
check "rollout status after resume" kc rollout status deployment/web --timeout=90s
wait_for "three ReplicaSets after resume" 10 rs_count app=web 3

# ---- Recreate --------------------------------------------------------------------
cat >"$T/recreate.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: rec}
spec:
  replicas: 2
  strategy: {type: Recreate}
  revisionHistoryLimit: 0
  selector: {matchLabels: {app: rec}}
  template:
    metadata: {labels: {app: rec}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: c, image: busybox, command: ["sleep", "3600"]}
Y
check "create a Recreate deployment" kc create -f "$T/recreate.yaml"
check "Recreate rollout status" kc rollout status deployment/rec --timeout=60s
check "Recreate set image" kc set image deployment/rec c=busybox:1.36
check "Recreate rollout status again" kc rollout status deployment/rec --timeout=90s
wait_for "revisionHistoryLimit 0 removes the old ReplicaSet" 30 rs_count app=rec 1
wait_for "2 rec pods Running" 60 running_pods app=rec 2

# ---- progress deadline: pods that never become ready -------------------------------
cat >"$T/stuck.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  replicas: 1
  progressDeadlineSeconds: 3
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: c, image: busybox, command: ["false"]}
Y
check "create a deployment whose pods crash" kc create -f "$T/stuck.yaml"
expect_fail "rollout status reports the deadline" 'exceeded its progress deadline' \
  kc rollout status deployment/stuck --timeout=60s
expect_output "Progressing: ProgressDeadlineExceeded" \
  "False ProgressDeadlineExceeded ReplicaSet \"stuck-[a-z0-9]+\" has timed out progressing." kc get deploy stuck \
  -o jsonpath='{.status.conditions[?(@.type=="Progressing")].status} {.status.conditions[?(@.type=="Progressing")].reason} {.status.conditions[?(@.type=="Progressing")].message}'
expect_output "Available: MinimumReplicasUnavailable" 'False MinimumReplicasUnavailable' kc get deploy stuck \
  -o jsonpath='{.status.conditions[?(@.type=="Available")].status} {.status.conditions[?(@.type=="Available")].reason}'
expect_output "unavailableReplicas counts it" '^1$' kc get deploy stuck -o jsonpath='{.status.unavailableReplicas}'

# ---- adoption: an orphan ReplicaSet the selector matches ------------------------
cat >"$T/orphan.yaml" <<'Y'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: orphan, labels: {app: adopt}}
spec:
  replicas: 1
  selector: {matchLabels: {app: adopt}}
  template:
    metadata: {labels: {app: adopt}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: c, image: busybox, command: ["sleep", "3600"]}
Y
check "create an orphan ReplicaSet" kc create -f "$T/orphan.yaml"
wait_for "its pod Running" 60 running_pods app=adopt 1
check "create a deployment selecting it" \
  kc create deployment adopt --image=busybox:1.36 -- sleep 3600
check "rollout status of the adopter" kc rollout status deployment/adopt --timeout=90s
expect_output "the orphan is adopted" '^Deployment adopt true$' kc get rs orphan \
  -o jsonpath='{.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].controller}'
wait_for "and scaled down to 0 as an old ReplicaSet" 30 sh -c \
  "[ \"\$(kubectl --cache-dir '$T/kcache' get rs orphan -o jsonpath='{.spec.replicas}' </dev/null)\" = 0 ]"

# ---- delete: the garbage collector takes ReplicaSets and pods -------------------
check "delete deployment" kc delete deployment web rec stuck adopt
wait_for "ReplicaSets gone" 60 rs_count 'app in (web,rec,stuck,adopt)' 0
wait_for "pods gone" 90 pod_count 'app in (web,rec,stuck,adopt)' 0

finish
