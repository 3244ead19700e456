#!/usr/bin/env bash
# The cluster ./scripts/up starts: TLS everywhere, every component with
# its own certificate from `kapi pki init`, Node,RBAC authorization, the
# default admission plugins plus NodeRestriction, service-account tokens.
# The control loop must work under those rules, and the rules must hold.
SERVER_ADMISSION= # all default admission plugins, ServiceAccount included
. "$(dirname "$0")/lib.sh"

for d in kapi kapi-controller-manager kapi-scheduler kapi-kubelet; do
  [ -x "$KAPI_BUILDDIR/$d" ] || { echo "skipped: $d not built"; exit 77; }
done
for p in authz/rbac authz/node registry/rbac; do
  ls "$KAPI_BUILDDIR"/$p*/.libs/*.so >/dev/null 2>&1 ||
    { echo "skipped: $p not built"; exit 77; }
done

NODE=node-1
PKI_NODES=$NODE start_pki_server --authorization-mode Node,RBAC \
  --enable-admission-plugins NodeRestriction \
  --service-account-signing-key-file "$T/pki/sa.key" \
  --service-account-key-file "$T/pki/sa.pub" || exit 1

# Each component with its own kubeconfig, pointed at this server.
component_kc() { # component_kc CERT-BASENAME OUT
  kc_cert "$1"
  cp "$T/kc-$1" "$2"
}
component_kc kube-controller-manager "$T/cm.kubeconfig"
component_kc kube-scheduler "$T/sched.kubeconfig"
component_kc "kubelet-$NODE" "$T/kubelet.kubeconfig"

for d in controllers sched-plugins runtime; do mkdir -p "$T/plugins-$d"; done
install -m 644 "$KAPI_BUILDDIR"/plugins/controllers/*/.libs/*.so "$T/plugins-controllers/"
install -m 644 "$KAPI_BUILDDIR"/sched-plugins/*/.libs/*.so "$T/plugins-sched-plugins/"
install -m 644 "$KAPI_BUILDDIR"/plugins/runtime/*/.libs/*.so "$T/plugins-runtime/"
chmod 755 "$T"/plugins-*
"$KAPI_BUILDDIR/kapi-controller-manager" --kubeconfig "$T/cm.kubeconfig" \
  --plugin-dir "$T/plugins-controllers" 2>>"$T/controller-manager.log" &
CLUSTER_PIDS="$CLUSTER_PIDS $!"
"$KAPI_BUILDDIR/kapi-scheduler" --kubeconfig "$T/sched.kubeconfig" \
  --no-default-plugins --plugin-dir "$T/plugins-sched-plugins" \
  2>>"$T/scheduler.log" &
CLUSTER_PIDS="$CLUSTER_PIDS $!"
"$KAPI_BUILDDIR/kapi-kubelet" --kubeconfig "$T/kubelet.kubeconfig" \
  --hostname-override "$NODE" --runtime process \
  --plugin-dir "$T/plugins-runtime" --root-dir "$T/kubelet" \
  2>>"$T/kubelet.log" &
CLUSTER_PIDS="$CLUSTER_PIDS $!"

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
running() { [ "$(k get pods -l app=web --field-selector status.phase=Running -o name | wc -l)" -eq "$1" ]; }

wait_for "the kubelet registers its node under Node,RBAC" 20 \
  sh -c "$KUBECTL --cache-dir $T/kcache get node $NODE | grep -q Ready"
wait_for "the serviceaccount controller creates default" 20 \
  k get serviceaccount default -n default

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
      containers: [{name: c, image: busybox, command: ["sleep", "3600"]}]
Y
check "admin creates a ReplicaSet" k create -f "$T/rs.yaml"
wait_for "2 pods Running: controller-manager, scheduler, kubelet all authorized" 40 running 2
pod=$(k get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
expect_output "ServiceAccount admission defaulted the account" '^default$' \
  k get pod "$pod" -o jsonpath='{.spec.serviceAccountName}'
expect_output "DefaultTolerationSeconds added its tolerations" 'not-ready' \
  k get pod "$pod" -o jsonpath='{.spec.tolerations[*].key}'

# ---- the rules hold ---------------------------------------------------------
export KUBECONFIG=$T/kubelet.kubeconfig
expect_fail "the kubelet cannot list every pod" \
  "User \"system:node:$NODE\" cannot list resource \"pods\"" k get pods -A
expect_fail "the kubelet cannot create a RoleBinding" 'forbidden' \
  k create rolebinding x --clusterrole=admin --user=me
export KUBECONFIG=$T/kc-kube-scheduler
expect_fail "the scheduler cannot create namespaces" "forbidden" k create namespace sched-ns
export KUBECONFIG=$T/kc-admin

TOKEN=$(k create token default -n default --duration 10m)
kc_token sa "$TOKEN"
expect_output "a service-account token authenticates" \
  'system:serviceaccount:default:default' \
  "$KUBECTL" --kubeconfig "$T/kc-sa" auth whoami
expect_fail "... and holds no rights by default" 'forbidden' \
  "$KUBECTL" --kubeconfig "$T/kc-sa" get pods
curl -sS --cacert "$T/pki/ca.crt" -o "$T/body" -w '%{http_code}' \
  "$SERVER/api/v1/namespaces" >"$T/code"
CODE=$(cat "$T/code")
jcheck "anonymous requests are 403 under RBAC" \
  'code == 403 and "system:anonymous" in b["message"]'
curl -sS --cacert "$T/pki/ca.crt" -o "$T/body" -w '%{http_code}' \
  "$SERVER/version" >"$T/code"
CODE=$(cat "$T/code")
jcheck "/version stays public (system:public-info-viewer)" \
  'code == 200 and b["gitVersion"].startswith("v1.32")'

check "delete the ReplicaSet" k delete rs web
wait_for "its pods are gone (GC under RBAC)" 40 \
  sh -c "[ -z \"\$($KUBECTL --cache-dir $T/kcache get pods -l app=web -o name)\" ]"
for f in controller-manager scheduler kubelet; do
  if grep -q 'forbidden' "$T/$f.log"; then
    not_ok "$f logged no authorization refusals"; grep forbidden "$T/$f.log" | head -5
  else ok "$f logged no authorization refusals"; fi
done
finish
