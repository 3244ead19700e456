#!/usr/bin/env bash
# kapi-scheduler against a real kapi-apiserver, driven with the real
# kubectl: nodes made with kubectl, pods bound (spec.nodeName, PodScheduled
# True, a Scheduled event), taints repelling, an impossible pod left
# Pending with upstream's FailedScheduling message, a new node rescuing
# it, an out-of-tree Score plugin (built here with one cc line) changing
# placement through a KubeSchedulerConfiguration, and leader election.
. "$(dirname "$0")/lib.sh"

SCHED=$KAPI_BUILDDIR/kapi-scheduler
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$SCHED" ] || { echo "skipped: kapi-scheduler not built"; exit 77; }
ls "$KAPI_BUILDDIR"/sched-plugins/*/.libs/*.so >/dev/null 2>&1 ||
  { echo "skipped: the scheduler plugins are not built"; exit 77; }
command -v cc >/dev/null || { echo "skipped: no cc"; exit 77; }

SCHED_PID=
stop_scheduler() {
  if [ -n "$SCHED_PID" ]; then
    kill "$SCHED_PID" 2>/dev/null
    wait "$SCHED_PID" 2>/dev/null
    SCHED_RC=$?
    SCHED_PID=
  fi
}
trap 'stop_scheduler; cleanup' EXIT

# The scheduler plugins, in a directory only we can write.
SP=$T/sched-plugins
mkdir -p "$SP"
chmod 755 "$SP"
install -m 644 "$KAPI_BUILDDIR"/sched-plugins/*/.libs/*.so "$SP/"

start_scheduler() { # start_scheduler [flags...]
  "$SCHED" --kubeconfig "$KUBECONFIG" --no-default-plugins --plugin-dir "$SP" \
    -v 2 "$@" 2>>"$T/scheduler.log" &
  SCHED_PID=$!
}

# wait_for DESCRIPTION SECONDS CMD...: polls until CMD succeeds.
wait_for() {
  local what=$1 secs=$2 i; shift 2
  for i in $(seq 1 $((secs * 5))); do
    "$@" >/dev/null 2>&1 && { ok "$what"; return 0; }
    sleep 0.2
  done
  not_ok "$what (waited ${secs}s)"
  "$@" 2>&1 | sed 's/^/    /'
  tail -20 "$T/scheduler.log" | sed 's/^/    log: /'
  return 1
}

# jq_ok EXPR CMD...: the JSON CMD prints satisfies the Python EXPR over b.
jq_ok() {
  local expr=$1; shift
  "$@" 2>/dev/null | python3 -c '
import json, re, sys
b = json.load(sys.stdin)
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$expr"
}

node_of() { k get pod "$1" -o jsonpath='{.spec.nodeName}'; }

# make_node NAME CPU MEMORY [TAINT-YAML]: a Node with allocatable set
# through the status subresource, as a kubelet would.
make_node() {
  cat >"$T/node.yaml" <<Y
apiVersion: v1
kind: Node
metadata:
  name: $1
  labels: {kubernetes.io/hostname: $1}
spec: {${4:-}}
Y
  k apply -f "$T/node.yaml" >/dev/null || return 1
  k patch node "$1" --subresource=status --type=merge -p "{\"status\":{\"capacity\":{\"cpu\":\"$2\",\"memory\":\"$3\",\"pods\":\"110\"},\"allocatable\":{\"cpu\":\"$2\",\"memory\":\"$3\",\"pods\":\"110\"}}}" >/dev/null
}

make_pod() { # make_pod NAME CPU [extra spec YAML lines]
  cat >"$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.10
    resources: {requests: {cpu: "$2", memory: 64Mi}}
${3:-}
Y
  k apply -f "$T/pod.yaml" >/dev/null
}

start_server || exit 1

# ---- nodes and binding --------------------------------------------------

if make_node n1 2 4Gi && make_node n2 2 4Gi &&
   make_node n3 4 8Gi "taints: [{key: dedicated, value: gpu, effect: NoSchedule}]"; then
  ok "3 nodes created with kubectl"
else
  not_ok "3 nodes created with kubectl"
fi
start_scheduler --leader-elect=false

for i in 1 2 3 4 5; do make_pod "p$i" 100m; done
wait_for "pods get bound" 15 sh -c '
  for i in 1 2 3 4 5; do
    [ -n "$('"$KUBECTL"' --cache-dir '"$T"'/kcache get pod p$i -o jsonpath={.spec.nodeName} </dev/null)" ] || exit 1
  done'
check "the tainted node repels every pod" sh -c '
  for i in 1 2 3 4 5; do
    n=$('"$KUBECTL"' --cache-dir '"$T"'/kcache get pod p$i -o jsonpath={.spec.nodeName} </dev/null)
    [ "$n" = n1 ] || [ "$n" = n2 ] || exit 1
  done'
expect_output "a bound pod is PodScheduled=True" "^True$" \
  k get pod p1 -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}'
P1_NODE=$(node_of p1)
wait_for "the Scheduled event shows in kubectl describe" 10 sh -c \
  "$KUBECTL --cache-dir '$T/kcache' describe pod p1 </dev/null | grep -E 'Normal +Scheduled +.* default-scheduler +Successfully assigned default/p1 to $P1_NODE'"
check "LeastAllocated spreads the pods over n1 and n2" sh -c '
  a=0; b=0
  for i in 1 2 3 4 5; do
    case $('"$KUBECTL"' --cache-dir '"$T"'/kcache get pod p$i -o jsonpath={.spec.nodeName} </dev/null) in
      n1) a=$((a+1));; n2) b=$((b+1));;
    esac
  done
  [ $a -ge 2 ] && [ $b -ge 2 ]'

# A pod tolerating the taint may go there.
make_pod tolerant 3 "  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]"
wait_for "a tolerating pod lands on the tainted node" 15 \
  sh -c "[ \"\$($KUBECTL --cache-dir '$T/kcache' get pod tolerant -o jsonpath={.spec.nodeName} </dev/null)\" = n3 ]"

# ---- an impossible pod ------------------------------------------------------

MSG='0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..'
make_pod huge 3
wait_for "a pod wanting more cpu than any node gets PodScheduled=False" 15 \
  jq_ok "[c for c in b['status'].get('conditions', []) if c['type'] == 'PodScheduled' and c['status'] == 'False' and c['reason'] == 'Unschedulable']" \
  k get pod huge -o json
k get pod huge -o json >"$T/body"
CODE=200
jcheck "its condition carries upstream's FitError message" \
  "[c['message'] for c in b['status']['conditions'] if c['type'] == 'PodScheduled'] == ['$MSG']"
jcheck "it stays Pending and unbound" \
  "b['status']['phase'] == 'Pending' and not b['spec'].get('nodeName')"
wait_for "kubectl describe shows the FailedScheduling event" 10 sh -c \
  "$KUBECTL --cache-dir '$T/kcache' describe pod huge </dev/null | grep FailedScheduling | grep -qF '$MSG'"

# A new node big enough: the unschedulable pod is retried at once.
make_node n4 8 16Gi
wait_for "a new node makes the waiting pod schedulable" 15 \
  sh -c "[ \"\$($KUBECTL --cache-dir '$T/kcache' get pod huge -o jsonpath={.spec.nodeName} </dev/null)\" = n4 ]"

# Pods of another scheduler are left alone.
make_pod other 100m "  schedulerName: other-scheduler"
sleep 1.5
check "a pod for another scheduler stays unscheduled" sh -c "[ -z \"\$($KUBECTL --cache-dir '$T/kcache' get pod other -o jsonpath='{.spec.nodeName}{.status.conditions}' </dev/null)\" ]"

stop_scheduler
check "SIGTERM stops the scheduler cleanly" test "$SCHED_RC" = 0

# ---- an out-of-tree Score plugin -------------------------------------------------

mkdir -p "$T/oot"
chmod 755 "$T/oot"
cat >"$T/oot/prefer_label.c" <<'C'
/* PreferLabel: scores 100 the nodes carrying the configured label. */
#include <stdio.h>
#include <string.h>
#include "kapi/plugin.h"

