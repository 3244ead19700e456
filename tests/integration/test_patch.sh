#!/usr/bin/env bash
# Strategic merge patch end to end, driven by the real kubectl: client-side
# apply three times (created / unchanged / configured), edit, cordon and
# uncordon, and kubectl patch with each --type; plus the directive errors
# on the wire.
. "$(dirname "$0")/lib.sh"

start_server || exit 1

# A ReplicaSet: its pod template, unlike a Pod's spec, may change env and
# ports, so apply can drop a label, an env var and a port in one go.
rs_yaml() { # IMAGE WITH_OLD_FIELDS(0/1) BAR
  cat <<Y
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web
  labels:
    app: web
$( [ "$2" = 1 ] && echo "    tier: frontend" )
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: a
        image: $1
        env:
$( [ "$2" = 1 ] && printf '        - name: FOO\n          value: "1"\n' )
        - name: BAR
          value: "$3"
        ports:
        - containerPort: 80
$( [ "$2" = 1 ] && echo "        - containerPort: 443" )
      - name: b
        image: busybox
        command: [sleep, "3600"]
Y
}

# A Pod: only the image (and metadata) may change after creation.
pod_yaml() { # IMAGE WITH_TIER(0/1)
  cat <<Y
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
$( [ "$2" = 1 ] && echo "    tier: frontend" )
spec:
  containers:
  - name: a
    image: $1
    ports:
    - containerPort: 80
  - name: b
    image: busybox
    command: [sleep, "3600"]
Y
}

rs_yaml nginx:1.27 1 2 >"$T/rs1.yaml"
rs_yaml nginx:1.28 0 3 >"$T/rs2.yaml"
pod_yaml nginx:1.27 1 >"$T/v1.yaml"
pod_yaml nginx:1.28 0 >"$T/v2.yaml"

expect_output "apply rs #1: created" '^replicaset.apps/web created' k apply -f "$T/rs1.yaml"
expect_output "apply rs #2: unchanged" '^replicaset.apps/web unchanged' k apply -f "$T/rs1.yaml"
expect_output "apply rs #3: configured" '^replicaset.apps/web configured' k apply -f "$T/rs2.yaml"
k get rs web -o json >"$T/body" 2>"$T/err"
jcheck "apply rs: image changed, containers in order" \
  '[c["image"] for c in b["spec"]["template"]["spec"]["containers"]] == ["nginx:1.28", "busybox"]'
jcheck "apply rs: label dropped, the other kept" \
  'b["metadata"]["labels"] == {"app": "web"}'
jcheck "apply rs: env var dropped, the other updated" \
  'b["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "BAR", "value": "3"}]'
jcheck "apply rs: port dropped" \
  '[p["containerPort"] for p in b["spec"]["template"]["spec"]["containers"][0]["ports"]] == [80]'
jcheck "apply rs: untouched container kept its command" \
  'b["spec"]["template"]["spec"]["containers"][1]["command"] == ["sleep", "3600"]'

expect_output "apply pod #1: created" '^pod/web created' k apply -f "$T/v1.yaml"
expect_output "apply pod #2: unchanged" '^pod/web unchanged' k apply -f "$T/v1.yaml"
expect_output "apply pod #3: configured" '^pod/web configured' k apply -f "$T/v2.yaml"
k get pod web -o json >"$T/body" 2>"$T/err"
jcheck "apply pod: image changed" \
  '[c["image"] for c in b["spec"]["containers"]] == ["nginx:1.28", "busybox"]'
jcheck "apply pod: label dropped, the other kept" \
  'b["metadata"]["labels"] == {"app": "web"}'
jcheck "apply pod: last-applied annotation refreshed" \
  '"nginx:1.28" in b["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]'

# kubectl edit: the editor rewrites the image in place.
EDITOR="sed -i s/nginx:1.28/nginx:1.29/" \
  expect_output "edit: edited" '^pod/web edited' k edit pod web
k get pod web -o json >"$T/body" 2>"$T/err"
jcheck "edit: image changed, containers kept" \
  '[c["image"] for c in b["spec"]["containers"]] == ["nginx:1.29", "busybox"]'

# cordon / uncordon.
cat >"$T/node.yaml" <<'Y'
apiVersion: v1
kind: Node
metadata:
  name: n1
status:
  conditions:
  - {type: Ready, status: "True"}
