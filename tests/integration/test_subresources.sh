#!/usr/bin/env bash
# What the control loop needs from the apiserver: ReplicaSets with
# /scale and /status, pods/binding, delete propagation finalizers,
# deletecollection, namespace finalize, events and leases, and the
# discovery documents that announce them; driven by curl and kubectl.
. "$(dirname "$0")/lib.sh"

start_server || exit 1

RS=/apis/apps/v1/namespaces/default/replicasets
PODS=/api/v1/namespaces/default/pods

# rs NAME [LABELS-JSON]: a ReplicaSet selecting app=NAME.
rs() {
  local labels=${2:-'{}'}
  printf '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"%s","labels":%s},"spec":{"selector":{"matchLabels":{"app":"%s"}},"template":{"metadata":{"labels":{"app":"%s"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}' \
    "$1" "$labels" "$1" "$1"
}
pod() {
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}' "$1"
}
eviction() {
  printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"%s","namespace":"default"}%s}' "$1" "${2:-}"
}
binding() {
  printf '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"%s"%s},"target":{"kind":"Node","name":"%s"}}' "$1" "${3:-}" "$2"
}

cat >"$T/rs.yaml" <<'Y'
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-rs
spec:
  replicas: 2
  selector:
    matchLabels: {app: web-rs}
  template:
    metadata:
      labels: {app: web-rs}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.27"}
Y

# ---- ReplicaSets ----------------------------------------------------------

expect_output "kubectl create -f rs.yaml" '^replicaset.apps/web-rs created$' k create -f "$T/rs.yaml"
expect_output "get rs columns" '^NAME +DESIRED +CURRENT +READY +AGE$' k get rs
expect_output "get rs row" '^web-rs +2 +0 +0 +[0-9]+s$' k get rs
expect_output "get rs -o wide" '^web-rs +2 +0 +0 +[0-9]+s +nginx +nginx:1\.27 +app=web-rs$' k get rs -o wide
expect_output "get all lists replicasets" 'replicaset.apps/web-rs' k get all

req GET $RS/web-rs
jcheck "create: generation 1, status reset" 'b["metadata"]["generation"] == 1 and b["status"] == {"replicas": 0}'
jcheck "create: template defaults" 'b["spec"]["template"]["spec"]["restartPolicy"] == "Always" and b["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"'

req POST $RS "$(rs one)"
jcheck "replicas default to 1" 'code == 201 and b["spec"]["replicas"] == 1'
req POST $RS '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"bad"},"spec":{"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}'
jcheck "selector not matching the template: 422" 'code == 422 and "spec.template.metadata.labels: Invalid value" in b["message"] and "`selector` does not match template `labels`" in b["message"]'
req POST $RS '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"bad"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x"}]}}}}'
jcheck "missing selector: 422 spec.selector Required" 'code == 422 and b["message"].startswith("ReplicaSet.apps \"bad\" is invalid: ") and "spec.selector: Required value" in b["message"]'
req PATCH $RS/one '{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}' application/merge-patch+json
jcheck "selector is immutable" 'code == 422 and "spec.selector: Invalid value" in b["message"] and "field is immutable" in b["message"]'

# ---- /scale -------------------------------------------------------------

