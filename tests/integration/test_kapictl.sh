#!/usr/bin/env bash
# kapictl against a real kapi-apiserver: create -f over a directory (-R),
# stdin, an http URL and a List; a file with bad documents (the others
# created, exit 1, the error naming the document); apply twice (created,
# unchanged, configured); delete -f and delete TYPE NAME; get as tables
# (-o wide, -A, -l), -o json|yaml|name, errors and -w.
: "${KAPI_BUILDDIR:?KAPI_BUILDDIR must point at the build tree}"
KAPICTL=${KAPICTL:-$KAPI_BUILDDIR/kapictl}
# lib.sh checks for kubectl: kapictl stands in for it here.
KUBECTL=${KUBECTL:-$KAPICTL}
. "$(dirname "$0")/lib.sh"
[ -x "$KAPICTL" ] || { echo "skipped: no $KAPICTL"; exit 77; }

start_server || exit 1

kc() { "$KAPICTL" "$@"; }

# expect_rc NAME RC CMD...: the command must exit with RC.
expect_rc() {
  local name=$1 want=$2 rc; shift 2
  "$@" >"$T/out" 2>&1; rc=$?
  if [ "$rc" -eq "$want" ]; then ok "$name"; else
    not_ok "$name (exit $rc, wanted $want)"; sed 's/^/    /' "$T/out"; fi
}

# has NAME REGEX: the last command's output ($T/out) must match.
has() {
  if grep -Eq -- "$2" "$T/out"; then ok "$1"; else
    not_ok "$1 (wanted /$2/)"; sed 's/^/    /' "$T/out"; fi
}

# ---- manifests ------------------------------------------------------------
D=$T/manifests
mkdir -p "$D/sub" "$T/www"
cat >"$D/a.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm1
  labels: {app: demo}
data: {a: "1"}
---
apiVersion: v1
kind: Pod
metadata:
  name: p1
  labels: {app: demo}
spec:
  containers:
  - name: c
    image: busybox
Y
cat >"$D/sub/b.json" <<'J'
{"apiVersion": "apps/v1", "kind": "ReplicaSet",
 "metadata": {"name": "rs1"},
 "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "rs1"}},
          "template": {"metadata": {"labels": {"app": "rs1"}},
                       "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
J
echo "not a manifest" >"$D/sub/README.txt"

# ---- create -f ----------------------------------------------------------------
expect_rc "create -f DIR -R" 0 kc create -f "$D" -R
has "create prints kind/name created" '^configmap/cm1 created$'
has "create names a grouped kind with its group" '^replicaset.apps/rs1 created$'
has "create -R reads sub-directories" '^pod/p1 created$'
expect_rc "create again fails" 1 kc create -f "$D" -R
has "AlreadyExists in kubectl's words" \
  '^Error from server \(AlreadyExists\): error when creating ".*a.yaml": configmaps "cm1" already exists$'
has "every document is tried" 'replicasets.apps "rs1" already exists'

expect_rc "create -f - (stdin)" 0 kc create -f - <<'Y'
apiVersion: v1
kind: ConfigMap
metadata: {name: from-stdin}
Y
has "stdin object created" '^configmap/from-stdin created$'

cat >"$T/www/url.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata: {name: from-url}
data: {source: http}
Y
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$HTTP_PORT" \
  >"$T/http.log" 2>&1 &
HTTP_PID=$!
for i in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$HTTP_PORT/url.yaml" >/dev/null 2>&1 && break
  sleep 0.05
done
expect_rc "create -f http URL" 0 kc create -f "http://127.0.0.1:$HTTP_PORT/url.yaml"
has "URL object created" '^configmap/from-url created$'
expect_rc "a missing URL fails" 1 kc create -f "http://127.0.0.1:$HTTP_PORT/none.yaml"
kill "$HTTP_PID" 2>/dev/null; wait "$HTTP_PID" 2>/dev/null

cat >"$T/list.json" <<'J'
{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "l1"}},
  {"apiVersion": "v1", "kind": "ConfigMapList", "items": [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "l2"}}]}]}
