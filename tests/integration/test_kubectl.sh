#!/usr/bin/env bash
# The walking skeleton driven by the real kubectl: create from YAML,
# get with upstream's columns, -o json/yaml, watch, label, delete,
# validation errors, namespace lifecycle, restart.
. "$(dirname "$0")/lib.sh"

start_server || exit 1

cat >"$T/pod.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: nginx
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80}]
Y
cat >"$T/multi.yaml" <<'Y'
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {kubernetes.io/hostname: node-1}
status:
  conditions:
  - {type: Ready, status: "True"}
  nodeInfo: {kubeletVersion: v1.32.0}
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: team-a
spec:
  containers:
  - {name: db, image: postgres}
Y
cat >"$T/unknown.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: typo}
spec:
  containers: [{name: c, image: busybox}]
  foo: bar
Y
cat >"$T/badname.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: Inv_alid}
spec:
  containers: [{name: c, image: busybox}]
Y
cat >"$T/missing-ns.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: lost, namespace: nowhere}
spec:
  containers: [{name: c, image: busybox}]
Y

expect_output "version reports 1.32" 'Server Version: v1\.32' k version
expect_output "default namespaces exist" 'kube-node-lease +Active' k get namespaces
expect_output "create -f pod" 'pod/nginx created' k create -f "$T/pod.yaml"
k create -f "$T/multi.yaml" >"$T/multi.out" 2>&1
expect_output "create -f multi-document: namespace" 'namespace/team-a created' cat "$T/multi.out"
expect_output "create -f multi-document: node" 'node/node-1 created' cat "$T/multi.out"
expect_output "create -f multi-document: pod" 'pod/db created' cat "$T/multi.out"
expect_output "get pods columns" '^NAME +READY +STATUS +RESTARTS +AGE' k get pods
expect_output "get pods row" '^nginx +0/1 +Pending +0 +[0-9]+s' k get pods
expect_output "get pods -o wide" '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE' k get pods -o wide
expect_output "get nodes" '^node-1 +Ready +<none> +[0-9]+s +v1\.32\.0' k get nodes
expect_output "get pods -A" 'team-a +db' k get pods -A
expect_output "get pod -o json" '"uid": "[0-9a-f-]{36}"' k get pod nginx -o json
expect_output "defaults applied" '"imagePullPolicy": "IfNotPresent"' k get pod nginx -o json
expect_output "get pod -o yaml" 'phase: Pending' k get pod nginx -o yaml
expect_output "get by label" '^nginx ' k get pods -l app=web
expect_output "label" 'pod/nginx labeled' k label pod nginx tier=front
expect_output "label visible" 'tier=front' k get pod nginx --show-labels
expect_fail "unknown field" 'strict decoding error: unknown field "spec.foo"' k create -f "$T/unknown.yaml"
expect_fail "bad name" 'metadata.name: Invalid value: "Inv_alid": a lowercase RFC 1123 subdomain' k create -f "$T/badname.yaml"
expect_fail "missing namespace" 'namespaces "nowhere" not found' k create -f "$T/missing-ns.yaml"
expect_fail "not found" 'pods "nope" not found' k get pod nope

# Watch: ADDED for the current state, then MODIFIED and DELETED.
k get pods --watch --output-watch-events >"$T/watch.out" 2>&1 &
WATCH=$!
sleep 1
k label pod nginx watched=yes >/dev/null
k delete pod nginx >"$T/delete.out" 2>&1
DELETE_RC=$?
sleep 0.5
kill $WATCH 2>/dev/null; wait $WATCH 2>/dev/null
expect_output "watch ADDED" '^ADDED +nginx' cat "$T/watch.out"
expect_output "watch MODIFIED" '^MODIFIED +nginx' cat "$T/watch.out"
expect_output "watch DELETED" '^DELETED +nginx' cat "$T/watch.out"
check "delete returns 0" test "$DELETE_RC" -eq 0
expect_output "delete output" 'pod "nginx" deleted' cat "$T/delete.out"
expect_fail "deleted pod is gone" 'NotFound' k get pod nginx

# Restart on the same data: everything is still there.
stop_server
start_server || exit 1
expect_output "restart keeps pods" '^db ' k get pods -n team-a
expect_output "restart keeps nodes" '^node-1 ' k get nodes
expect_output "restart keeps namespaces" '^team-a +Active' k get ns

finish