req GET $RS/web-rs/scale
jcheck "GET scale: an autoscaling/v1 Scale" 'code == 200 and b["kind"] == "Scale" and b["apiVersion"] == "autoscaling/v1"'
jcheck "GET scale: shape" 'b["spec"] == {"replicas": 2} and b["status"] == {"replicas": 0, "selector": "app=web-rs"} and set(b["metadata"]) == {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}'
expect_output "kubectl scale --replicas=3" 'replicaset.apps/web-rs scaled' k scale rs web-rs --replicas=3
req GET $RS/web-rs
jcheck "scale wrote spec.replicas and bumped generation" 'b["spec"]["replicas"] == 3 and b["metadata"]["generation"] == 2'
expect_output "kubectl scale --current-replicas (GET + PUT)" 'replicaset.apps/web-rs scaled' k scale rs web-rs --current-replicas=3 --replicas=5
req GET $RS/web-rs/scale
jcheck "scale PUT applied" 'b["spec"]["replicas"] == 5'
expect_fail "kubectl scale with a wrong --current-replicas" 'Expected replicas to be 4, was 5' k scale rs web-rs --current-replicas=4 --replicas=1
SCALE_RV=$(jget 'b["metadata"]["resourceVersion"]')
req PUT $RS/web-rs/scale "{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/v1\",\"metadata\":{\"name\":\"web-rs\",\"resourceVersion\":\"$SCALE_RV\"},\"spec\":{\"replicas\":4}}"
jcheck "PUT scale with the current resourceVersion: 200 Scale" 'code == 200 and b["kind"] == "Scale" and b["spec"]["replicas"] == 4'
req PUT $RS/web-rs/scale "{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/v1\",\"metadata\":{\"name\":\"web-rs\",\"resourceVersion\":\"$SCALE_RV\"},\"spec\":{\"replicas\":1}}"
jcheck "PUT scale with a stale resourceVersion: 409" 'code == 409 and b["message"] == "Operation cannot be fulfilled on replicasets.apps \"web-rs\": the object has been modified; please apply your changes to the latest version and try again"'
req PATCH $RS/web-rs/scale '{"spec":{"replicas":-1}}' application/merge-patch+json
jcheck "negative replicas: 422 on Scale" 'code == 422 and b["message"] == "Scale.autoscaling \"web-rs\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"'
req PATCH $RS/web-rs/scale '[{"op":"replace","path":"/spec/replicas","value":0}]' application/json-patch+json
jcheck "JSON patch on scale; 0 replicas print as an empty spec" 'code == 200 and b["spec"] == {}'
req GET /api/v1/namespaces/default/pods/nope/scale
jcheck "pods have no scale: 404" 'code == 404'

# ---- /status --------------------------------------------------------------

req GET $RS/web-rs
GEN=$(jget 'b["metadata"]["generation"]')
req PUT $RS/web-rs/status "$(jget 'json.dumps(dict(b, spec=dict(b["spec"], replicas=9), status={"replicas": 2, "readyReplicas": 1, "observedGeneration": 1}))')"
jcheck "PUT status: status written, spec kept" 'code == 200 and b["status"]["replicas"] == 2 and b["spec"]["replicas"] == 0'
jcheck "PUT status: generation unchanged" "b['metadata']['generation'] == $GEN"
expect_output "get rs shows status" '^web-rs +0 +2 +1 ' k get rs web-rs
req PATCH $RS/web-rs/status '{"status":{"readyReplicas":5}}' application/merge-patch+json
jcheck "status validation: ready > replicas is 422" 'code == 422 and "status.readyReplicas: Invalid value: 5: cannot be greater than status.replicas" in b["message"]'
req GET $RS/web-rs
req PUT $RS/web-rs "$(jget 'json.dumps(dict(b, status={"replicas": 7}))')"
jcheck "main endpoint ignores status" 'code == 200 and b["status"]["replicas"] == 2'
req PUT $RS/ghost/status "$(rs ghost)"
jcheck "status never creates: 404" 'code == 404'
req GET /api/v1/namespaces/default/events/x/status
jcheck "events have no status subresource: 404" 'code == 404'

# ---- pods/binding ----------------------------------------------------------

req POST $PODS "$(pod b1)"
req POST $PODS/b1/binding "$(binding b1 node-1 ',"annotations":{"scheduler.example/why":"test"}')"
jcheck "binding: 201 Status Success" 'code == 201 and b["kind"] == "Status" and b["status"] == "Success" and b["code"] == 201'
req GET $PODS/b1
jcheck "binding set spec.nodeName" 'b["spec"]["nodeName"] == "node-1"'
jcheck "binding merged annotations" 'b["metadata"]["annotations"] == {"scheduler.example/why": "test"}'
jcheck "binding set PodScheduled=True" '[c for c in b["status"]["conditions"] if c["type"] == "PodScheduled"][0]["status"] == "True"'
req POST $PODS/b1/binding "$(binding b1 node-2)"
jcheck "binding an assigned pod: 409" 'code == 409 and b["reason"] == "Conflict" and b["message"] == "Operation cannot be fulfilled on pods/binding \"b1\": pod b1 is already assigned to node \"node-1\""'
req POST $PODS/b1/binding "$(binding other node-2)"
jcheck "binding name mismatch: 400" 'code == 400 and b["message"] == "name in URL does not match name in Binding object"'
req POST $PODS "$(pod b2)"
req PATCH $PODS/b2 '{"metadata":{"finalizers":["example.com/hold"]}}' application/merge-patch+json
req DELETE $PODS/b2
req POST $PODS/b2/binding "$(binding b2 node-1)"
jcheck "binding a pod being deleted: 409" 'code == 409 and b["message"] == "Operation cannot be fulfilled on pods/binding \"b2\": pod b2 is being deleted, cannot be assigned to a host"'
req PATCH $PODS/b2 '{"metadata":{"finalizers":null}}' application/merge-patch+json
req POST $PODS "$(pod b3)"
req POST /api/v1/namespaces/default/bindings "$(binding b3 node-3)"
jcheck "legacy POST .../bindings: 201" 'code == 201 and b["status"] == "Success"'
req GET $PODS/b3
jcheck "legacy binding set spec.nodeName" 'b["spec"]["nodeName"] == "node-3"'
req POST $PODS/nope/binding "$(binding nope node-1)"
jcheck "binding a missing pod: 404" 'code == 404 and b["message"] == "pods \"nope\" not found"'