J
expect_rc "create -f a List" 0 kc create -f "$T/list.json"
has "List items created" '^configmap/l1 created$'
has "nested List items created" '^configmap/l2 created$'

expect_rc "a missing path" 1 kc create -f "$T/none.yaml"
has "the path error" "^error: the path \"$T/none.yaml\" does not exist$"

# One document of an unknown kind in the middle: the others are created.
cat >"$T/bad.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata: {name: good1}
---
apiVersion: v1
kind: Frobnicator
metadata: {name: f}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: good2}
Y
expect_rc "a bad document: exit 1" 1 kc create -f "$T/bad.yaml"
has "the document before it is created" '^configmap/good1 created$'
has "the document after it is created" '^configmap/good2 created$'
has "the error names the document" \
  'from ".*bad.yaml": no matches for kind "Frobnicator" in version "v1"'
# A document that does not parse.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good3}\n---\nfoo: [1, 2\n' \
  >"$T/bad2.yaml"
expect_rc "an unparsable document: exit 1" 1 kc create -f "$T/bad2.yaml" --continue-on-error
has "the document before it is created" '^configmap/good3 created$'
has "the parse error names the file" 'error parsing .*bad2.yaml'
expect_rc "create the bad file again" 1 kc create -f "$T/bad.yaml" --continue-on-error
has "every error reported: the first" 'configmaps "good1" already exists'
has "every error reported: the last" 'configmaps "good2" already exists'

# ---- apply ------------------------------------------------------------------------
cat >"$T/app.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: applied
  labels: {tier: web}
data: {k: v1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs-applied}
spec:
  replicas: 0
  selector: {matchLabels: {app: rsa}}
  template:
    metadata: {labels: {app: rsa}}
    spec: {containers: [{name: c, image: busybox}]}
Y
expect_rc "apply creates" 0 kc apply -f "$T/app.yaml"
has "apply: created" '^configmap/applied created$'
has "apply: grouped kind created" '^replicaset.apps/rs-applied created$'
expect_rc "apply again" 0 kc apply -f "$T/app.yaml"
has "apply again: unchanged" '^configmap/applied unchanged$'
has "apply again: unchanged (rs)" '^replicaset.apps/rs-applied unchanged$'
sed 's/k: v1/k: v2/' "$T/app.yaml" >"$T/app2.yaml"
expect_rc "apply a change" 0 kc apply -f - <"$T/app2.yaml"
has "apply a change: configured" '^configmap/applied configured$'
has "apply a change: the rest unchanged" '^replicaset.apps/rs-applied unchanged$'
kc get cm applied -o json >"$T/body" 2>&1
jcheck "apply's field manager owns the fields" \
  'b["data"]["k"] == "v2" and "managedFields" not in b["metadata"]'
expect_rc "apply an invalid object" 1 kc apply -f - <<'Y'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs-applied}
spec:
  replicas: -1
  selector: {matchLabels: {app: rsa}}
  template:
    metadata: {labels: {app: rsa}}
    spec: {containers: [{name: c, image: busybox}]}
Y
has "Invalid in kubectl's words" 'is invalid'

