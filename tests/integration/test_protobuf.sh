#!/usr/bin/env bash
# kubectl's typed generators send protobuf bodies
# (application/vnd.kubernetes.protobuf): create namespace, configmap,
# secret, serviceaccount and deployment must succeed and read back as JSON; bodies
# kapi cannot decode answer 400 (malformed) or 415 (kind without schema).
. "$(dirname "$0")/lib.sh"

start_server || exit 1

check "create namespace (protobuf)" k create namespace pb-ns
k get namespace pb-ns -o json >"$T/ns.json" 2>&1
jcheck "namespace reads back" \
  'b["kind"] == "Namespace" and b["metadata"]["name"] == "pb-ns" and b["metadata"]["uid"] and "creationTimestamp" in b["metadata"]' \
  "$T/ns.json"

check "create configmap (protobuf)" k create configmap c --from-literal=a=b
k get configmap c -o json >"$T/cm.json" 2>&1
jcheck "configmap data reads back" \
  'b["kind"] == "ConfigMap" and b["data"] == {"a": "b"} and b["metadata"]["namespace"] == "default"' \
  "$T/cm.json"

check "create secret generic (protobuf)" k create secret generic s --from-literal=k=v
k get secret s -o json >"$T/secret.json" 2>&1
jcheck "secret data is base64" \
  'b["kind"] == "Secret" and b["data"] == {"k": "dg=="} and b["type"] == "Opaque"' \
  "$T/secret.json"

check "create serviceaccount (protobuf)" k create serviceaccount sa -n pb-ns
k get serviceaccount sa -n pb-ns -o json >"$T/sa.json" 2>&1
jcheck "serviceaccount reads back" \
  'b["kind"] == "ServiceAccount" and b["metadata"]["name"] == "sa" and b["metadata"]["namespace"] == "pb-ns"' \
  "$T/sa.json"

check "create configmap in the new namespace" \
  k create configmap c2 -n pb-ns --from-literal=x=1 --from-literal=y=2
k get configmap c2 -n pb-ns -o json >"$T/cm2.json" 2>&1
jcheck "two keys read back" 'b["data"] == {"x": "1", "y": "2"}' "$T/cm2.json"

# apps/v1 Deployment: stored with upstream's defaults (no controller
# rolls it out, so its status stays empty).
check "create deployment (protobuf)" \
  k create deployment web --image=nginx --replicas=2
k get deploy web -o json >"$T/deploy.json" 2>&1
jcheck "deployment reads back with upstream's defaults" \
  'b["kind"] == "Deployment" and b["spec"]["replicas"] == 2 and b["spec"]["selector"] == {"matchLabels": {"app": "web"}} and b["spec"]["template"]["metadata"]["labels"] == {"app": "web"} and b["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx" and b["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always" and b["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}} and b["spec"]["revisionHistoryLimit"] == 10 and b["spec"]["progressDeadlineSeconds"] == 600 and b["metadata"]["generation"] == 1' \
  "$T/deploy.json"
expect_output "get deploy: columns" \
  '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE' k get deploy
expect_output "get deploy: the row" '^web +0/2 +0 +0 +[0-9]+s' k get deploy
expect_output "get deploy -o wide: template columns" \
  '^web +0/2 +0 +0 +[0-9]+s +nginx +nginx +app=web$' \
  k get deploy -o wide
check "scale deploy (the /scale subresource)" \
  k scale deploy web --replicas=3
k get deploy web -o json >"$T/deploy2.json" 2>&1
jcheck "scaled: replicas 3, generation 2" \
  'b["spec"]["replicas"] == 3 and b["metadata"]["generation"] == 2' \
  "$T/deploy2.json"

req POST /api/v1/namespaces/default/configmaps 'k8s' application/vnd.kubernetes.protobuf
jcheck "truncated protobuf body: 400 BadRequest" \
  'code == 400 and b["reason"] == "BadRequest" and "envelope" in b["message"]'

req POST /api/v1/namespaces/default/configmaps '{"kind":"ConfigMap"}' application/vnd.kubernetes.protobuf
jcheck "JSON sent as protobuf: 400 BadRequest" \
  'code == 400 and b["reason"] == "BadRequest" and "magic" in b["message"]'

finish
