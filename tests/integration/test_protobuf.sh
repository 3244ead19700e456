#!/usr/bin/env bash
# kubectl's typed generators send protobuf bodies
# (application/vnd.kubernetes.protobuf): create namespace, configmap,
# secret and serviceaccount must succeed and read back as JSON; bodies
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

req POST /api/v1/namespaces/default/configmaps 'k8s' application/vnd.kubernetes.protobuf
jcheck "truncated protobuf body: 400 BadRequest" \
  'code == 400 and b["reason"] == "BadRequest" and "envelope" in b["message"]'

req POST /api/v1/namespaces/default/configmaps '{"kind":"ConfigMap"}' application/vnd.kubernetes.protobuf
jcheck "JSON sent as protobuf: 400 BadRequest" \
  'code == 400 and b["reason"] == "BadRequest" and "magic" in b["message"]'

finish
