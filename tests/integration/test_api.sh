#!/usr/bin/env bash
# The REST API against upstream's exact behaviour, mostly with curl:
# Status errors, create semantics, list selectors and paging, watch,
# graceful delete, namespace lifecycle, update/patch/status, the plugin
# loader's refusals, and many concurrent watchers.
. "$(dirname "$0")/lib.sh"

KAPI_SRCDIR=${KAPI_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
start_server || exit 1

PODS=/api/v1/namespaces/default/pods
pods_in() { echo "/api/v1/namespaces/$1/pods"; }

# pod NAME [METADATA-MEMBERS] [SPEC-MEMBERS]: a minimal Pod as JSON.
pod() {
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"%s},"spec":{"containers":[{"name":"c","image":"busybox"}]%s}}' \
    "$1" "${2:+,$2}" "${3:+,$3}"
}

mkns() {
  req POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$1\"}}"
  [ "$CODE" = 201 ] || { echo "cannot create namespace $1: $CODE" >&2; cat "$T/body" >&2; }
}

# rv: the resourceVersion of the object in $T/body.
rv() { jget 'b["metadata"]["resourceVersion"]'; }

# same NAME EXPECTED CMD...: the command succeeds and prints exactly EXPECTED.
same() {
  local name=$1 want=$2; shift 2
  if "$@" >"$T/out" 2>&1 && [ "$(cat "$T/out")" = "$want" ]; then ok "$name"; else
    not_ok "$name (wanted: $want)"; sed 's/^/    /' "$T/out"; fi
}

# watch_bg FILE QUERY-PATH: a curl watch in the background; the headers go
# to FILE.h, the events to FILE, curl's exit code to FILE.rc and the
# milliseconds it ran to FILE.time.
watch_bg() {
  local f=$1 p=$2
  ( s=$(date +%s%N)
    curl -sN -D "$f.h" -o "$f" -m 15 "$SERVER$p"
    echo $? >"$f.rc"
    echo $((($(date +%s%N) - s) / 1000000)) >"$f.time" ) &
}

# wait_open FILE...: waits (at most 5 s) until every watch has its 200.
wait_open() {
  local i f all
  for i in $(seq 1 100); do
    all=1
    for f in "$@"; do grep -q '^HTTP/1.1 200' "$f.h" 2>/dev/null || all=0; done
    [ $all = 1 ] && return 0
    sleep 0.05
  done
  echo "watches did not open: $*" >&2
  return 1
}

# wait_rc FILE...: waits (at most 15 s) until every background watch ended.
wait_rc() {
  local i f all
  for i in $(seq 1 150); do
    all=1
    for f in "$@"; do [ -s "$f.rc" ] || all=0; done
    [ $all = 1 ] && return 0
    sleep 0.1
  done
}

# ---- Status errors -----------------------------------------------------------

req GET $PODS/nope
jcheck "404: code" 'code == 404'
check "404: Content-Type application/json" test "${CTYPE%%;*}" = application/json
jcheck "404: a Status" 'b["kind"] == "Status" and b["apiVersion"] == "v1" and b["status"] == "Failure" and b["code"] == 404'
jcheck "404: reason NotFound" 'b["reason"] == "NotFound"'
jcheck "404: message" 'b["message"] == "pods \"nope\" not found"'
jcheck "404: details name and kind" 'b["details"] == {"name": "nope", "kind": "pods"}'

req POST $PODS "$(pod dup)"
jcheck "create: 201" 'code == 201 and b["metadata"]["name"] == "dup"'
req POST $PODS "$(pod dup)"
jcheck "duplicate create: 409 AlreadyExists" 'code == 409 and b["reason"] == "AlreadyExists" and b["code"] == 409'
jcheck "duplicate create: message" 'b["message"] == "pods \"dup\" already exists"'
jcheck "duplicate create: details" 'b["details"] == {"name": "dup", "kind": "pods"}'

req GET $PODS/dup
cp "$T/body" "$T/stale.json"
STALE_RV=$(rv)
req PUT $PODS/dup "$(jget 'json.dumps(dict(b, metadata=dict(b["metadata"], labels={"v": "1"})))' "$T/stale.json")"
jcheck "PUT with the current resourceVersion: 200" 'code == 200 and b["metadata"]["labels"] == {"v": "1"}'
check "PUT bumps resourceVersion" test "$(rv)" -gt "$STALE_RV"
req PUT $PODS/dup "$(jget 'json.dumps(dict(b, metadata=dict(b["metadata"], labels={"v": "2"})))' "$T/stale.json")"
jcheck "PUT with a stale resourceVersion: 409 Conflict" 'code == 409 and b["reason"] == "Conflict"'
jcheck "409 Conflict: upstream message" 'b["message"] == "Operation cannot be fulfilled on pods \"dup\": the object has been modified; please apply your changes to the latest version and try again"'
jcheck "409 Conflict: details" 'b["details"] == {"name": "dup", "kind": "pods"}'
req GET $PODS/dup
jcheck "a conflicting PUT changes nothing" 'b["metadata"]["labels"] == {"v": "1"}'
expect_fail "kubectl replace with a stale resourceVersion" \
  'Error from server \(Conflict\).*Operation cannot be fulfilled on pods "dup": the object has been modified' \
  k replace -f "$T/stale.json"

req POST $PODS '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"noc"},"spec":{}}'
jcheck "pod without containers: 422 Invalid" 'code == 422 and b["reason"] == "Invalid" and b["code"] == 422'
jcheck "422: message" 'b["message"] == "Pod \"noc\" is invalid: spec.containers: Required value"'
jcheck "422: details name and kind" 'b["details"]["name"] == "noc" and b["details"]["kind"] == "Pod"'
jcheck "422: details.causes" '{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"} in b["details"]["causes"]'

req POST $PODS "$(pod proto)" application/vnd.kubernetes.protobuf
jcheck "protobuf body: 415 UnsupportedMediaType" 'code == 415 and b["reason"] == "UnsupportedMediaType" and b["code"] == 415'
jcheck "415: message" 'b["message"].startswith("the body of the request was in an unknown format - accepted media types include: ")'
req GET $PODS/proto
jcheck "415: nothing stored" 'code == 404'

req POST $PODS/dup "$(pod dup)"
jcheck "POST to a named object: 405 MethodNotAllowed" 'code == 405 and b["reason"] == "MethodNotAllowed" and b["code"] == 405'
jcheck "405: message" 'b["message"] == "the server does not allow this method on the requested resource"'
req PUT $PODS "$(pod dup)"
jcheck "PUT to a collection: 405 MethodNotAllowed" 'code == 405 and b["reason"] == "MethodNotAllowed"'

req POST $PODS "$(pod nsmix '"namespace":"kube-system"')"
jcheck "create, body namespace != URL: 400 BadRequest" 'code == 400 and b["reason"] == "BadRequest"'
jcheck "create namespace mismatch: message" 'b["message"] == "the namespace of the provided object does not match the namespace sent on the request"'
req GET "$(pods_in kube-system)/nsmix"
jcheck "create namespace mismatch: nothing stored" 'code == 404'
req PUT $PODS/dup "$(pod dup '"namespace":"kube-system"')"
jcheck "update namespace mismatch: 400 and message" 'code == 400 and b["reason"] == "BadRequest" and b["message"] == "the namespace of the object (kube-system) does not match the namespace on the request (default)"'
req PUT $PODS/dup "$(pod other)"
jcheck "update name mismatch: 400 and message" 'code == 400 and b["message"] == "the name of the object (other) does not match the name on the URL (dup)"'
req PUT $PODS/ghost "$(pod ghost)"
jcheck "PUT of a missing pod: 404 (no create on update)" 'code == 404 and b["message"] == "pods \"ghost\" not found"'

# ---- create: generateName, dryRun, system fields ---------------------------

req POST $PODS '{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"gen-"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
jcheck "generateName: 201, prefix + 5 chars" 'code == 201 and re.fullmatch("gen-[bcdfghjklmnpqrstvwxz2456789]{5}", b["metadata"]["name"]) and b["metadata"]["generateName"] == "gen-"'
GEN=$(jget 'b["metadata"]["name"]')
req GET "$PODS/$GEN"
jcheck "generateName: the generated name is stored" 'code == 200'
pod gen2 >"$T/gen.json"
sed -i 's/"name":"gen2"/"generateName":"kgen-"/' "$T/gen.json"
expect_output "kubectl create with generateName" '^pod/kgen-[a-z0-9]{5} created$' k create -f "$T/gen.json"

req GET $PODS
LIST_RV=$(jget 'b["metadata"]["resourceVersion"]')
req POST "$PODS?dryRun=All" "$(pod dry)"
jcheck "dryRun=All: 201 with the object" 'code == 201 and b["metadata"]["name"] == "dry" and b["metadata"].get("uid")'
req GET $PODS/dry
jcheck "dryRun=All: nothing stored" 'code == 404'
req GET $PODS
jcheck "dryRun=All: no write (list resourceVersion unchanged)" "b['metadata']['resourceVersion'] == '$LIST_RV'"
req POST "$PODS?dryRun=All" "$(pod dup)"
jcheck "dryRun=All of an existing name: 409 AlreadyExists" 'code == 409 and b["reason"] == "AlreadyExists"'
pod kdry >"$T/dry.json"
expect_output "kubectl create --dry-run=server" '^pod/kdry created \(server dry run\)$' k create --dry-run=server -f "$T/dry.json"
expect_fail "kubectl --dry-run=server stored nothing" 'NotFound' k get pod kdry

NOW=$(date +%s)
req POST $PODS "$(pod sys '"uid":"not-mine","creationTimestamp":"2000-01-01T00:00:00Z"')"
jcheck "create sets a UUIDv4 uid (client value ignored)" 're.fullmatch("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", b["metadata"]["uid"])'
jcheck "create sets creationTimestamp (RFC 3339, Z, now)" "re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', b['metadata']['creationTimestamp']) and abs(__import__('calendar').timegm(__import__('time').strptime(b['metadata']['creationTimestamp'], '%Y-%m-%dT%H:%M:%SZ')) - $NOW) < 60"
jcheck "create sets a decimal resourceVersion" 're.fullmatch("[1-9][0-9]*", b["metadata"]["resourceVersion"])'
RVS=("$(rv)")
req PUT $PODS/sys "$(jget 'json.dumps(dict(b, metadata=dict(b["metadata"], labels={"w": "1"})))')"
RVS+=("$(rv)")
req PATCH $PODS/sys '{"metadata":{"labels":{"w":"2"}}}' application/merge-patch+json
RVS+=("$(rv)")
req PUT $PODS/sys/status "$(jget 'json.dumps(dict(b, status={"phase": "Running"}))')"
RVS+=("$(rv)")
req POST $PODS "$(pod sys2)"
RVS+=("$(rv)")
req DELETE $PODS/sys2
req GET $PODS
RVS+=("$(jget 'b["metadata"]["resourceVersion"]')")
check "resourceVersion strictly increases across writes (${RVS[*]})" \
  python3 -c 'import sys; v = [int(x) for x in sys.argv[1:]]; sys.exit(0 if all(a < b for a, b in zip(v, v[1:])) else 1)' "${RVS[@]}"

# ---- list: selectors, paging ------------------------------------------------------

mkns sel
SP=$(pods_in sel)
req POST "$SP" "$(pod sel-1 '"labels":{"app":"web","tier":"fe"}' '"nodeName":"node-a"')"
req POST "$SP" "$(pod sel-2 '"labels":{"app":"db"}')"
req POST "$SP" "$(pod sel-3)"
req GET "$SP/sel-2"
req PUT "$SP/sel-2/status" "$(jget 'json.dumps(dict(b, status=dict(b["status"], phase="Running")))')"
LAST_RV=$(rv)
req GET "$SP"
jcheck "list: kind PodList, apiVersion v1" 'code == 200 and b["kind"] == "PodList" and b["apiVersion"] == "v1"'
jcheck "list: metadata.resourceVersion is the last write's" "b['metadata']['resourceVersion'] == '$LAST_RV'"
jcheck "list: items in key order" '[i["metadata"]["name"] for i in b["items"]] == ["sel-1", "sel-2", "sel-3"]'

# lsel NAME QUERY PY-LIST: the names a selector list returns, in order.
lsel() {
  req GET "$SP?$2"
  jcheck "$1" "code == 200 and [i['metadata']['name'] for i in b['items']] == $3"
}
lsel "labelSelector app=web" 'labelSelector=app%3Dweb' '["sel-1"]'
lsel "labelSelector app==db" 'labelSelector=app%3D%3Ddb' '["sel-2"]'
lsel "labelSelector app!=web (matches a missing key)" 'labelSelector=app%21%3Dweb' '["sel-2", "sel-3"]'
lsel "labelSelector app in (web,db)" 'labelSelector=app%20in%20%28web%2Cdb%29' '["sel-1", "sel-2"]'
lsel "labelSelector app notin (web)" 'labelSelector=app%20notin%20%28web%29' '["sel-2", "sel-3"]'
lsel "labelSelector app (exists)" 'labelSelector=app' '["sel-1", "sel-2"]'
lsel "labelSelector !app (does not exist)" 'labelSelector=%21app' '["sel-3"]'
lsel "labelSelector app=web,tier=fe (AND)" 'labelSelector=app%3Dweb%2Ctier%3Dfe' '["sel-1"]'
lsel "labelSelector app=web,tier=be (AND, none)" 'labelSelector=app%3Dweb%2Ctier%3Dbe' '[]'
lsel "fieldSelector metadata.name=sel-2" 'fieldSelector=metadata.name%3Dsel-2' '["sel-2"]'
lsel "fieldSelector spec.nodeName=node-a" 'fieldSelector=spec.nodeName%3Dnode-a' '["sel-1"]'
lsel "fieldSelector status.phase!=Running" 'fieldSelector=status.phase%21%3DRunning' '["sel-1", "sel-3"]'
lsel "fieldSelector status.phase=Running" 'fieldSelector=status.phase%3DRunning' '["sel-2"]'
lsel "label and field selector together" 'labelSelector=app&fieldSelector=status.phase%21%3DRunning' '["sel-1"]'
req GET "$SP?fieldSelector=spec.foo%3Dx"
jcheck "unsupported field label: 400 BadRequest" 'code == 400 and b["reason"] == "BadRequest"'
jcheck "unsupported field label: message" 'b["message"] == "field label not supported: spec.foo"'
same "kubectl get -l 'app notin (web)'" "$(printf 'pod/sel-2\npod/sel-3')" \
  k get pods -n sel -l 'app notin (web)' -o name
same "kubectl get --field-selector status.phase!=Running" "$(printf 'pod/sel-1\npod/sel-3')" \
  k get pods -n sel --field-selector 'status.phase!=Running' -o name

mkns page
PP=$(pods_in page)
for i in 0 1 2 3 4 5 6; do req POST "$PP" "$(pod pg-$i)"; done
# page_all LIMIT OUT [HOOK]: follows continue from the first page; HOOK
# runs after the first page.  Pages go to OUT.1, OUT.2, ...
page_all() {
  local limit=$1 out=$2 hook=${3:-} cont='' n=0
  while [ $n -lt 20 ]; do
    n=$((n + 1))
    req GET "$PP?limit=$limit${cont:+&continue=$cont}"
    cp "$T/body" "$out.$n"
    cont=$(jget 'b["metadata"].get("continue", "")' "$out.$n")
    [ $n = 1 ] && [ -n "$hook" ] && $hook
    [ -n "$cont" ] || break
  done
  PAGES=$n
}
page_all 3 "$T/page"
check "paging: limit=3 over 7 items takes 3 pages" test "$PAGES" = 3
jcheck "paging: first page has 3 items, continue, remainingItemCount 4" \
  'len(b["items"]) == 3 and b["metadata"]["continue"] and b["metadata"]["remainingItemCount"] == 4' "$T/page.1"
jcheck "paging: the last page has no continue" 'len(b["items"]) == 1 and "continue" not in b["metadata"]' "$T/page.3"
check "paging: every item once, in order" python3 -c '
import json, sys
names = [i["metadata"]["name"] for p in sys.argv[1:] for i in json.load(open(p))["items"]]
print("got", names)
sys.exit(0 if names == ["pg-%d" % i for i in range(7)] else 1)' "$T/page.1" "$T/page.2" "$T/page.3"
check "paging: every page carries the first page's resourceVersion" python3 -c '
import json, sys
rvs = {json.load(open(p))["metadata"]["resourceVersion"] for p in sys.argv[1:]}
print("got", rvs)
sys.exit(0 if len(rvs) == 1 else 1)' "$T/page.1" "$T/page.2" "$T/page.3"
CONT=$(jget 'b["metadata"]["continue"]' "$T/page.1")
req GET "$PP?limit=3&continue=$CONT&resourceVersion=1"
jcheck "continue with a resourceVersion: 400" 'code == 400 and b["message"] == "specifying resource version is not allowed when using continue"'
late_create() { req POST "$PP" "$(pod pg-9)"; }
page_all 3 "$T/snap" late_create
check "paging: later pages are served at the first page's snapshot (no pg-9)" python3 -c '
import json, sys
names = [i["metadata"]["name"] for p in sys.argv[1:] for i in json.load(open(p))["items"]]
print("got", names)
sys.exit(0 if names == ["pg-%d" % i for i in range(7)] else 1)' "$T"/snap.[0-9]*

# ---- watch ---------------------------------------------------------------------

mkns w
mkns wb
WP=$(pods_in w)
req POST "$WP" "$(pod w-old '"labels":{"app":"web"}')"
req POST "$WP" "$(pod w-one '"labels":{"app":"other"}')"
RV0=$(rv)
req GET "$(pods_in wb)"
RVB=$(jget 'b["metadata"]["resourceVersion"]')
W=$T/watch
watch_bg "$W.fromrv" "$WP?watch=1&resourceVersion=$RV0&timeoutSeconds=4"
watch_bg "$W.unset" "$WP?watch=1&timeoutSeconds=4"
watch_bg "$W.zero" "$WP?watch=1&resourceVersion=0&timeoutSeconds=4"
watch_bg "$W.label" "$WP?watch=true&labelSelector=app%3Dweb&timeoutSeconds=4"
watch_bg "$W.name" "$WP?watch=true&fieldSelector=metadata.name%3Dw-one&timeoutSeconds=4"
watch_bg "$W.bm" "$(pods_in wb)?watch=1&resourceVersion=$RVB&allowWatchBookmarks=true&timeoutSeconds=5"
watch_bg "$W.nobm" "$(pods_in wb)?watch=1&resourceVersion=$RVB&timeoutSeconds=5"
check "seven watches open" wait_open "$W".{fromrv,unset,zero,label,name,bm,nobm}
req POST "$WP" "$(pod w-new '"labels":{"app":"web"}')"
req PATCH "$WP/w-new" '{"metadata":{"labels":{"app":"db"}}}' application/merge-patch+json
RV_LEAVE=$(rv)
req PATCH "$WP/w-one" '{"metadata":{"labels":{"x":"y"}}}' application/merge-patch+json
req DELETE "$WP/w-one"
wait_rc "$W".{fromrv,unset,zero,label,name,bm,nobm}

EVS='[(e["type"], e["object"]["metadata"]["name"]) for e in ev]'
jcheck "watch from resourceVersion N: only later changes" \
  "$EVS == [('ADDED', 'w-new'), ('MODIFIED', 'w-new'), ('MODIFIED', 'w-one'), ('DELETED', 'w-one')]" "$W.fromrv"
jcheck "watch from N: every event's resourceVersion > N" \
  "all(int(e['object']['metadata']['resourceVersion']) > $RV0 for e in ev) and ev" "$W.fromrv"
jcheck "watch events carry full objects (kind, apiVersion)" \
  'ev and all(e["object"]["kind"] == "Pod" and e["object"]["apiVersion"] == "v1" for e in ev)' "$W.fromrv"
jcheck "watch with resourceVersion unset: synthetic ADDED first" \
  "$EVS == [('ADDED', 'w-old'), ('ADDED', 'w-one'), ('ADDED', 'w-new'), ('MODIFIED', 'w-new'), ('MODIFIED', 'w-one'), ('DELETED', 'w-one')]" "$W.unset"
jcheck "watch with resourceVersion=0: synthetic ADDED first" \
  "$EVS == [('ADDED', 'w-old'), ('ADDED', 'w-one'), ('ADDED', 'w-new'), ('MODIFIED', 'w-new'), ('MODIFIED', 'w-one'), ('DELETED', 'w-one')]" "$W.zero"
jcheck "label-selector watch: leaving the selection is DELETED" \
  "$EVS == [('ADDED', 'w-old'), ('ADDED', 'w-new'), ('DELETED', 'w-new')]" "$W.label"
jcheck "label-selector DELETED: old object at the event's resourceVersion" \
  "ev[-1]['object']['metadata']['labels'] == {'app': 'web'} and ev[-1]['object']['metadata']['resourceVersion'] == '$RV_LEAVE'" "$W.label"
jcheck "single-name watch (fieldSelector metadata.name)" \
  "$EVS == [('ADDED', 'w-one'), ('MODIFIED', 'w-one'), ('DELETED', 'w-one')]" "$W.name"
check "timeoutSeconds=4 ends the stream cleanly (curl rc 0)" test "$(cat "$W.fromrv.rc")" = 0
check "timeoutSeconds=4 ends the stream in 3-8 s ($(cat "$W.fromrv.time") ms)" \
  test "$(cat "$W.fromrv.time")" -ge 3000 -a "$(cat "$W.fromrv.time")" -le 8000
check "watch response: Content-Type application/json" grep -qi '^Content-Type: application/json' "$W.fromrv.h"
check "watch response: chunked" grep -qi '^Transfer-Encoding: chunked' "$W.fromrv.h"
jcheck "allowWatchBookmarks: a BOOKMARK before the deadline" \
  'any(e["type"] == "BOOKMARK" and e["object"]["kind"] == "Pod" and e["object"]["apiVersion"] == "v1" and re.fullmatch("[0-9]+", e["object"]["metadata"]["resourceVersion"]) for e in ev)' "$W.bm"
jcheck "no BOOKMARK unless allowWatchBookmarks" 'not any(e["type"] == "BOOKMARK" for e in ev)' "$W.nobm"

# ---- graceful delete -----------------------------------------------------------

gone_at_once() { req GET "$PODS/$1"; [ "$CODE" = 404 ]; }
req POST $PODS "$(pod gd-bound '' '"nodeName":"node-1"')"
NOW=$(date +%s)
req DELETE $PODS/gd-bound
jcheck "delete a bound pod: 200 with the terminating pod" 'code == 200 and b["kind"] == "Pod" and b["metadata"].get("deletionTimestamp")'
jcheck "delete a bound pod: deletionGracePeriodSeconds 30" 'b["metadata"].get("deletionGracePeriodSeconds") == 30'
jcheck "delete a bound pod: deletionTimestamp = now + 30 s" \
  "abs(__import__('calendar').timegm(__import__('time').strptime(b['metadata']['deletionTimestamp'], '%Y-%m-%dT%H:%M:%SZ')) - $NOW - 30) <= 3"
req GET $PODS/gd-bound
jcheck "a terminating pod stays" 'code == 200 and b["metadata"].get("deletionTimestamp") and b["metadata"].get("deletionGracePeriodSeconds") == 30'
req POST $PODS "$(pod gd-short '' '"nodeName":"node-1","terminationGracePeriodSeconds":5')"
req DELETE $PODS/gd-short
jcheck "grace period from spec.terminationGracePeriodSeconds" 'code == 200 and b["metadata"].get("deletionGracePeriodSeconds") == 5'
req POST $PODS "$(pod gd-req '' '"nodeName":"node-1"')"
req DELETE "$PODS/gd-req?gracePeriodSeconds=7"
jcheck "grace period from ?gracePeriodSeconds=7" 'code == 200 and b["metadata"].get("deletionGracePeriodSeconds") == 7'
req DELETE "$PODS/gd-bound?gracePeriodSeconds=0"
check "a second delete with gracePeriodSeconds=0 removes a terminating pod" gone_at_once gd-bound
req POST $PODS "$(pod gd-unbound)"
req DELETE $PODS/gd-unbound
jcheck "delete an unscheduled pod: 200" 'code == 200 and b["metadata"]["name"] == "gd-unbound"'
check "an unscheduled pod disappears at once" gone_at_once gd-unbound
req POST $PODS "$(pod gd-zero '' '"nodeName":"node-1"')"
req DELETE "$PODS/gd-zero?gracePeriodSeconds=0"
check "gracePeriodSeconds=0 (query) removes at once" gone_at_once gd-zero
req POST $PODS "$(pod gd-body '' '"nodeName":"node-1"')"
req DELETE "$PODS/gd-body" '{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0}'
check "gracePeriodSeconds=0 (DeleteOptions body) removes at once" gone_at_once gd-body
req POST $PODS "$(pod gd-force '' '"nodeName":"node-1"')"
expect_output "kubectl delete --grace-period=0 --force" 'pod "gd-force" force deleted' \
  k delete pod gd-force --grace-period=0 --force
check "kubectl force delete removed it" gone_at_once gd-force

# ---- namespaces --------------------------------------------------------------------

mkns doomed
req DELETE /api/v1/namespaces/doomed
jcheck "delete namespace: 200, Terminating, deletionTimestamp" 'code == 200 and b["kind"] == "Namespace" and b["status"]["phase"] == "Terminating" and b["metadata"].get("deletionTimestamp")'
req GET /api/v1/namespaces/doomed
jcheck "a deleted namespace reads as Terminating" 'code == 200 and b["status"]["phase"] == "Terminating"'
req POST "$(pods_in doomed)" "$(pod late)"
jcheck "create in a terminating namespace: 403 Forbidden" 'code == 403 and b["reason"] == "Forbidden" and b["code"] == 403'
jcheck "403 terminating: upstream message" 'b["message"] == "pods \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated"'
jcheck "403 terminating: NamespaceTerminating cause" '{"reason": "NamespaceTerminating", "message": "namespace doomed is being terminated", "field": "metadata.namespace"} in b["details"]["causes"]'
jcheck "403 terminating: details name and kind" 'b["details"].get("name") == "late" and b["details"].get("kind") == "pods"'
req POST "$(pods_in doomed)" '{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"gg-"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
jcheck "403 terminating with generateName names the prefix" 'code == 403 and b["message"] == "pods \"gg-\" is forbidden: unable to create new content in namespace doomed because it is being terminated"'
req DELETE /api/v1/namespaces/default
jcheck "delete default: 403 Forbidden" 'code == 403 and b["reason"] == "Forbidden"'
jcheck "delete default: upstream message" 'b["message"] == "namespaces \"default\" is forbidden: this namespace may not be deleted"'
jcheck "delete default: details name and kind" 'b["details"] == {"name": "default", "kind": "namespaces"}'
req GET /api/v1/namespaces/default
jcheck "default stays Active" 'b["status"]["phase"] == "Active" and not b["metadata"].get("deletionTimestamp")'
req DELETE /api/v1/namespaces/kube-system
jcheck "delete kube-system: 403 and message" 'code == 403 and b["message"] == "namespaces \"kube-system\" is forbidden: this namespace may not be deleted"'
expect_fail "kubectl delete namespace kube-public" \
  'Error from server \(Forbidden\): namespaces "kube-public" is forbidden: this namespace may not be deleted' \
  k delete namespace kube-public

# ---- update, status, patch ------------------------------------------------------

req POST $PODS "$(pod upd '"labels":{"a":"1"}')"
RV1=$(rv)
req PUT $PODS/upd "$(jget 'json.dumps(dict(b, metadata=dict(b["metadata"], labels={"a": "2", "b": "3"}), status={"phase": "Running"}))')"
jcheck "PUT: labels change" 'code == 200 and b["metadata"]["labels"] == {"a": "2", "b": "3"}'
jcheck "PUT: status in the body is ignored" 'b["status"]["phase"] == "Pending"'
check "PUT: resourceVersion bumped" test "$(rv)" -gt "$RV1"
req PUT $PODS/upd/status "$(jget 'json.dumps(dict(b, status=dict(b["status"], phase="Running"), spec=dict(b["spec"], containers=[dict(b["spec"]["containers"][0], image="nginx")])))')"
jcheck "PUT /status: status changes" 'code == 200 and b["status"]["phase"] == "Running"'
jcheck "PUT /status: spec is ignored" 'b["spec"]["containers"][0]["image"] == "busybox"'
req GET $PODS/upd
jcheck "PUT /status: stored" 'b["status"]["phase"] == "Running" and b["spec"]["containers"][0]["image"] == "busybox"'
req PATCH $PODS/upd '{"metadata":{"labels":{"b":null,"c":"4"}}}' application/merge-patch+json
jcheck "merge patch: set and delete (null) labels" 'code == 200 and b["metadata"]["labels"] == {"a": "2", "c": "4"}'
req PATCH $PODS/upd '[{"op":"add","path":"/metadata/labels/d","value":"5"},{"op":"replace","path":"/metadata/labels/a","value":"9"}]' application/json-patch+json
jcheck "JSON patch: add and replace" 'code == 200 and b["metadata"]["labels"] == {"a": "9", "c": "4", "d": "5"}'
RV2=$(rv)
req PATCH $PODS/upd '[{"op":"test","path":"/metadata/labels/a","value":"9"},{"op":"add","path":"/metadata/labels/e","value":"6"}]' application/json-patch+json
jcheck "JSON patch: a passing test applies the rest" 'code == 200 and b["metadata"]["labels"].get("e") == "6"'
RV2=$(rv)
req PATCH $PODS/upd '[{"op":"test","path":"/metadata/labels/a","value":"nope"},{"op":"add","path":"/metadata/labels/f","value":"7"}]' application/json-patch+json
jcheck "JSON patch: a failing test is 422 Invalid" 'code == 422 and b["reason"] == "Invalid" and b["code"] == 422'
jcheck "JSON patch test failure: upstream message" 'b["message"] == "the server rejected our request due to an error in our request"'
req GET $PODS/upd
jcheck "JSON patch test failure: nothing applied" "'f' not in b['metadata']['labels'] and b['metadata']['resourceVersion'] == '$RV2'"
expect_fail "kubectl patch --type=json with a failing test" 'rejected our request due to an error in our request' \
  k patch pod upd --type=json -p '[{"op":"test","path":"/metadata/labels/a","value":"nope"}]'

# ---- plugins --------------------------------------------------------------------

APISERVER=$KAPI_BUILDDIR/kapi-apiserver
"$APISERVER" --list-plugins --no-default-plugins --plugin-dir "$PLUGINS" \
  --authorization-mode AlwaysDeny,AlwaysAllow >"$T/list.out" 2>&1
LIST_RC=$?
check "--list-plugins exits 0" test "$LIST_RC" = 0
check "--list-plugins: the chain in order" python3 -c '
import re, sys
lines = [l for l in open(sys.argv[1]) if not l.rstrip().endswith("disabled")]
chain = [tuple(l.split()[:2]) for l in lines if re.match(r"(authn|authz|admission|resource)\s", l)]
print(open(sys.argv[1]).read())
def kind(k): return [n for (c, n) in chain if c == k]
# authenticators by priority, authorizers as --authorization-mode lists
# them, admission in upstream recommended order, resources by name.
ok = kind("authn")[:2] == ["x509", "Anonymous"]
ok &= kind("authz") == ["AlwaysDeny", "AlwaysAllow"]
order = ["NamespaceLifecycle", "LimitRanger", "PodSecurity", "DefaultTolerationSeconds"]
ok &= [n for n in kind("admission") if n in order] == order
res = kind("resource")
ok &= res == sorted(res) and {"pods", "nodes", "namespaces", "replicasets.apps"} <= set(res)
sys.exit(0 if ok else 1)' "$T/list.out"
expect_output "--list-plugins: names each plugin's file" "^plugin +pod +[0-9.]+ +\\($PLUGINS/pod\\.so\\)" cat "$T/list.out"

# refused NAME REGEX CMD...: the server must exit non-zero on its own
# (not be killed by the timeout) and say REGEX.
refused() {
  local name=$1 re=$2 rc; shift 2
  timeout 10 "$@" >"$T/out" 2>&1; rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -Eq -- "$re" "$T/out"; then ok "$name"; else
    not_ok "$name (rc $rc, wanted /$re/)"; sed 's/^/    /' "$T/out"; fi
}
BAD=$T/bad-plugins
mkdir -p "$BAD"; chmod 755 "$BAD"
cp "$PLUGINS"/*.so "$BAD/"
cat >"$T/future-abi.c" <<'C'
#include "kapi/plugin.h"
static int init(kapi_plugin *self, const kapi_host_api *api, const char *cfg,
                size_t len, kapi_error *e)
{
  (void)self, (void)api, (void)cfg, (void)len, (void)e;
  return 0;
}
KAPI_EXPORT const kapi_plugin_desc *kapi_plugin_describe(void);
const kapi_plugin_desc *kapi_plugin_describe(void)
{
  static const kapi_plugin_desc d = {
    .magic = KAPI_PLUGIN_MAGIC, .size = sizeof(kapi_plugin_desc),
    .abi_major = 2, .abi_minor = 0, .ptr_size = sizeof(void *),
    .name = "future-abi", .version = "1.0.0", .init = init,
  };
  return &d;
}
C
check "compile a plugin built for ABI 2.0" \
  cc -shared -fPIC -fvisibility=hidden -I"$KAPI_SRCDIR/include" -o "$BAD/future-abi.so" "$T/future-abi.c"
chmod 644 "$BAD/future-abi.so"
refused "a plugin for ABI major 2 stops the server, naming the file and ABI" \
  "$BAD/future-abi\\.so.*ABI|ABI.*$BAD/future-abi\\.so" \
  "$APISERVER" --data-dir "$T/data-bad" --insecure-port 0 --no-default-plugins \
  --plugin-dir "$BAD" --authorization-mode AlwaysAllow
refused "--list-plugins refuses it too" "$BAD/future-abi\\.so.*ABI" \
  "$APISERVER" --list-plugins --no-default-plugins --plugin-dir "$BAD"
rm -f "$BAD/future-abi.so"
chmod 775 "$BAD"
refused "a group-writable plugin directory is refused" "$BAD.*writable" \
  "$APISERVER" --data-dir "$T/data-bad" --insecure-port 0 --no-default-plugins \
  --plugin-dir "$BAD" --authorization-mode AlwaysAllow
chmod 755 "$BAD"
chmod 664 "$BAD/pod.so"
refused "a group-writable plugin file is refused" "$BAD/pod\\.so.*writable" \
  "$APISERVER" --data-dir "$T/data-bad" --insecure-port 0 --no-default-plugins \
  --plugin-dir "$BAD" --authorization-mode AlwaysAllow

# ---- many watchers ----------------------------------------------------------------

mkns fan
FP=$(pods_in fan)
req GET "$FP"
FRV=$(jget 'b["metadata"]["resourceVersion"]')
FAN=$T/fan
mkdir -p "$FAN"
FAN_PIDS=()
for i in $(seq 1 300); do
  curl -sN -D "$FAN/$i.h" -o "$FAN/$i" -m 30 "$SERVER$FP?watch=1&resourceVersion=$FRV&timeoutSeconds=25" &
  FAN_PIDS+=($!)
done
for i in $(seq 1 150); do
  OPEN=$(grep -l '^HTTP/1.1 200' "$FAN"/*.h 2>/dev/null | wc -l)
  [ "$OPEN" -ge 300 ] && break
  sleep 0.1
done
check "300 concurrent watches open ($OPEN)" test "$OPEN" -ge 300
sleep 1
ALIVE=0
for p in "${FAN_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && ALIVE=$((ALIVE + 1)); done
check "300 watches stay open ($ALIVE)" test "$ALIVE" = 300
THREADS=$(awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status")
req POST "$FP" "$(pod fanned)"
for i in $(seq 1 100); do
  GOT=$(cat "$FAN"/[0-9]* | grep -c '"type":"ADDED".*"name":"fanned"')
  [ "$GOT" -ge 300 ] && break
  sleep 0.1
done
check "one create reaches all 300 watchers ($GOT ADDED)" test "$GOT" = 300
THREADS2=$(awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status")
check "server threads stay few with 300 watches ($THREADS, $THREADS2)" \
  test "$THREADS" -lt 50 -a "$THREADS2" -lt 50
kill "${FAN_PIDS[@]}" 2>/dev/null
wait "${FAN_PIDS[@]}" 2>/dev/null
check "server still answers after the watchers left" curl -fsS "$SERVER/readyz"

# ---- restart: a too-old resourceVersion -------------------------------------------

stop_server
start_server || exit 1
watch_bg "$W.old" "$PODS?watch=1&resourceVersion=1"
wait_rc "$W.old"
jcheck "after a restart, an old resourceVersion gives one ERROR event" \
  'len(ev) == 1 and ev[0]["type"] == "ERROR"' "$W.old"
jcheck "the ERROR is a 410 Expired Status" \
  'ev[0]["object"]["kind"] == "Status" and ev[0]["object"]["status"] == "Failure" and ev[0]["object"]["code"] == 410 and ev[0]["object"]["reason"] == "Expired"' "$W.old"
jcheck "the ERROR message" 're.fullmatch(r"too old resource version: 1 \(\d+\)", ev[0]["object"]["message"])' "$W.old"
check "the stream opened with 200" grep -q '^HTTP/1.1 200' "$W.old.h"
check "the server then ends the stream" test "$(cat "$W.old.rc")" = 0

finish