Y
k create -f "$T/node.yaml" >/dev/null 2>&1
expect_output "cordon" '^node/n1 cordoned' k cordon n1
expect_output "get nodes: SchedulingDisabled" 'SchedulingDisabled' k get nodes
expect_output "uncordon" '^node/n1 uncordoned' k uncordon n1
k get node n1 -o json >"$T/body" 2>"$T/err"
jcheck "uncordon: unschedulable gone" '"unschedulable" not in b["spec"]'
k get nodes >"$T/out" 2>&1
if grep -q SchedulingDisabled "$T/out"; then not_ok "uncordoned node schedulable"
else ok "uncordoned node schedulable"; fi

# kubectl patch with every --type.
expect_output "patch --type=strategic" 'patched' k patch pod web --type=strategic \
  -p '{"spec":{"containers":[{"name":"b","image":"busybox:1.36"}]}}'
k get pod web -o json >"$T/body" 2>"$T/err"
jcheck "strategic: one container merged by name" \
  '[(c["name"], c["image"]) for c in b["spec"]["containers"]] == [("a", "nginx:1.29"), ("b", "busybox:1.36")]'
expect_output "patch --type=merge" 'patched' k patch pod web --type=merge \
  -p '{"metadata":{"labels":{"m":"1"}}}'
expect_output "patch --type=json" 'patched' k patch pod web --type=json \
  -p '[{"op":"add","path":"/metadata/labels/j","value":"2"}]'
k get pod web -o json >"$T/body" 2>"$T/err"
jcheck "merge and json patches applied" \
  'b["metadata"]["labels"] == {"app": "web", "m": "1", "j": "2"}'

# Directives and their errors on the wire.
SMP=application/strategic-merge-patch+json
P=/api/v1/namespaces/default/pods/web
req PATCH $P '{"metadata":{"finalizers":["x/a","x/b"]}}' $SMP
jcheck "finalizers: merged as a set" 'code == 200 and b["metadata"]["finalizers"] == ["x/a", "x/b"]'
req PATCH $P '{"metadata":{"$deleteFromPrimitiveList/finalizers":["x/a","x/b"]}}' $SMP
jcheck "\$deleteFromPrimitiveList" 'code == 200 and not b["metadata"].get("finalizers")'
req PATCH $P '{"metadata":{"labels":{"$patch":"replace","app":"web"}}}' $SMP
jcheck "\$patch: replace in a map" 'code == 200 and b["metadata"]["labels"] == {"app": "web"}'
req PATCH $P '{"metadata":{"labels":{"$patch":"bogus"}}}' $SMP
jcheck "unknown \$patch: 500 with the library's text" \
  'code == 500 and b["message"].startswith("unknown patch type: bogus in map:")'
req PATCH $P '{"spec":{"containers":[{"image":"x"}]}}' $SMP
jcheck "missing merge key" 'code == 500 and "does not contain declared merge key: name" in b["message"]'
req PATCH $P '{"spec":{"$setElementOrder/containers":"a"}}' $SMP
jcheck "bad \$setElementOrder: 400" \
  'code == 400 and b["reason"] == "BadRequest" and b["message"] == "invalid patch format of setElementOrder list"'
req PATCH $P '{"metadata":{"finalizers":[["a"]]}}' $SMP
jcheck "list of lists: 422" 'code == 422 and b["reason"] == "Invalid"'
req PATCH /api/v1/nodes/n1/status \
  '{"status":{"$setElementOrder/conditions":[{"type":"Ready"}],"conditions":[{"type":"Ready","status":"False","reason":"X"}]}}' $SMP
jcheck "node status: conditions merged by type" \
  'code == 200 and [(c["type"], c["status"]) for c in b["status"]["conditions"]] == [("Ready", "False")]'
req PATCH /apis/apps/v1/namespaces/default/replicasets/web/scale '{"spec":{"replicas":3}}' $SMP
jcheck "scale: strategic merge patch" 'code == 200 and b["kind"] == "Scale" and b["spec"]["replicas"] == 3'
# A patched object of the wrong types: upstream's patcher cannot decode
# it and answers 422 on field "patch"; a body of the wrong types is 400.
req PATCH $P '{"spec":[]}' application/merge-patch+json
jcheck "patch to the wrong type: 422 on field patch" \
  'code == 422 and b["reason"] == "Invalid" and b["details"]["causes"][0]["field"] == "patch" and "cannot unmarshal array into Go struct field Pod.spec of type struct" in b["message"]'
req PUT $P '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"c","image":"x","ports":"no"}]}}'
jcheck "update of the wrong type: 400" \
  'code == 400 and b["reason"] == "BadRequest" and b["message"] == "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Pod.spec.containers.ports of type slice"'
req PATCH $P '{}' application/bogus
jcheck "415 lists strategic merge patch" \
  'code == 415 and "application/strategic-merge-patch+json" in b["message"]'

finish
