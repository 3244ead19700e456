#!/usr/bin/env bash
# ConfigMaps, Secrets and ServiceAccounts through the real kubectl
# (create -f, stringData as base64 data, upstream's columns, `get all`
# categories) and PartialObjectMetadata answers for get, list and watch.
. "$(dirname "$0")/lib.sh"

start_server || exit 1

cat >"$T/kinds.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
  level: "3"
binaryData:
  blob: AAEC
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  username: admin
  password: s3cret
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
secrets:
- name: creds
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - {name: c, image: nginx}
Y

check "kubectl create -f a ConfigMap, a Secret, a ServiceAccount" \
  k create -f "$T/kinds.yaml"

k get secret creds -o json >"$T/secret.json" 2>&1
jcheck "stringData is stored as base64 data" \
  'b["data"] == {"username": "YWRtaW4=", "password": "czNjcmV0"}' "$T/secret.json"
jcheck "stringData is not stored; type defaults to Opaque" \
  '"stringData" not in b and b["type"] == "Opaque"' "$T/secret.json"

expect_output "kubectl get cm: NAME DATA AGE" '^NAME +DATA +AGE' k get cm
expect_output "kubectl get cm: data and binaryData count" '^settings +3 +[0-9]+s' k get cm
expect_output "kubectl get secret: NAME TYPE DATA AGE" '^NAME +TYPE +DATA +AGE' k get secret
expect_output "kubectl get secret: a row" '^creds +Opaque +2 +[0-9]+s' k get secret
expect_output "kubectl get sa: NAME SECRETS AGE" '^NAME +SECRETS +AGE' k get sa
expect_output "kubectl get sa: a row" '^builder +1 +[0-9]+s' k get sa
expect_output "kubectl get cm,secret,sa: every kind" '^serviceaccount/builder +1 ' \
  k get cm,secret,sa
expect_output "kubectl get cm,secret,sa: configmaps" '^configmap/settings +3 ' \
  k get cm,secret,sa
expect_output "kubectl get secret --field-selector type=Opaque" '^creds ' \
  k get secret --field-selector type=Opaque
expect_output "kubectl get secret --field-selector of another type" 'No resources found' \
  k get secret --field-selector type=kubernetes.io/tls

k get all >"$T/all.out" 2>&1
check "kubectl get all lists pods" grep -Eq '^pod/web ' "$T/all.out"
check "kubectl get all does not list configmaps, secrets, serviceaccounts" \
  bash -c "! grep -Eq '^(configmap|secret|serviceaccount)/' '$T/all.out'"
expect_output "discovery: replicasets are in the all category" '"all"' \
  curl -sS "$SERVER/apis/apps/v1"

req POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"bad"},"data":{"a b":"1"}}'
jcheck "a config key with a space is refused" \
  'code == 422 and b["message"].startswith("ConfigMap \"bad\" is invalid: data[a b]: Invalid value: \"a b\": a valid config key")'
req POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"bad"},"data":{"k":"1"},"binaryData":{"k":"AA=="}}'
jcheck "a key in both data and binaryData is refused" \
  'code == 422 and "data[k]: Invalid value: \"k\": duplicate of key present in binaryData" in b["message"]'
cat >"$T/immutable.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: frozen
immutable: true
data:
  a: "1"
Y
check "an immutable ConfigMap" k create -f "$T/immutable.yaml"
expect_fail "an immutable ConfigMap's data cannot change" \
  'data: Forbidden: field is immutable when `immutable` is set' \
  k patch cm frozen -p '{"data":{"a":"2"}}'
expect_fail "a Secret's type cannot change" 'type: Invalid value: "kubernetes.io/tls": field is immutable' \
  k patch secret creds -p '{"type":"kubernetes.io/tls"}'

# ---- PartialObjectMetadata ------------------------------------------------

PARTIAL='application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json'
PARTIAL_LIST='application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json'
CM=/api/v1/namespaces/default/configmaps

curl -sS -H "Accept: $PARTIAL" "$SERVER$CM/settings" >"$T/body"
jcheck "get as PartialObjectMetadata" \
  'b["kind"] == "PartialObjectMetadata" and b["apiVersion"] == "meta.k8s.io/v1" and sorted(b) == ["apiVersion", "kind", "metadata"] and b["metadata"]["name"] == "settings" and b["metadata"]["uid"]'

curl -sS -H "Accept: $PARTIAL_LIST" "$SERVER$CM" >"$T/body"
jcheck "list as PartialObjectMetadataList" \
  'b["kind"] == "PartialObjectMetadataList" and b["apiVersion"] == "meta.k8s.io/v1" and b["metadata"]["resourceVersion"] and sorted(i["metadata"]["name"] for i in b["items"]) == ["frozen", "settings"]'
jcheck "list items are PartialObjectMetadata without data" \
  'all(i["kind"] == "PartialObjectMetadata" and i["apiVersion"] == "meta.k8s.io/v1" and "data" not in i for i in b["items"])'
curl -sS -H "Accept: $PARTIAL_LIST" "$SERVER$CM?limit=1" >"$T/body"
jcheck "paged PartialObjectMetadataList carries continue" \
  'len(b["items"]) == 1 and b["metadata"]["continue"] and b["metadata"]["remainingItemCount"] == 1'

curl -sS -H "Accept: application/json" "$SERVER$CM/settings" >"$T/body"
jcheck "plain JSON is still the whole object" 'b["kind"] == "ConfigMap" and b["data"]["mode"] == "fast"'
curl -sS -H "Accept: application/json;as=Table;g=meta.k8s.io;v=v1,$PARTIAL" "$SERVER$CM/settings" >"$T/body"
jcheck "a Table listed first wins" 'b["kind"] == "Table"'

curl -sS --max-time 10 -H "Accept: $PARTIAL" \
  "$SERVER$CM?watch=1&timeoutSeconds=1" >"$T/watch.out"
jcheck "watch as PartialObjectMetadata" \
  'len(ev) == 2 and all(e["type"] == "ADDED" and e["object"]["kind"] == "PartialObjectMetadata" and e["object"]["apiVersion"] == "meta.k8s.io/v1" and "data" not in e["object"] for e in ev)' \
  "$T/watch.out"
curl -sS --max-time 10 -H "Accept: $PARTIAL" \
  "$SERVER$CM?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dsettings" >"$T/watch.out"
jcheck "filtered watch as PartialObjectMetadata" \
  'len(ev) == 1 and ev[0]["object"]["kind"] == "PartialObjectMetadata" and ev[0]["object"]["metadata"]["name"] == "settings"' \
  "$T/watch.out"

finish