# ---- get --------------------------------------------------------------------------
expect_rc "get pods" 0 kc get pods
has "table header" '^NAME +READY +STATUS +RESTARTS +AGE$'
has "table row" '^p1 +0/1 +Pending +0 +'
expect_rc "get po -o wide" 0 kc get po -o wide
has "wide columns" '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES$'
expect_rc "get -A" 0 kc get po -A
has "NAMESPACE column" '^NAMESPACE +NAME +READY'
has "namespace cell" '^default +p1 '
expect_rc "get cm -l" 0 kc get cm -l app=demo
has "-l: the labelled one" '^cm1 '
if grep -q '^good1 ' "$T/out"; then not_ok "-l filters"; else ok "-l filters"; fi
expect_rc "get -l with no match" 0 kc get cm -l app=none
has "no resources" '^No resources found in default namespace.$'
expect_rc "get rs by short name" 0 kc get rs rs1
has "rs table" '^rs1 +0 +0 +0 +'
expect_rc "get two types" 0 kc get cm/cm1 rs/rs1
has "kinds shown with two types" '^replicaset.apps/rs1 '
expect_rc "get -o json" 0 kc get pod p1 -o json
cp "$T/out" "$T/body"
jcheck "-o json is the object" \
  'b["kind"] == "Pod" and b["metadata"]["name"] == "p1" and b["metadata"]["labels"]["app"] == "demo"'
expect_rc "get list -o json" 0 kc get cm -l app=demo -o json
cp "$T/out" "$T/body"
jcheck "-o json of a list is a List" \
  'b["kind"] == "List" and [i["metadata"]["name"] for i in b["items"]] == ["cm1"] and b["items"][0]["kind"] == "ConfigMap"'
expect_rc "get -o yaml" 0 kc get cm cm1 -o yaml
has "yaml: top-level keys" '^kind: ConfigMap$'
has "yaml: nested keys" '^  name: cm1$'
has "yaml: strings that look like numbers are quoted" '^  a: "1"$'
python3 -c 'import sys, yaml' 2>/dev/null && {
  python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); sys.exit(0 if d["data"]["a"] == "1" and d["metadata"]["labels"]["app"] == "demo" else 1)' "$T/out" &&
    ok "yaml reads back" || not_ok "yaml reads back"
}
expect_rc "get -o name" 0 kc get cm -l app=demo -o name
has "-o name" '^configmap/cm1$'
expect_rc "get a missing object" 1 kc get pod nope
has "NotFound in kubectl's words" '^Error from server \(NotFound\): pods "nope" not found$'
expect_rc "get an unknown type" 1 kc get frobs
has "unknown type" "^error: the server doesn't have a resource type \"frobs\"$"

# -w: the list, then each change.
timeout 4 "$KAPICTL" get cm -l watch=me -w >"$T/watch.out" 2>&1 &
WPID=$!
sleep 1
kc create -f - >/dev/null <<'Y'
apiVersion: v1
kind: ConfigMap
metadata: {name: watched, labels: {watch: me}}
Y
for i in $(seq 1 60); do grep -q '^watched ' "$T/watch.out" && break; sleep 0.05; done
if grep -q '^watched ' "$T/watch.out"; then ok "get -w streams a new object"; else
  not_ok "get -w streams a new object"; sed 's/^/    /' "$T/watch.out"; fi
kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null

# ---- delete -----------------------------------------------------------------------
expect_rc "delete -f" 0 kc delete -f "$T/app.yaml"
has "delete prints kind \"name\" deleted" '^configmap "applied" deleted$'
has "delete names a grouped kind" '^replicaset.apps "rs-applied" deleted$'
expect_rc "delete -f again" 1 kc delete -f "$T/app.yaml"
has "delete NotFound names the file" \
  '^Error from server \(NotFound\): error when deleting ".*app.yaml": configmaps "applied" not found$'
expect_rc "delete -f --ignore-not-found" 0 kc delete -f "$T/app.yaml" --ignore-not-found
expect_rc "delete TYPE NAME" 0 kc delete cm from-url from-stdin
has "delete TYPE NAME prints" '^configmap "from-stdin" deleted$'
expect_rc "delete a missing name" 1 kc delete cm from-url
has "delete NotFound" '^Error from server \(NotFound\): configmaps "from-url" not found$'
expect_rc "delete -f DIR -R" 0 kc delete -f "$D" -R
has "delete -R deletes the sub-directory's objects" '^replicaset.apps "rs1" deleted$'
expect_rc "get after delete" 1 kc get cm cm1

finish
