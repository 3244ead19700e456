#!/usr/bin/env bash
# The Node authorizer and the NodeRestriction admission plugin over
# HTTPS with the node client certificates of `kapi pki init`
# (--authorization-mode Node,RBAC --enable-admission-plugins
# NodeRestriction): a kubelet reads and writes only its own Node and
# Lease, the pods bound to it and what they use; its writes to other
# nodes, leases and non-mirror pods are refused with upstream's
# messages.  Then a real kapi-kubelet with node n1's certificate
# registers, renews its Lease and runs a pod bound to it.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || { echo "skipped: no openssl"; exit 77; }

PKI_NODES=n1,n2 start_pki_server --authorization-mode Node,RBAC \
  --enable-admission-plugins NodeRestriction --anonymous-auth=false \
  --service-account-signing-key-file "$T/pki/sa.key" || exit 1
P=$T/pki
kc_cert kubelet-n1
kc_cert kubelet-n2

# kn1 ARGS...: kubectl as node n1 (system:node:n1, group system:nodes).
kn1() { "$KUBECTL" --kubeconfig "$T/kc-kubelet-n1" --cache-dir "$T/kcache-n1" "$@" </dev/null; }
kn2() { "$KUBECTL" --kubeconfig "$T/kc-kubelet-n2" --cache-dir "$T/kcache-n2" "$@" </dev/null; }

# nreq METHOD PATH [BODY [CONTENT-TYPE]]: one request as node n1; the
# body goes to $T/body, the status to $CODE.
nreq() {
  local m=$1 p=$2
  rm -f "$T/body"
  if [ $# -ge 3 ]; then
    CODE=$(curl -sS -o "$T/body" -w '%{http_code}' -X "$m" --cacert "$P/ca.crt" \
      --cert "$P/kubelet-n1.crt" --key "$P/kubelet-n1.key" \
      -H "Content-Type: ${4:-application/json}" --data-binary "$3" "$SERVER$p")
  else
    CODE=$(curl -sS -o "$T/body" -w '%{http_code}' -X "$m" --cacert "$P/ca.crt" \
      --cert "$P/kubelet-n1.crt" --key "$P/kubelet-n1.key" "$SERVER$p")
  fi
}

manifest() { cat >"$T/$1.yaml"; }

expect_output "n1's certificate is system:node:n1 in system:nodes" \
  '^system:node:n1 \["system:nodes","system:authenticated"\]$' \
  kn1 auth whoami -o 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'

# A node's rights depend on objects, not rules: its rules review says so.
nreq POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews \
  '{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview","spec":{"namespace":"default"}}'
jcheck "n1's rules review is incomplete, as upstream's" \
  'code == 201 and b["status"]["incomplete"] is True and "node authorizer does not support user rule resolution" in b["status"].get("evaluationError", "")'

# ---- nodes: register itself, nobody else --------------------------------
manifest node-n1 <<EOF
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {kubernetes.io/hostname: n1, kubernetes.io/os: linux}
EOF
manifest node-n2 <<EOF
apiVersion: v1
kind: Node
metadata: {name: n2}
EOF
check "n1 registers its own Node" kn1 create -f "$T/node-n1.yaml"
expect_fail "n1 cannot register n2 (NodeRestriction)" \
  'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"' \
  kn1 create -f "$T/node-n2.yaml"
check "n2 registers its own Node" kn2 create -f "$T/node-n2.yaml"

check "n1 gets its own Node" kn1 get node n1
expect_fail "n1 cannot get n2" \
  'nodes "n2" is forbidden: User "system:node:n1" cannot get resource "nodes" in API group "" at the cluster scope: node .n1. cannot read .n2., only its own Node object' \
  kn1 get node n2
expect_fail "n1 cannot list all nodes" \
  'User "system:node:n1" cannot list resource "nodes" in API group "" at the cluster scope: node .n1. cannot read all nodes, only its own Node object' \
  kn1 get nodes
expect_output "n1 lists its own Node by metadata.name" '^n1 ' \
  kn1 get nodes --field-selector metadata.name=n1 --no-headers
nreq GET "/api/v1/nodes?fieldSelector=metadata.name%3Dn1&watch=true&timeoutSeconds=1"
jcheck "n1 watches its own Node by metadata.name" \
  'code == 200 and any(e.get("object", {}).get("metadata", {}).get("name") == "n1" for e in ev)'
nreq GET "/api/v1/nodes?fieldSelector=metadata.name%3Dn2&watch=true&timeoutSeconds=1"
jcheck "n1 cannot watch n2" 'code == 403'

# As the kubelet does it: a merge patch, no read first (kubectl patch
# --subresource status reads nodes/status, which no node may).
MERGE=application/merge-patch+json
nreq PATCH /api/v1/nodes/n1/status \
  '{"status":{"conditions":[{"type":"Ready","status":"False","reason":"Test"}]}}' $MERGE
jcheck "n1 patches its own status" 'code == 200 and b["status"]["conditions"][0]["reason"] == "Test"'
check "n1 sets an ordinary label on itself" kn1 label node n1 example.com/rack=r1
# kubectl label reads the node first, which n1 may not for n2: the
# PATCH itself reaches NodeRestriction.
nreq PATCH /api/v1/nodes/n2 '{"metadata":{"labels":{"foo":"bar"}}}' $MERGE
jcheck "n1 cannot label n2 (NodeRestriction)" \
  'code == 403 and b["reason"] == "Forbidden" and b["message"] == "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\"" and b["details"]["name"] == "n2" and b["details"]["kind"] == "nodes"'
nreq PATCH /api/v1/nodes/n2/status '{"status":{"phase":"x"}}' $MERGE
jcheck "n1 cannot patch n2's status (NodeRestriction)" \
  'code == 403 and b["message"] == "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\""'
expect_fail "n1 cannot give itself a restricted label" \
  'nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/master' \
  kn1 label node n1 node-role.kubernetes.io/master=
expect_fail "n1 cannot taint itself" \
  'nodes "n1" is forbidden: node "n1" is not allowed to modify taints' \
  kn1 taint node n1 k=v:NoSchedule
expect_fail "n1 cannot delete its Node (no node rule)" \
  'User "system:node:n1" cannot delete resource "nodes"' kn1 delete node n1

# ---- pods ------------------------------------------------------------------
manifest pods <<EOF
apiVersion: v1
kind: Secret
metadata: {name: s1}
stringData: {k: v}
---
apiVersion: v1
kind: Secret
metadata: {name: s2}
stringData: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm1}
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata: {name: p1}
spec:
  nodeName: n1
  serviceAccountName: default
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "exec sleep 600"]
    envFrom: [{configMapRef: {name: cm1}}]
  volumes:
  - {name: s, secret: {secretName: s1}}
