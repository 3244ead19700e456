#!/usr/bin/env bash
# The apiserver's --manifests-dir (k3s's auto-deploying manifests): what
# the directory holds is applied at start, changed and added files are
# re-applied, removed files and documents take their objects with them
# (also when removed while the server was down), a bad document does not
# stop the others, and objects kapi did not create are left alone.
. "$(dirname "$0")/lib.sh"

D=$T/manifests
mkdir -p "$D/sub"
ANN=kapi.io/manifest-source

# wait_for NAME CMD...: the command must succeed within 10 seconds.
wait_for() {
  local name=$1 i; shift
  for i in $(seq 1 100); do
    if "$@" >"$T/out" 2>&1; then ok "$name"; return; fi
    sleep 0.1
  done
  not_ok "$name"; sed 's/^/    /' "$T/out"
}
# gone KIND NAME [NS]: kubectl finds no such object.
gone() { ! k get "$1" "$2" ${3:+-n "$3"} >/dev/null 2>&1; }
exists() { k get "$1" "$2" ${3:+-n "$3"} >/dev/null 2>&1; }
# jsonpath KIND NAME NS PATH WANT: the object's field is WANT.
field_is() { [ "$(k get "$1" "$2" -n "$3" -o "jsonpath=$4")" = "$5" ]; }

app_yaml() { # COLOR
  cat <<Y
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: demo
data:
  color: $1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
Y
}
app_yaml blue >"$D/app.yaml"
cat >"$D/sub/pod.json" <<'J'
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "solo"},
 "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
J

start_server --manifests-dir "$D" || exit 1

# ---- applied at start, each with its source -----------------------------------
wait_for "namespace applied at start" exists namespace demo
wait_for "configmap applied at start" field_is configmap settings demo '{.data.color}' blue
wait_for "deployment applied at start" exists deployment web demo
wait_for "pod from a sub-directory's JSON applied" exists pod solo default
req GET /api/v1/namespaces/demo/configmaps/settings
jcheck "configmap annotated with its file" \
  "b['metadata']['annotations']['$ANN'] == 'app.yaml'"
jcheck "applied by field manager kapi-manifests" \
  "any(m['manager'] == 'kapi-manifests' and m['operation'] == 'Apply' for m in b['metadata']['managedFields'])"
req GET /api/v1/namespaces/default/pods/solo
jcheck "pod annotated with its relative path" \
  "b['metadata']['annotations']['$ANN'] == 'sub/pod.json'"
req GET /apis/apps/v1/namespaces/demo/deployments/web
jcheck "deployment annotated" "b['metadata']['annotations']['$ANN'] == 'app.yaml'"
check "the state file records what was applied" \
  grep -q '"name":"settings"' "$T/data/manifests-state.json"

# An object nobody applied from the directory is never touched.
k create configmap mine --from-literal=k=v >/dev/null

# ---- a changed file is re-applied -------------------------------------------
app_yaml green >"$D/app.yaml.new" && mv "$D/app.yaml.new" "$D/app.yaml"
wait_for "changed configmap data reaches the server" \
  field_is configmap settings demo '{.data.color}' green
app_yaml red >"$D/app.yaml" # written in place (close-after-write)
wait_for "changed in place too" field_is configmap settings demo '{.data.color}' red

# ---- an added file is applied -------------------------------------------------
cat >"$D/extra.yml" <<'Y'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: extra-a}
  data: {n: "1"}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: extra-b}
Y
wait_for "added file applied (List item 1)" exists configmap extra-a default
wait_for "added file applied (List item 2)" exists configmap extra-b default

# ---- a removed document, a removed file ---------------------------------------
python3 - "$D/extra.yml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(s[:s.rindex("- apiVersion")])
PY
wait_for "document removed from its file: object deleted" gone configmap extra-b
check "the file's other object stays" exists configmap extra-a default
rm "$D/sub/pod.json"
wait_for "removed file: its pod deleted" gone pod solo default
check "other files' objects stay" exists configmap settings demo

# ---- a bad document does not stop the others ----------------------------------
cat >"$D/bad.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata: {name: good-one}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: [unclosed
---
apiVersion: v1
kind: NoSuchKind
metadata: {name: nope}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: good-two}
Y
wait_for "good document before the bad one applied" exists configmap good-one default
wait_for "good document after the bad ones applied" exists configmap good-two default
wait_for "the error is logged (klog E line naming the file)" \
  grep -Eq '^E[0-9]{4} .*manifests: .*bad\.yaml' "$T/apiserver.log"
wait_for "an unknown kind is logged" grep -q 'no matches for kind "NoSuchKind"' "$T/apiserver.log"
check "objects from other sources untouched" exists configmap mine default

# ---- removed while the server was down -----------------------------------------
stop_server
rm "$D/extra.yml"
start_server --manifests-dir "$D" --manifests-resync-period 1s || exit 1
wait_for "file removed while down: its objects deleted at start" gone configmap extra-a
check "the rest is still there" field_is configmap settings demo '{.data.color}' red
check "the bad file's good documents stay" exists configmap good-two default
check "the unrelated configmap stays" exists configmap mine default

# ---- the periodic resync puts back what was deleted by hand --------------------
k delete configmap good-two >/dev/null
wait_for "resync re-applies a deleted object" exists configmap good-two default

finish
