#!/usr/bin/env bash
# ResourceQuota against a real kapi-apiserver, driven with the real
# kubectl and curl: the resourcequotas resource (kubectl create quota,
# get, describe), the ResourceQuota admission plugin (upstream's
# messages, object counts, dry runs, and exact charging under 32
# concurrent creates), then the resourcequota controller in
# kapi-controller-manager giving usage back when pods are deleted.
#
# PLUGINS (apiserver plugins) and CTL_PLUGINS (a directory holding the
# resourcequota controller plugin) may point at plugins built elsewhere.
. "$(dirname "$0")/lib.sh"

ls "$KAPI_BUILDDIR"/registry/resourcequota/.libs/*.so >/dev/null 2>&1 ||
  [ -n "${PLUGINS:-}" ] ||
  { echo "skipped: the resourcequotas registry is not built"; exit 77; }

CM=$KAPI_BUILDDIR/kapi-controller-manager
CM_PID=
stop_cm() {
  if [ -n "$CM_PID" ]; then
    kill "$CM_PID" 2>/dev/null
    wait "$CM_PID" 2>/dev/null
    CM_PID=
  fi
}
trap 'stop_cm; cleanup' EXIT

# The ServiceAccount plugin would want a default service account (no
# controller creates them here): not what this test is about.
start_server --enable-admission-plugins ResourceQuota \
  --disable-admission-plugins ServiceAccount || exit 1

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
# jq_ok EXPR CMD...: the JSON CMD prints satisfies the Python EXPR over b.
jq_ok() {
  local expr=$1; shift
  "$@" 2>/dev/null | python3 -c '
import json, sys
b = json.load(sys.stdin)
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$expr"
}
ns_yaml() { printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$1"; }
pod_json() { # pod_json NAME [CPU]: a pod, with a cpu request if given
  local res=
  [ -n "${2:-}" ] && res=",\"resources\":{\"requests\":{\"cpu\":\"$2\"}}"
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"containers":[{"name":"c","image":"busybox"%s}]}}' "$1" "$res"
}
# run_pod NAMESPACE NAME [CPU] [kubectl flags...]
run_pod() {
  local ns=$1 name=$2 cpu=${3:-}; shift 3 2>/dev/null || shift $#
  pod_json "$name" "$cpu" >"$T/pod-$name.json"
  k create -n "$ns" -f "$T/pod-$name.json" "$@"
}

# ---- the resource -----------------------------------------------------------------
# kubectl's typed "create quota" sends protobuf, which the server does not
# transcode for ResourceQuota yet: its generator feeds create -f instead.
ns_yaml q1 >"$T/q1.yaml"
check "create namespace q1" k create -f "$T/q1.yaml"
k create quota q --hard=pods=2,requests.cpu=1 -n q1 --dry-run=client -o yaml \
  >"$T/quota.yaml"
expect_output "create quota q (pods=2, requests.cpu=1)" 'resourcequota/q created' \
  k create -f "$T/quota.yaml"
# No controller runs yet: status is empty, as upstream's printer shows it.
expect_output "get quota (short name)" '^q +[0-9]+s +pods: 0/0, requests.cpu: 0/0 *$' \
  k get quota -n q1 --no-headers
expect_output "get resourcequotas: NAME AGE REQUEST LIMIT" \
  '^NAME +AGE +REQUEST +LIMIT' k get resourcequotas -n q1
req GET /api/v1/namespaces/q1/resourcequotas/q
jcheck "spec.hard stored, no status" \
  'b["spec"]["hard"] == {"pods": "2", "requests.cpu": "1"} and "status" not in b'

printf '{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"bad"},"spec":{"hard":{"foo":"1","pods":"-1"}}}' >"$T/bad.json"
req POST /api/v1/namespaces/q1/resourcequotas "$(cat "$T/bad.json")"
jcheck "invalid quota refused (422, upstream's messages)" \
  'code == 422 and b["message"] == "ResourceQuota \"bad\" is invalid: [spec.hard[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified, spec.hard[foo]: Invalid value: \"foo\": must be a standard resource for quota, spec.hard[pods]: Invalid value: \"-1\": must be greater than or equal to 0]"'

# ---- admission --------------------------------------------------------------------
expect_fail "a pod without a cpu request is refused" \
  'pods "nocpu" is forbidden: failed quota: q: must specify requests.cpu for: c' \
  run_pod q1 nocpu
check "first pod (100m)" run_pod q1 p1 100m
req GET /api/v1/namespaces/q1/resourcequotas/q
jcheck "the first charge fills status.hard from spec.hard" \
  'b["status"] == {"hard": {"pods": "2", "requests.cpu": "1"}, "used": {"pods": "1", "requests.cpu": "100m"}}'
check "second pod (100m)" run_pod q1 p2 100m
expect_fail "third pod refused with upstream's message" \
  'Error from server \(Forbidden\): error when creating ".*": pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2' \
  run_pod q1 p3 100m
expect_output "get quota shows the usage" '^q +[0-9]+s +pods: 2/2, requests.cpu: 200m/1 *$' \
  k get quota q -n q1 --no-headers
k describe quota q -n q1 >"$T/describe" 2>&1
if grep -Eq '^Resource +Used +Hard' "$T/describe" &&
   grep -Eq '^pods +2 +2 *$' "$T/describe" &&
   grep -Eq '^requests.cpu +200m +1 *$' "$T/describe"; then
  ok "describe quota: Used and Hard"
else
  not_ok "describe quota: Used and Hard"; sed 's/^/    /' "$T/describe"
fi

# Object counts, with the legacy name and the count/ one.
ns_yaml q2 >"$T/q2.yaml"
check "create namespace q2" k create -f "$T/q2.yaml"
k create quota counts -n q2 --hard=configmaps=1,count/secrets=1 --dry-run=client \
  -o yaml >"$T/counts.yaml"
check "create quota counts" k create -f "$T/counts.yaml"
check "first configmap" k create configmap a -n q2
expect_fail "second configmap refused" \
  'configmaps "b" is forbidden: exceeded quota: counts, requested: configmaps=1, used: configmaps=1, limited: configmaps=1' \
  k create configmap b -n q2
check "first secret" k create secret generic s1 -n q2
expect_fail "second secret refused (count/secrets)" \
  'secrets "s2" is forbidden: exceeded quota: counts, requested: count/secrets=1, used: count/secrets=1, limited: count/secrets=1' \
  k create secret generic s2 -n q2

# A dry run is checked, not charged.
k create quota room -n q2 --hard=pods=1 --dry-run=client -o yaml >"$T/room.yaml"
check "create quota room (pods=1)" k create -f "$T/room.yaml"
check "dry-run pod admitted" run_pod q2 dry "" --dry-run=server
req GET /api/v1/namespaces/q2/resourcequotas/room
jcheck "the dry run charged nothing" \
  'b.get("status", {}).get("used", {}).get("pods", "0") == "0"'
check "a real pod takes the room" run_pod q2 real
expect_fail "a dry run over the quota is refused" \
  'pods "dry2" is forbidden: exceeded quota: room' run_pod q2 dry2 "" --dry-run=server

# ---- 32 concurrent creates against pods=10 ----------------------------------------
ns_yaml race >"$T/race.yaml"
check "create namespace race" k create -f "$T/race.yaml"
k create quota q -n race --hard=pods=10 --dry-run=client -o yaml >"$T/race-q.yaml"
check "create quota pods=10" k create -f "$T/race-q.yaml"
for i in $(seq 1 32); do pod_json "r$i" >"$T/r$i.json"; done
seq 1 32 | xargs -P 32 -I{} curl -sS -o "$T/r{}.out" -w '%{http_code}\n' \
  -X POST -H 'Content-Type: application/json' --data-binary "@$T/r{}.json" \
  "$SERVER/api/v1/namespaces/race/pods" >"$T/codes"
created=$(grep -c '^201$' "$T/codes")
refused=$(grep -c '^403$' "$T/codes")
if [ "$created" -eq 10 ] && [ "$refused" -eq 22 ]; then
  ok "exactly 10 created, 22 forbidden"
else
  not_ok "exactly 10 created, 22 forbidden (got $created created, $refused forbidden)"
  sort "$T/codes" | uniq -c | sed 's/^/    /'
fi
bad=0
for i in $(seq 1 32); do
  if grep -q '"code":403' "$T/r$i.out" &&
     ! grep -q "pods \\\\\"r$i\\\\\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=10, limited: pods=10" "$T/r$i.out"; then
    bad=$((bad + 1)); sed 's/^/    /' "$T/r$i.out"
  fi
done
[ "$bad" -eq 0 ] && ok "every refusal is upstream's exceeded-quota message" ||
  not_ok "every refusal is upstream's exceeded-quota message ($bad not)"
req GET /api/v1/namespaces/race/resourcequotas/q
jcheck "status.used.pods is exactly 10" 'b["status"]["used"]["pods"] == "10"'
req GET /api/v1/namespaces/race/pods
jcheck "and 10 pods exist" 'len(b["items"]) == 10'

# ---- the controller gives usage back ----------------------------------------------
CTL_PLUGINS=${CTL_PLUGINS:-$KAPI_BUILDDIR/plugins/controllers/resourcequota/.libs}
if [ -x "$CM" ] && ls "$CTL_PLUGINS"/*.so >/dev/null 2>&1; then
  CTL=$T/plugins-controllers
  mkdir -p "$CTL"
  chmod 755 "$CTL"
  install -m 644 "$CTL_PLUGINS"/*.so "$CTL/"
  "$CM" --master "$SERVER" --plugin-dir "$CTL" --leader-elect=false \
    --controllers resourcequota -v 2 2>>"$T/controller-manager.log" &
  CM_PID=$!
  # A quota whose status nobody filled: the controller fills it.
  printf '{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"late"},"spec":{"hard":{"pods":"50","count/deployments.apps":"5"}}}' >"$T/late.json"
  check "create quota late in race" k create -n race -f "$T/late.json"
  wait_for "the controller fills status (pods=10)" 20 jq_ok \
    'b["status"]["hard"] == {"pods": "50", "count/deployments.apps": "5"} and
     b["status"]["used"] == {"pods": "10", "count/deployments.apps": "0"}' \
    k get quota late -n race -o json
  # Whichever 10 were created, four of them go.
  k get pods -n race -o name | head -4 >"$T/doomed"
  check "delete 4 of the 10 pods" xargs -a "$T/doomed" kubectl --cache-dir \
    "$T/kcache" delete -n race --wait=false
  wait_for "usage drops to 6" 20 jq_ok 'b["status"]["used"]["pods"] == "6"' \
    k get quota q -n race -o json
  req GET /api/v1/namespaces/race/pods
  jcheck "and 6 pods are left" 'len(b["items"]) == 6'
  check "a pod fits again" run_pod race again
  check "create a deployment" k create deployment d -n race --image=busybox
  req GET /api/v1/namespaces/race/resourcequotas/late
  jcheck "admission charged the deployment" \
    'b["status"]["used"]["count/deployments.apps"] == "1"'
  check "delete the deployment" k delete deployment d -n race --wait=false
  wait_for "the controller gives the deployment back" 20 jq_ok \
    'b["status"]["used"]["count/deployments.apps"] == "0"' \
    k get quota late -n race -o json
  stop_cm
else
  echo "# skipped the controller part: no kapi-controller-manager or resourcequota plugin"
fi

finish