---
apiVersion: v1
kind: Pod
metadata: {name: p2}
spec:
  nodeName: n2
  containers: [{name: c, image: busybox}]
  volumes:
  - {name: s, secret: {secretName: s2}}
EOF
# With the ServiceAccount admission plugin pods need their account.
k create serviceaccount default >/dev/null 2>&1
check "the admin creates pods bound to n1 and n2" k create -f "$T/pods.yaml"

check "n1 gets a pod bound to it" kn1 get pod p1
expect_fail "n1 cannot get a pod bound to n2" \
  'pods "p2" is forbidden: User "system:node:n1" cannot get resource "pods" in API group "" in the namespace "default": no relationship found between node .n1. and this object' \
  kn1 get pod p2
expect_fail "n1 cannot list pods without a field selector" \
  'cannot list resource "pods" in API group "" in the namespace "default": can only list/watch pods with spec.nodeName field selector' \
  kn1 get pods
expect_output "n1 lists its pods with --field-selector spec.nodeName=n1" '^p1 ' \
  kn1 get pods --field-selector spec.nodeName=n1 --no-headers
if kn1 get pods -A --field-selector spec.nodeName=n1 --no-headers 2>&1 | grep -q p2; then
  not_ok "n1's list holds only its pods"; else ok "n1's list holds only its pods"; fi
expect_fail "n1 cannot list n2's pods" 'can only list/watch pods with spec.nodeName field selector' \
  kn1 get pods --field-selector spec.nodeName=n2