# ---- pods/eviction ------------------------------------------------------------

req POST $PODS "$(pod ev1)"
req POST $PODS/ev1/eviction "$(eviction other)"
jcheck "eviction name mismatch: 400" 'code == 400 and b["message"] == "name in URL does not match name in Eviction object"'
req POST $PODS/nope/eviction "$(eviction nope)"
jcheck "evicting a missing pod: 404" 'code == 404 and b["message"] == "pods \"nope\" not found"'
req POST "$PODS/ev1/eviction?dryRun=All" "$(eviction ev1)"
jcheck "dry-run eviction: 201" 'code == 201 and b["status"] == "Success"'
req GET $PODS/ev1
jcheck "dry-run eviction keeps the pod" 'code == 200'
req POST $PODS/ev1/eviction "$(eviction ev1 ',"deleteOptions":{"preconditions":{"uid":"wrong"}}')"
jcheck "eviction honours deleteOptions preconditions: 409" 'code == 409'
req POST $PODS/ev1/eviction "$(eviction ev1 ',"deleteOptions":{"gracePeriodSeconds":0}')"
jcheck "eviction: 201 Status Success" 'code == 201 and b["kind"] == "Status" and b["status"] == "Success" and b["code"] == 201'
req GET $PODS/ev1
jcheck "evicted pod is gone" 'code == 404'
req GET $PODS/b1/eviction
jcheck "GET on pods/eviction: 405" 'code == 405'

# ---- pods/status -------------------------------------------------------------

req GET $PODS/b1
req PUT $PODS/b1/status "$(jget 'json.dumps(dict(b, metadata=dict(b["metadata"], ownerReferences=[{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u"}]), status=dict(b["status"], phase="Running", qosClass="")))')"
jcheck "pod status: phase written" 'code == 200 and b["status"]["phase"] == "Running"'
jcheck "pod status: ownerReferences kept, qosClass restored" 'not b["metadata"].get("ownerReferences") and b["status"]["qosClass"] == "BestEffort"'

# ---- delete: Status, propagation finalizers -----------------------------------

req POST $RS "$(rs plain)"
UID_PLAIN=$(jget 'b["metadata"]["uid"]')
req DELETE $RS/plain
jcheck "delete a replicaset: Status Success with details" "code == 200 and b['kind'] == 'Status' and b['status'] == 'Success' and b['details'] == {'name': 'plain', 'group': 'apps', 'kind': 'replicasets', 'uid': '$UID_PLAIN'}"
req POST $PODS "$(pod gone)"
req DELETE $PODS/gone
jcheck "delete a pod: the pod itself" 'code == 200 and b["kind"] == "Pod"'

req POST $RS "$(rs orph)"
req DELETE $RS/orph '{"propagationPolicy":"Orphan"}'
jcheck "Orphan: kept with finalizer orphan and deletionTimestamp" 'code == 200 and b["metadata"]["finalizers"] == ["orphan"] and b["metadata"].get("deletionTimestamp") and b["metadata"]["deletionGracePeriodSeconds"] == 0'
jcheck "Orphan: generation bumped on marking" 'b["metadata"]["generation"] == 2'
req DELETE $RS/orph '{"propagationPolicy":"Foreground"}'
jcheck "a second delete may switch to Foreground" 'code == 200 and b["metadata"]["finalizers"] == ["foregroundDeletion"]'
req PATCH $RS/orph '{"metadata":{"finalizers":null}}' application/merge-patch+json
jcheck "removing the last finalizer: 200" 'code == 200'
req GET $RS/orph
jcheck "... deletes the object" 'code == 404'

