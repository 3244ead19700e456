#!/usr/bin/env bash
# GET /metrics over HTTPS with RBAC: the admin (system:masters) reads
# it with kubectl get --raw, a user without the nonResourceURL rule is
# refused; requests move apiserver_request_total with upstream's labels
# (verb as cleanVerb, scope as CleanScope, the status code), watches
# count their events, the store its group commits; a resource nobody
# serves is not recorded (bounded cardinality, as upstream).
. "$(dirname "$0")/lib.sh"

: "${PLUGINS:=$(make_plugin_dir)}"
"$KAPI_BUILDDIR/kapi-apiserver" --no-default-plugins --plugin-dir "$PLUGINS" \
  --list-plugins >"$T/plugins.txt" 2>&1
grep -Eq '^authz +RBAC ' "$T/plugins.txt" || { echo "skipped: no RBAC plugin"; exit 77; }

start_pki_server --authorization-mode RBAC || exit 1
kc_cert kube-scheduler
M=$T/metrics

scrape() { k get --raw /metrics >"$M" 2>"$T/scrape.err"; }
# has NAME LINE-REGEX: the last scrape has a matching line.
has() {
  if grep -Eq -- "$2" "$M"; then ok "$1"; else
    not_ok "$1 (wanted /$2/)"; grep -E -- "${3:-^apiserver_request_total}" "$M" | sed 's/^/    /' | head -40; fi
}
# value LINE-PREFIX: the value of the series whose line starts so.
value() { grep -F -- "$1" "$M" | head -1 | awk '{print $NF}'; }

RT='apiserver_request_total{'
L='group="",version="v1",resource="configmaps",subresource=""'

check "admin creates a configmap" k create configmap m1 --from-literal=a=b
check "admin gets it" k get configmap m1
check "admin lists configmaps" k get configmaps
expect_fail "a missing configmap is a 404" "NotFound" k get configmap nope
# a watch is recorded when it ends, as upstream's handler returns then
check "a watch runs to its timeout" \
  k get --raw '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1'
expect_fail "the scheduler may not list secrets" "Forbidden" \
  k --kubeconfig "$T/kc-kube-scheduler" get secrets
expect_fail "a resource nobody serves is a 404" "NotFound|could not find" \
  k get --raw /api/v1/namespaces/default/frobnicators
check "apply (server-side)" sh -c "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m2}\ndata: {x: y}\n' |
  $KUBECTL --cache-dir $T/kcache apply --server-side -f -"

check "admin reads /metrics with kubectl get --raw" scrape
has "create counted as POST at resource scope" \
  "^${RT}verb=\"POST\",dry_run=\"\",${L},scope=\"resource\",component=\"apiserver\",code=\"201\"} [1-9]"
has "get counted as GET at resource scope" \
  "^${RT}verb=\"GET\",dry_run=\"\",${L},scope=\"resource\",component=\"apiserver\",code=\"200\"} [1-9]"
has "list counted as LIST at namespace scope" \
  "^${RT}verb=\"LIST\",dry_run=\"\",${L},scope=\"namespace\",component=\"apiserver\",code=\"200\"} [1-9]"
has "the 404 counted with its code" \
  "^${RT}verb=\"GET\",dry_run=\"\",${L},scope=\"resource\",component=\"apiserver\",code=\"404\"} 1$"
has "the watch counted as WATCH" \
  "^${RT}verb=\"WATCH\",dry_run=\"\",${L},scope=\"namespace\",component=\"apiserver\",code=\"200\"} 1$"
has "the 403 counted with its code" \
  "^${RT}verb=\"LIST\",dry_run=\"\",group=\"\",version=\"v1\",resource=\"secrets\",subresource=\"\",scope=\"namespace\",component=\"apiserver\",code=\"403\"} 1$"
has "server-side apply counted as APPLY" \
  "^${RT}verb=\"APPLY\",dry_run=\"\",${L},scope=\"resource\",component=\"apiserver\",code=\"201\"} 1$"
if grep -q 'frobnicators' "$M"; then not_ok "an unserved resource is not recorded"
else ok "an unserved resource is not recorded"; fi
has "request durations are a histogram with upstream's buckets" \
  "^apiserver_request_duration_seconds_bucket\{verb=\"POST\",dry_run=\"\",${L},scope=\"resource\",component=\"apiserver\",le=\"0.005\"\} " \
  '^apiserver_request_duration'
has "the +Inf bucket" \
  "^apiserver_request_duration_seconds_bucket\{verb=\"POST\",dry_run=\"\",${L},scope=\"resource\",component=\"apiserver\",le=\"\+Inf\"\} [1-9]" \
  '^apiserver_request_duration'
has "watch events counted by group, version, kind" \
  '^apiserver_watch_events_total\{group="",version="v1",kind="ConfigMap"\} [1-9]' '^apiserver_watch'
has "no watch left open" \
  "^apiserver_longrunning_requests\{verb=\"WATCH\",${L},scope=\"namespace\",component=\"apiserver\"\} 0$" '^apiserver_long'
has "inflight requests by kind" \
  '^apiserver_current_inflight_requests\{request_kind="readOnly"\} 1$' '^apiserver_current'
has "store writes counted" '^kapi_store_writes_total [1-9]' '^kapi_store'
has "group commits timed" '^kapi_store_commit_duration_seconds_count [1-9]' '^kapi_store'
has "batch sizes" '^kapi_store_commit_batch_size_bucket\{le="1"\} ' '^kapi_store'
has "process resident memory" '^process_resident_memory_bytes [1-9]' '^process'
has "process start time" '^process_start_time_seconds [1-9]' '^process'
has "process open fds" '^process_open_fds [1-9]' '^process'
has "process CPU" '^# TYPE process_cpu_seconds_total counter' '^process'
has "HELP and TYPE" '^# TYPE apiserver_request_total counter$' '^#'

# the counter moves with the next request
before=$(value "${RT}verb=\"GET\",dry_run=\"\",${L},scope=\"resource\",component=\"apiserver\",code=\"200\"}")
k get configmap m1 >/dev/null
scrape
after=$(value "${RT}verb=\"GET\",dry_run=\"\",${L},scope=\"resource\",component=\"apiserver\",code=\"200\"}")
if [ -n "$before" ] && [ "$after" = $((before + 1)) ]; then ok "GET count moves by one ($before -> $after)"
else not_ok "GET count moves by one ($before -> $after)"; fi
# the first scrape is recorded once answered: seen by the second
has "non-resource paths recorded by path" \
  '^apiserver_request_total\{verb="GET",dry_run="",group="",version="",resource="",subresource="/metrics",scope="",component="",code="200"\} [1-9]'

expect_fail "/metrics refused to a user without the nonResourceURL rule" \
  'Forbidden|forbidden' k --kubeconfig "$T/kc-kube-scheduler" get --raw /metrics
out=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$T/pki/ca.crt" "$SERVER/metrics")
case $out in 401|403) ok "/metrics refused without credentials ($out)" ;;
  *) not_ok "/metrics refused without credentials (got $out)" ;; esac
ctype=$(curl -sS -o /dev/null -w '%{content_type}' --cacert "$T/pki/ca.crt" \
  --cert "$T/pki/admin.crt" --key "$T/pki/admin.key" "$SERVER/metrics")
if [ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ]; then ok "Content-Type is the text format 0.0.4"
else not_ok "Content-Type is the text format 0.0.4 (got $ctype)"; fi
scrape
has "the refused scrape counted as a 403" \
  '^apiserver_request_total\{verb="GET",dry_run="",group="",version="",resource="",subresource="/metrics",scope="",component="",code="403"\} [1-9]'

finish