nreq PATCH /api/v1/namespaces/default/pods/p1/status '{"status":{"message":"mine"}}' $MERGE
jcheck "n1 patches the status of its pod" 'code == 200 and b["status"]["message"] == "mine"'
nreq PATCH /api/v1/namespaces/default/pods/p2/status '{"status":{"message":"mine"}}' $MERGE
jcheck "n1 cannot patch the status of n2's pod" \
  'code == 403 and b["message"] == "pods \"p2\" is forbidden: User \"system:node:n1\" cannot patch resource \"pods/status\" in API group \"\" in the namespace \"default\": no relationship found between node %sn1%s and this object" % (chr(39), chr(39))'
expect_fail "n1 cannot delete n2's pod" 'pods "p2" is forbidden' \
  kn1 delete pod p2 --wait=false
expect_fail "n1 cannot change its pod's spec" 'pods "p1" is forbidden' \
  kn1 label pod p1 a=b

# What the pods use.
check "n1 reads a secret its pod mounts" kn1 get secret s1
check "n1 reads a configmap its pod uses" kn1 get configmap cm1
expect_fail "n1 cannot read a secret of n2's pod" \
  'secrets "s2" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node .n1. and this object' \
  kn1 get secret s2
expect_fail "n1 cannot list secrets" 'cannot list resource "secrets"' kn1 get secrets

# Service account tokens: for the account of a pod of its own, bound to
# that pod.
P1_UID=$(k get pod p1 -o 'jsonpath={.metadata.uid}')
P2_UID=$(k get pod p2 -o 'jsonpath={.metadata.uid}')
token_for() { # POD UID
  printf '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"audiences":["a"],"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"%s","uid":"%s"}}}' "$1" "$2"
}
nreq POST /api/v1/namespaces/default/serviceaccounts/default/token "$(token_for p1 "$P1_UID")"
jcheck "n1 gets a token for its pod's service account" \
  'code == 201 and b["status"]["token"].count(".") == 2'
nreq POST /api/v1/namespaces/default/serviceaccounts/default/token "$(token_for p2 "$P2_UID")"
jcheck "n1 cannot get a token bound to n2's pod (NodeRestriction)" \
  'code == 403 and re.fullmatch(r"serviceaccounts \"\w+\" is forbidden: node requested token bound to a pod scheduled on a different node", b["message"])'
nreq POST /api/v1/namespaces/default/serviceaccounts/default/token \
  '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"audiences":["a"]}}'
jcheck "n1 cannot get an unbound token (NodeRestriction)" \
  'code == 403 and b["message"].endswith("is forbidden: node requested token not bound to a pod")'
k create serviceaccount other >/dev/null 2>&1
nreq POST /api/v1/namespaces/default/serviceaccounts/other/token "$(token_for p1 "$P1_UID")"
jcheck "n1 cannot get a token for an account no pod of its own uses" \
  'code == 403 and b["message"].endswith("cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace \"default\": no relationship found between node %sn1%s and this object" % (chr(39), chr(39)))'

# Mirror pods only, bound to itself and owned by its Node.
manifest plain-pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  nodeName: n1
  containers: [{name: c, image: busybox}]
EOF
expect_fail "n1 cannot create a non-mirror pod (NodeRestriction)" \
  'pods "plain" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods' \
  kn1 create -f "$T/plain-pod.yaml"
N1_UID=$(kn1 get node n1 -o 'jsonpath={.metadata.uid}')
mirror() { # NAME NODE
  manifest "$1" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  annotations: {kubernetes.io/config.mirror: "hash"}
  ownerReferences:
  - {apiVersion: v1, kind: Node, name: n1, uid: "$N1_UID", controller: true}
spec:
  nodeName: $2
  containers: [{name: c, image: busybox}]
EOF
}
mirror static-n1 n1
check "n1 creates a mirror pod bound to itself" kn1 create -f "$T/static-n1.yaml"
mirror static-n2 n2
expect_fail "n1 cannot create a mirror pod bound to n2" \
  'pods "static-n2" is forbidden: node "n1" can only create pods with spec.nodeName set to itself' \
  kn1 create -f "$T/static-n2.yaml"