static const kapi_host_api *api;
static char label[256] = "preferred";

static kapi_code score(void *st, kapi_cycle *cs, const kapi_obj *pod,
                       const kapi_node_info *node, int64_t *out,
                       kapi_sched_status *s)
{
  const kapi_obj *labels = api->obj_lookup(api->node_obj(node),
                                           "/metadata/labels");
  (void)st; (void)cs; (void)pod; (void)s;
  *out = 0;
  for (size_t i = 0; i < api->obj_len(labels); i++)
    if (!strcmp(api->obj_key(labels, i), label))
      *out = KAPI_MAX_NODE_SCORE;
  return KAPI_SUCCESS;
}

static const kapi_sched_ops ops = {.size = sizeof(kapi_sched_ops),
                                   .score = score};

static int init(kapi_plugin *self, const kapi_host_api *host,
                const char *config, size_t len, kapi_error *e)
{
  const char *k = config ? strstr(config, "\"label\"") : NULL;
  (void)len; (void)e;
  api = host;
  if (k && (k = strchr(k + 7, '"')))
    sscanf(k + 1, "%255[^\"]", label);
  return api->register_sched(self, "PreferLabel", &ops, NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "prefer-label", .version = "1.0",
                   .description = "prefers labelled nodes", .init = init);
C
check "an out-of-tree plugin builds with one cc line" \
  cc -std=c11 -shared -fPIC -fvisibility=hidden -I "$SRCDIR/include" \
    -o "$SP/prefer-label.so" "$T/oot/prefer_label.c"
chmod 644 "$SP/prefer-label.so"
cat >"$T/sched.yaml" <<Y
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: true
  leaseDuration: 5s
  renewDeadline: 4s
  retryPeriod: 1s
profiles:
- schedulerName: default-scheduler
  plugins:
    multiPoint:
      enabled:
      - name: PreferLabel
        weight: 50
  pluginConfig:
  - name: PreferLabel
    args:
      label: kapi.test/preferred
Y
k label node n1 kapi.test/preferred=yes >/dev/null
start_scheduler --config "$T/sched.yaml"
for i in 1 2 3; do make_pod "lab$i" 100m; done
wait_for "pods scheduled under the configured profile" 15 sh -c '
  for i in 1 2 3; do
    [ -n "$('"$KUBECTL"' --cache-dir '"$T"'/kcache get pod lab$i -o jsonpath={.spec.nodeName} </dev/null)" ] || exit 1
  done'
check "the out-of-tree Score plugin puts them all on the labelled node" sh -c '
  for i in 1 2 3; do
    [ "$('"$KUBECTL"' --cache-dir '"$T"'/kcache get pod lab$i -o jsonpath={.spec.nodeName} </dev/null)" = n1 ] || exit 1
  done'
wait_for "the leader holds the Lease kube-system/kube-scheduler" 10 \
  jq_ok "b['spec'].get('holderIdentity')" \
  k get lease -n kube-system kube-scheduler -o json
stop_scheduler
check "the leader stops cleanly" test "$SCHED_RC" = 0
jq_ok "not b['spec'].get('holderIdentity')" \
  k get lease -n kube-system kube-scheduler -o json &&
  ok "stopping releases the Lease" || not_ok "stopping releases the Lease"

# A configuration error is reported and fatal.
cat >"$T/bad.yaml" <<Y
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    score:
      enabled: [{name: NoSuchPlugin}]
Y
expect_fail "an unknown plugin in the configuration is fatal" \
  'ScorePlugin "NoSuchPlugin" does not exist' \
  "$SCHED" --kubeconfig "$KUBECONFIG" --no-default-plugins --plugin-dir "$SP" \
  --config "$T/bad.yaml"

finish
