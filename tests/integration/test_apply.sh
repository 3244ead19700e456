#!/usr/bin/env bash
# Server-side apply and managedFields with the real kubectl: apply creates
# and updates, managedFields name their managers, a field another manager
# changed conflicts until --force-conflicts; plus the wire errors.
. "$(dirname "$0")/lib.sh"

start_server || exit 1
write_kubeconfig

cm_yaml() { # REPLICAS LABEL
  cat <<Y
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web
  labels:
    app: web
$( [ -n "$2" ] && echo "    extra: \"$2\"" )
spec:
  replicas: $1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx
Y
}

cm_yaml 1 x >"$T/rs.yaml"
expect_output "apply --server-side creates" 'replicaset.apps/web serverside-applied' \
  k apply --server-side -f "$T/rs.yaml"
cm_yaml 2 "" >"$T/rs.yaml"
expect_output "re-apply with a change" 'replicaset.apps/web serverside-applied' \
  k apply --server-side -f "$T/rs.yaml"
expect_output "replicas changed" '^2$' k get rs web -o 'jsonpath={.spec.replicas}'
req GET /apis/apps/v1/namespaces/default/replicasets/web
jcheck "label no longer applied is removed" 'b["metadata"]["labels"] == {"app": "web"}'
expect_output "managedFields: kubectl Apply" 'manager: kubectl$' \
  k get rs web -o yaml --show-managed-fields
expect_output "managedFields: operation Apply" 'operation: Apply' \
  k get rs web -o yaml --show-managed-fields
expect_output "managedFields: merge-keyed container" 'k:\{"name":"nginx"\}' \
  k get rs web -o yaml --show-managed-fields

# kubectl scale sends no fieldManager: the user agent's "kubectl" updates.
check "kubectl scale by another manager" k scale rs web --replicas=4
cm_yaml 3 "" >"$T/rs.yaml"
expect_fail "apply over a field another manager set conflicts" \
  'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1 at [0-9TZ:-]+: \.spec\.replicas' \
  k apply --server-side -f "$T/rs.yaml"
expect_output "conflict left the object alone" '^4$' k get rs web -o 'jsonpath={.spec.replicas}'
expect_output "--force-conflicts wins" 'serverside-applied' \
  k apply --server-side --force-conflicts -f "$T/rs.yaml"
expect_output "forced value stored" '^3$' k get rs web -o 'jsonpath={.spec.replicas}'

cat >"$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: p1, labels: {app: p}}
spec:
  containers: [{name: c, image: busybox}]
Y
check "kubectl create" k create -f "$T/pod.yaml"
req GET /api/v1/namespaces/default/pods/p1
jcheck "create records kubectl-create Update" \
  'any(m["manager"] == "kubectl-create" and m["operation"] == "Update" and m["fieldsType"] == "FieldsV1" and "f:app" in m["fieldsV1"]["f:metadata"]["f:labels"] for m in b["metadata"]["managedFields"])'
check "kubectl label" k label pod p1 tier=x
req GET /api/v1/namespaces/default/pods/p1
jcheck "label records kubectl-label owning the new label" \
  'any(m["manager"] == "kubectl-label" and "f:tier" in m["fieldsV1"]["f:metadata"]["f:labels"] for m in b["metadata"]["managedFields"])'

AP=application/apply-patch+yaml
req PATCH /api/v1/namespaces/default/pods/p1 '{"metadata":{"labels":{"a":"b"}}}' $AP
jcheck "apply without fieldManager: 422" \
  'code == 422 and b["message"] == "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"'
req PATCH '/api/v1/namespaces/default/pods/p1?fieldManager=m' "$(printf 'metadata:\n  labels:\n    tier: y\n')" $AP
jcheck "YAML apply conflicts: 409 with causes" \
  'code == 409 and b["reason"] == "Conflict" and b["message"].startswith("Apply failed with 1 conflict: conflict with \"kubectl-label\" using v1 at ") and b["message"].endswith(": .metadata.labels.tier") and b["details"]["causes"][0]["reason"] == "FieldManagerConflict"'
req PATCH '/api/v1/namespaces/default/pods/p2?fieldManager=m' \
  '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p2"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}' $AP
jcheck "apply creates a missing object: 201" \
  'code == 201 and b["metadata"]["managedFields"][0]["manager"] == "m" and b["metadata"]["managedFields"][0]["operation"] == "Apply"'

finish