req POST $RS "$(rs fg)"
req DELETE "$RS/fg?propagationPolicy=Foreground"
jcheck "Foreground (query): finalizer foregroundDeletion" 'b["metadata"]["finalizers"] == ["foregroundDeletion"]'
req PUT $RS/fg "$(jget 'json.dumps(dict(b, metadata=dict(b["metadata"], finalizers=[])))')"
req GET $RS/fg
jcheck "an update removing the finalizer deletes it" 'code == 404'

req POST $RS "$(rs od)"
req DELETE $RS/od '{"orphanDependents":false,"propagationPolicy":"Orphan"}'
jcheck "orphanDependents with propagationPolicy: 422" 'code == 422 and "orphanDependents and deletionPropagation cannot be both set" in b["message"]'
req DELETE $RS/od '{"orphanDependents":true}'
jcheck "orphanDependents=true: finalizer orphan" 'b["metadata"]["finalizers"] == ["orphan"]'
req DELETE $RS/od '{"propagationPolicy":"Background"}'
jcheck "Background removes the GC finalizers and deletes" 'code == 200 and b["kind"] == "Status"'
req POST $RS "$(rs kdel)"
expect_output "kubectl delete rs (Background)" 'replicaset.apps "kdel" deleted' k delete rs kdel

# ---- deletecollection ------------------------------------------------------------

req POST $RS "$(rs dc1 '{"tier":"x"}')"
req POST $RS "$(rs dc2 '{"tier":"x"}')"
req POST $RS "$(rs dc3 '{"tier":"y"}')"
req DELETE "$RS?labelSelector=tier%3Dx"
jcheck "deletecollection: the deleted list" 'code == 200 and b["kind"] == "ReplicaSetList" and [i["metadata"]["name"] for i in b["items"]] == ["dc1", "dc2"]'
req GET "$RS?labelSelector=tier"
jcheck "deletecollection: only the match is gone" '[i["metadata"]["name"] for i in b["items"]] == ["dc3"]'
req DELETE "$RS?fieldSelector=metadata.name%3Ddc3"
jcheck "deletecollection by field selector" 'code == 200 and [i["metadata"]["name"] for i in b["items"]] == ["dc3"]'
req DELETE "$RS?labelSelector=%3D%3D"
jcheck "deletecollection: bad selector is 400" 'code == 400'

# ---- namespace finalize -------------------------------------------------------------

req POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fin"}}'
req DELETE /api/v1/namespaces/fin
jcheck "namespace delete: Terminating, kept" 'code == 200 and b["status"]["phase"] == "Terminating" and b["spec"]["finalizers"] == ["kubernetes"]'
req PUT /api/v1/namespaces/fin/finalize "$(jget 'json.dumps(dict(b, spec={"finalizers": ["bogus"]}))')"
jcheck "finalize: bad finalizer name is 422" 'code == 422 and "name is neither a standard finalizer name nor is it fully qualified" in b["message"]'
req GET /api/v1/namespaces/fin
req PUT /api/v1/namespaces/fin "$(jget 'json.dumps(dict(b, spec={"finalizers": []}))')"
req GET /api/v1/namespaces/fin
jcheck "the main endpoint cannot change spec.finalizers" 'code == 200 and b["spec"]["finalizers"] == ["kubernetes"]'
req PUT /api/v1/namespaces/fin/finalize "$(jget 'json.dumps(dict(b, spec={"finalizers": []}))')"
jcheck "finalize: 200" 'code == 200'
req GET /api/v1/namespaces/fin
jcheck "finalize emptied the finalizers: the namespace is gone" 'code == 404'

# ---- events and leases ----------------------------------------------------------------