check "n1 deletes its mirror pod" kn1 delete pod static-n1 --wait=false

# ---- leases ----------------------------------------------------------------
lease() { # NAME
  manifest "lease-$1" <<EOF
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: $1, namespace: kube-node-lease}
spec: {holderIdentity: $1, leaseDurationSeconds: 40}
EOF
}
lease n1
lease n2
check "n1 creates its Lease" kn1 create -f "$T/lease-n1.yaml"
check "n1 updates its Lease" kn1 -n kube-node-lease patch lease n1 --type merge \
  -p '{"spec":{"renewTime":"2026-01-01T00:00:00.000000Z"}}'
expect_fail "n1 cannot create n2's Lease (NodeRestriction)" \
  'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node' \
  kn1 create -f "$T/lease-n2.yaml"
check "n2 creates its Lease" kn2 create -f "$T/lease-n2.yaml"
nreq PATCH /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2 \
  '{"spec":{"holderIdentity":"x"}}' $MERGE
jcheck "n1 cannot update n2's Lease" \
  'code == 403 and b["message"] == "leases.coordination.k8s.io \"n2\" is forbidden: User \"system:node:n1\" cannot patch resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"kube-node-lease\": can only access node lease with the same name as the requesting node"'
expect_fail "n1 cannot read n2's Lease" \
  'cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-node-lease": can only access node lease with the same name as the requesting node' \
  kn1 -n kube-node-lease get lease n2
expect_fail "n1 cannot read leases elsewhere" \
  'can only access leases in the "kube-node-lease" system namespace' \
  kn1 -n default get lease n1

# Events (static node rules), and no opinion on the rest.
manifest event <<EOF
apiVersion: v1
kind: Event
metadata: {name: n1.test}
involvedObject: {kind: Node, name: n1}
reason: Test
message: hello
type: Normal
EOF
check "n1 records an event" kn1 create -f "$T/event.yaml"
expect_fail "n1 cannot read namespaces" 'cannot list resource "namespaces"' \
  kn1 get namespaces

# ---- a real kubelet with n1's certificate ------------------------------------
KUBELET=$KAPI_BUILDDIR/kapi-kubelet
RUNTIMES=$T/runtime
mkdir -p "$RUNTIMES" && chmod 755 "$RUNTIMES"
for f in "$KAPI_BUILDDIR"/plugins/runtime/*/.libs/*.so; do install -m 644 "$f" "$RUNTIMES/"; done
"$KUBELET" --kubeconfig "$T/kc-kubelet-n1" --hostname-override n1 \
  --plugin-dir "$RUNTIMES" --runtime process --root-dir "$T/kubelet" \
  --node-status-update-frequency 1s -v 2 2>>"$T/kubelet.log" &
CLUSTER_PIDS="$CLUSTER_PIDS $!"

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
node_ready() { k get nodes n1 --no-headers | grep -Eq '^n1 +Ready '; }
wait_for "the kubelet of n1 reports its Node Ready" 30 node_ready
lease_renewed() { [ "$(k -n kube-node-lease get lease n1 -o 'jsonpath={.spec.renewTime}')" != 2026-01-01T00:00:00.000000Z ]; }
wait_for "the kubelet renews its Lease" 30 lease_renewed

manifest runner <<EOF
apiVersion: v1
kind: Pod
metadata: {name: runner}
spec:
  nodeName: n1
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "exec sleep 600"]
EOF
check "the admin creates a pod bound to n1" k create -f "$T/runner.yaml"
running() { [ "$(k get pod runner -o 'jsonpath={.status.phase}')" = Running ]; }
wait_for "the pod bound to n1 becomes Running under Node,RBAC" 30 running
check "the admin deletes it" k delete pod runner --wait=false
gone() { ! k get pod runner >/dev/null 2>&1; }
wait_for "the kubelet stops it and deletes it for good" 30 gone
if grep -Eq 'forbidden|Forbidden' "$T/kubelet.log"; then
  not_ok "the kubelet was never refused"; grep -E 'forbidden|Forbidden' "$T/kubelet.log" | head -5 | sed 's/^/    /'
else ok "the kubelet was never refused"; fi

finish
