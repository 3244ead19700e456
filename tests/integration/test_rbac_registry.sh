#!/usr/bin/env bash
# The rbac.authorization.k8s.io/v1 kinds (registry/rbac) against a real
# kapi-apiserver, with the real kubectl: upstream's bootstrap policy is
# there at first start; kubectl create role/clusterrole/rolebinding/
# clusterrolebinding (protobuf bodies) work; tables, -o wide and describe
# print as upstream; a roleRef cannot change; invalid rules are refused
# with 422.  With kapi-controller-manager built, the ClusterRole
# aggregation controller folds a labeled role into view, edit and admin.
. "$(dirname "$0")/lib.sh"

[ -n "${PLUGINS:-}" ] || ls "$KAPI_BUILDDIR"/registry/rbac/.libs/*.so >/dev/null 2>&1 ||
  { echo "skipped: the rbac registry is not built"; exit 77; }

CM_PID=
stop_cm() {
  if [ -n "$CM_PID" ]; then
    kill "$CM_PID" 2>/dev/null
    wait "$CM_PID" 2>/dev/null
    CM_PID=
  fi
}
trap 'stop_cm; cleanup' EXIT

start_server || exit 1

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

RBAC=/apis/rbac.authorization.k8s.io/v1

# ---- the bootstrap policy ----------------------------------------------------
expect_output "get clusterroles: NAME and CREATED AT" \
  '^NAME +CREATED AT' k get clusterroles
for r in cluster-admin admin edit view system:basic-user system:discovery \
         system:public-info-viewer system:monitoring system:auth-delegator \
         system:kube-scheduler system:kube-controller-manager system:node \
         system:node-proxier system:volume-scheduler \
         system:service-account-issuer-discovery \
         system:controller:replicaset-controller \
         system:controller:clusterrole-aggregation-controller; do
  expect_output "bootstrap clusterrole $r" "^$r " k get clusterroles
done
expect_output "cluster-admin bound to system:masters" \
  '^cluster-admin +ClusterRole/cluster-admin +[0-9a-z]+ +system:masters' \
  k get clusterrolebinding cluster-admin -o wide
expect_output "system:public-info-viewer bound to everyone" \
  'system:authenticated, system:unauthenticated' \
  k get clusterrolebinding system:public-info-viewer -o wide
expect_output "controller roles bound to their service accounts" \
  'kube-system/namespace-controller$' \
  k get clusterrolebinding system:controller:namespace-controller -o wide
expect_output "kube-system leader election roles" \
  'system::leader-locking-kube-scheduler' k get roles -n kube-system
expect_output "kube-system leader election bindings" \
  'Role/system::leader-locking-kube-controller-manager +[0-9a-z]+ +system:kube-controller-manager' \
  k get rolebindings -n kube-system -o wide
req GET "$RBAC/clusterroles/system:kube-scheduler"
jcheck "system:kube-scheduler may renew its lease" \
  '{"verbs":["get","update"],"apiGroups":["coordination.k8s.io"],"resources":["leases"],"resourceNames":["kube-scheduler"]} in b["rules"]'
req GET "$RBAC/clusterroles/admin"
jcheck "admin is stored aggregated, with its labels and annotation" \
  'len(b["rules"]) > 20 and b["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"] == {"rbac.authorization.k8s.io/aggregate-to-admin": "true"} and b["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults" and b["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] == "true"'
expect_output "describe clusterrole view" \
  'pods +\[\] +\[\] +\[get list watch\]' k describe clusterrole view

# ---- kubectl create ----------------------------------------------------------------
check "create role" k create role pod-reader -n default --verb=get,list,watch \
  --resource=pods,deployments.apps
check "create role with resource names" k create role one-secret -n default \
  --verb=get --resource=secrets --resource-name=tls
check "create clusterrole with URLs" k create clusterrole metrics-reader \
  --verb=get --non-resource-url=/metrics,/metrics/*
check "create clusterrole with an aggregation rule" k create clusterrole \
  monitoring --aggregation-rule="rbac.example.com/aggregate-to-monitoring=true"
check "create rolebinding" k create rolebinding readers -n default \
  --role=pod-reader --user=alice --user=bob --group=devs \
  --serviceaccount=default:builder
check "create rolebinding to a clusterrole" k create rolebinding viewers \
  -n default --clusterrole=view --group=auditors
check "create clusterrolebinding" k create clusterrolebinding metrics \
  --clusterrole=metrics-reader --user=carol --serviceaccount=kube-system:prom
expect_output "get rolebinding -o wide: upstream's columns" \
  '^NAME +ROLE +AGE +USERS +GROUPS +SERVICEACCOUNTS' \
  k get rolebinding readers -n default -o wide
expect_output "rolebinding row" \
  '^readers +Role/pod-reader +[0-9a-z]+ +alice, bob +devs +default/builder$' \
  k get rolebinding readers -n default -o wide
expect_output "get rolebinding without -o wide: no subjects" \
  '^readers +Role/pod-reader +[0-9a-z]+$' k get rolebinding readers -n default
expect_output "clusterrolebinding row" \
  '^metrics +ClusterRole/metrics-reader +[0-9a-z]+ +carol +kube-system/prom$' \
  k get clusterrolebinding metrics -o wide
expect_output "describe role" \
  'deployments.apps +\[\] +\[\] +\[get list watch\]' \
  k describe role pod-reader -n default
expect_output "describe role with resource names" \
  'secrets +\[\] +\[tls\] +\[get\]' k describe role one-secret -n default
expect_output "describe clusterrole with URLs" \
  '\[/metrics/\*\] +\[\] +\[get\]' k describe clusterrole metrics-reader
expect_output "describe rolebinding" \
  'ServiceAccount +builder +default' k describe rolebinding readers -n default
expect_output "describe clusterrolebinding" \
  'Name: +metrics-reader' k describe clusterrolebinding metrics
req GET "$RBAC/namespaces/default/rolebindings/readers"
jcheck "rolebinding stored upstream-shaped" \
  'b["roleRef"] == {"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-reader"} and b["subjects"][0] == {"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"} and b["subjects"][3] == {"kind":"ServiceAccount","name":"builder","namespace":"default"}'
# RBAC names are path segments (ValidateRBACName): the host applies that
# rule for name_rule KAPI_NAME_PATH_SEGMENT.
check "names are path segments (colons allowed)" k create clusterrole \
  'example:reader' --verb=get --resource=pods
expect_fail "names may not contain '%'" "may not contain '%'" \
  k create clusterrole 'a%b' --verb=get --resource=pods

# ---- defaults and validation -------------------------------------------------------
req POST "$RBAC/namespaces/default/rolebindings" \
  '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"defaulted"},"roleRef":{"kind":"ClusterRole","name":"view"},"subjects":[{"kind":"User","name":"dave"}]}'
jcheck "roleRef and subject apiGroups defaulted" \
  'code == 201 and b["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io" and b["subjects"][0]["apiGroup"] == "rbac.authorization.k8s.io"'
expect_fail "roleRef cannot change (replace)" \
  'The RoleBinding "readers" is invalid: roleRef: Invalid value: rbac.RoleRef\{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"\}: cannot change roleRef' \
  sh -c "$KUBECTL --cache-dir $T/kcache create rolebinding readers -n default --clusterrole=edit --user=alice --dry-run=client -o json | $KUBECTL --cache-dir $T/kcache replace -f -"
expect_fail "roleRef cannot change (patch)" 'cannot change roleRef' \
  k patch clusterrolebinding metrics -p '{"roleRef":{"name":"view"}}'
check "subjects may change" \
  k patch clusterrolebinding metrics -p '{"subjects":[{"kind":"Group","name":"ops","apiGroup":"rbac.authorization.k8s.io"}]}'
req POST "$RBAC/namespaces/default/roles" \
  '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"bad"},"rules":[{"verbs":["get"],"nonResourceURLs":["/healthz"]},{"apiGroups":[""],"resources":["pods"]}]}'
jcheck "invalid role rules: 422 with upstream's causes" \
  'code == 422 and b["reason"] == "Invalid" and [c["field"] for c in b["details"]["causes"]] == ["rules[0].nonResourceURLs", "rules[1].verbs"] and b["details"]["causes"][0]["message"] == "Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs"'
req POST "$RBAC/clusterrolebindings" \
  '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"bad"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"x"},"subjects":[{"kind":"ServiceAccount","name":"sa"}]}'
jcheck "clusterrolebinding to a Role, account without namespace: 422" \
  'code == 422 and b["message"] == "ClusterRoleBinding.rbac.authorization.k8s.io \"bad\" is invalid: [roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\", subjects[0].namespace: Required value]"'
expect_fail "kubectl: invalid aggregation rule" \
  'not a valid selector operator' sh -c "cat <<'EOF' | $KUBECTL --cache-dir $T/kcache create -f -
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: bad-aggregate}
aggregationRule:
  clusterRoleSelectors:
  - matchExpressions: [{key: a, operator: Near}]
EOF"
expect_fail "unknown fields refused (strict)" 'unknown field "spec"' \
  sh -c "cat <<'EOF' | $KUBECTL --cache-dir $T/kcache create -f -
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: strict, namespace: default}
spec: {}
EOF"

# ---- the aggregation controller ----------------------------------------------------
CM=$KAPI_BUILDDIR/kapi-controller-manager
CRA_SO=${CRA_SO:-$KAPI_BUILDDIR/plugins/controllers/clusterrole-aggregation/.libs/clusterrole-aggregation.so}
if [ -x "$CM" ] && [ -f "$CRA_SO" ]; then
  CTL=$T/plugins-controllers
  mkdir -p "$CTL"
  chmod 755 "$CTL"
  install -m 644 "$CRA_SO" "$CTL/"
  "$CM" --master "$SERVER" --plugin-dir "$CTL" --leader-elect=false \
    --controllers=clusterrole-aggregation -v 2 \
    2>>"$T/controller-manager.log" &
  CM_PID=$!
  has_widgets() { # has_widgets ROLE: ROLE grants get on widgets
    req GET "$RBAC/clusterroles/$1"
    python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))
sys.exit(0 if any("widgets" in r.get("resources", []) for r in b.get("rules") or []) else 1)' "$T/body"
  }
  no_widgets() { ! has_widgets "$1"; }
  # widgets.example.com is not served: kubectl create clusterrole would
  # refuse it, a manifest does not.
  check "create a clusterrole for widgets" sh -c "cat <<'EOF' | $KUBECTL --cache-dir $T/kcache create -f -
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: widget-viewer}
rules:
- {apiGroups: [example.com], resources: [widgets], verbs: [get, list, watch]}
EOF"
  check "label it aggregate-to-view" k label clusterrole widget-viewer \
    rbac.authorization.k8s.io/aggregate-to-view=true
  wait_for "view aggregates it" 10 has_widgets view
  wait_for "edit aggregates it through view" 10 has_widgets edit
  wait_for "admin aggregates it through edit" 10 has_widgets admin
  req GET "$RBAC/clusterroles/view"
  jcheck "written by the aggregation controller" \
    '"clusterrole-aggregation-controller" in [m["manager"] for m in b["metadata"]["managedFields"]]'
  check "aggregate into a new role" k label clusterrole widget-viewer \
    rbac.example.com/aggregate-to-monitoring=true
  wait_for "monitoring gets the rule" 10 has_widgets monitoring
  check "delete the aggregated role" k delete clusterrole widget-viewer
  wait_for "view drops it" 10 no_widgets view
  wait_for "admin drops it" 10 no_widgets admin
  stop_cm
else
  echo "# aggregation controller not built: its checks skipped"
fi

finish