req POST /api/v1/namespaces/default/events '{"apiVersion":"v1","kind":"Event","metadata":{"name":"web-rs.1"},"involvedObject":{"kind":"ReplicaSet","namespace":"default","name":"web-rs","apiVersion":"apps/v1"},"reason":"SuccessfulCreate","message":"Created pod: web-rs-abcde","source":{"component":"replicaset-controller"},"firstTimestamp":"2026-01-01T00:00:00Z","lastTimestamp":"2026-01-01T00:00:00Z","count":1,"type":"Normal"}'
jcheck "create an event: 201" 'code == 201'
expect_output "kubectl get events columns" '^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE$' k get events
expect_output "kubectl get events row" 'Normal +SuccessfulCreate +replicaset/web-rs +Created pod: web-rs-abcde' k get events
req GET "/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DReplicaSet%2CinvolvedObject.name%3Dweb-rs"
jcheck "events by involvedObject field selector" 'code == 200 and len(b["items"]) == 1'
req POST /api/v1/namespaces/default/events '{"apiVersion":"v1","kind":"Event","metadata":{"name":"wrong-ns"},"involvedObject":{"kind":"Pod","namespace":"other","name":"p"},"reason":"X"}'
jcheck "event namespace must match its object" 'code == 422 and "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace" in b["message"]'
req PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1 '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"node-1","namespace":"kube-node-lease"},"spec":{"holderIdentity":"node-1","leaseDurationSeconds":40,"renewTime":"2026-01-01T00:00:00.000000Z"}}'
jcheck "PUT of a missing lease creates it: 201" 'code == 201 and b["spec"]["holderIdentity"] == "node-1"'
req PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1 "$(jget 'json.dumps(dict(b, spec=dict(b["spec"], renewTime="2026-01-01T00:00:10.000000Z")))')"
jcheck "PUT of an existing lease updates it: 200" 'code == 200 and b["spec"]["renewTime"] == "2026-01-01T00:00:10.000000Z"'
req POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"bad"},"spec":{"leaseDurationSeconds":0}}'
jcheck "lease duration must be positive" 'code == 422 and "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0" in b["message"]'
expect_output "kubectl get leases" '^node-1 +node-1 +[0-9]+s$' k get leases -n kube-node-lease

# ---- discovery -----------------------------------------------------------------------

req GET /api/v1
jcheck "legacy discovery: pods/status and pods/binding" '[r["name"] for r in b["resources"] if r["name"].startswith("pods")] == ["pods", "pods/binding", "pods/eviction", "pods/log", "pods/status"]'
jcheck "legacy discovery: pods/eviction is a policy/v1 Eviction" '[r for r in b["resources"] if r["name"] == "pods/eviction"] == [{"name": "pods/eviction", "singularName": "", "namespaced": True, "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]}]'
jcheck "legacy discovery: namespaces/finalize, nodes/status" '"namespaces/finalize" in [r["name"] for r in b["resources"]] and "nodes/status" in [r["name"] for r in b["resources"]]'
req GET /apis/apps/v1
jcheck "legacy discovery: replicasets/scale is an autoscaling/v1 Scale" '[r for r in b["resources"] if r["name"] == "replicasets/scale"] == [{"name": "replicasets/scale", "singularName": "", "namespaced": True, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}]'
curl -sS -o "$T/body" -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' "$SERVER/apis"
jcheck "aggregated discovery: replicasets subresources" '[r["subresources"] for g in b["items"] if g["metadata"]["name"] == "apps" for r in g["versions"][0]["resources"] if r["resource"] == "replicasets"][0] == [{"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]}, {"subresource": "status", "responseKind": {"group": "apps", "version": "v1", "kind": "ReplicaSet"}, "verbs": ["get", "patch", "update"]}]'
curl -sS -o "$T/body" -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' "$SERVER/api"
jcheck "aggregated discovery: pods/eviction" '[s for g in b["items"] for r in g["versions"][0]["resources"] if r["resource"] == "pods" for s in r["subresources"] if s["subresource"] == "eviction"] == [{"subresource": "eviction", "responseKind": {"group": "policy", "version": "v1", "kind": "Eviction"}, "verbs": ["create"]}]'
expect_output "api-resources: replicasets" '^replicasets +rs +apps/v1 +true +ReplicaSet$' k api-resources
expect_output "api-resources: events" '^events +ev +v1 +true +Event$' k api-resources
expect_output "api-resources: leases" '^leases +coordination\.k8s\.io/v1 +true +Lease$' k api-resources

finish
