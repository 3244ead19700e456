#!/bin/bash
# kubectl logs through kapi-apiserver's pods/log, proxied to the
# kapi-kubelet server (process runtime) that serves the CRI log files:
# plain, --tail, --timestamps, -f, --previous and the container errors.
. "$(dirname "$0")/lib.sh"

KUBELET=$KAPI_BUILDDIR/kapi-kubelet
RUNTIMES=$T/runtime
mkdir -p "$RUNTIMES"
chmod 755 "$RUNTIMES"
for f in "$KAPI_BUILDDIR"/plugins/runtime/*/.libs/*.so; do
  install -m 644 "$f" "$RUNTIMES/"
done

KUBELET_PID=
FOLLOW_PID=
stop_all() {
  [ -n "$FOLLOW_PID" ] && kill "$FOLLOW_PID" 2>/dev/null
  if [ -n "$KUBELET_PID" ]; then
    kill "$KUBELET_PID" 2>/dev/null
    wait "$KUBELET_PID" 2>/dev/null
  fi
  KUBELET_PID=
}
trap 'stop_all; cleanup' EXIT

wait_for() { # NAME SECONDS CMD...
  local name=$1 secs=$2 i; shift 2
  for i in $(seq 1 $((secs * 5))); do
    if "$@" >"$T/out" 2>&1; then ok "$name"; return 0; fi
    sleep 0.2
  done
  not_ok "$name (timed out after ${secs}s)"; sed 's/^/    /' "$T/out"
  return 1
}
kapply() { "$KUBECTL" --cache-dir "$T/kcache" apply -f - >/dev/null; }
# pod NAME RESTART-POLICY SCRIPT [NODE]: a one-container pod "main".
pod() {
  kapply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: ${4-$NODE}
  restartPolicy: $2
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "$3"]
YAML
}

start_server

NODE=logs-node
"$KUBELET" --master "$SERVER" --plugin-dir "$RUNTIMES" --hostname-override "$NODE" \
  --root-dir "$T/kubelet" --node-status-update-frequency 1s --address 127.0.0.1 \
  --port 0 -v 2 2>>"$T/kubelet.log" &
KUBELET_PID=$!

node_port() {
  k get node "$NODE" -o 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port} {.status.addresses[?(@.type=="InternalIP")].address}' |
    grep -Eq '^[1-9][0-9]* 127\.0\.0\.1$'
}
wait_for "the node reports its kubelet port and address" 20 node_port

req GET /api/v1
jcheck "pods/log is in the discovery" \
  'any(r["name"] == "pods/log" and r["verbs"] == ["get"] for r in b["resources"])'

pod talker Always 'for i in 1 2 3; do echo line$i; done; sleep 30'
three_lines() { [ "$(k logs talker)" = "$(printf 'line1\nline2\nline3')" ]; }
wait_for "kubectl logs prints the container's three lines" 20 three_lines
expect_output "--tail=1 prints the last line only" '^line3$' k logs talker --tail=1
check "--tail=1 prints one line" sh -c "[ \$($KUBECTL --cache-dir $T/kcache logs talker --tail=1 | wc -l) = 1 ]"
ts_lines() {
  k logs talker --timestamps >"$T/ts" &&
    [ "$(grep -Ec '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z line[123]$' "$T/ts")" = 3 ]
}
check "--timestamps prefixes every line with an RFC3339Nano time" ts_lines
expect_output "limitBytes cuts the stream" '^line1$' \
  curl -sS "$SERVER/api/v1/namespaces/default/pods/talker/log?limitBytes=6"
expect_fail "--previous without a previous instance is an error" \
  'previous terminated container "main" in pod "talker" not found' k logs talker --previous

# -f streams what comes later, and ends when the container does.
pod follower Never 'echo first; sleep 2; echo later; sleep 1; echo last'
started() { k logs follower | grep -qx first; }
wait_for "the follower starts" 20 started
timeout 20 "$KUBECTL" --cache-dir "$T/kcache" logs -f follower >"$T/follow" 2>&1 &
FOLLOW_PID=$!
later() { grep -qx later "$T/follow"; }
wait_for "-f streams a line echoed later" 10 later
follow_ended() { ! kill -0 "$FOLLOW_PID" 2>/dev/null; }
wait_for "-f ends when the container exits" 15 follow_ended
check "-f printed every line in order" \
  sh -c "[ \"\$(cat $T/follow)\" = \"\$(printf 'first\nlater\nlast')\" ]"
FOLLOW_PID=

# --previous: the instance before the restart.
pod crasher Always 'echo run-$(date +%s%N); exit 1'
restarted() {
  [ "$(k get pod crasher -o 'jsonpath={.status.containerStatuses[0].restartCount}')" -ge 1 ] 2>/dev/null &&
    k logs crasher --previous | grep -Eq '^run-[0-9]+$' &&
    k logs crasher | grep -Eq '^run-[0-9]+$'
}
wait_for "the crashing container restarts" 40 restarted
prev_differs() {
  local a b
  a=$(k logs crasher --previous) && b=$(k logs crasher) && [ -n "$a" ] && [ "$a" != "$b" ]
}
check "--previous shows the previous instance's output" prev_differs

# Container names, as upstream's LogLocation checks them.
kapply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: duo}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: busybox, command: ["sleep", "30"]}
  - {name: b, image: busybox, command: ["sleep", "30"]}
YAML
req GET /api/v1/namespaces/default/pods/duo/log
jcheck "no container for a two-container pod is a 400" \
  'code == 400 and b["reason"] == "BadRequest" and b["message"] == "a container name must be specified for pod duo, choose one of: [a b]"'
expect_fail "a wrong container name is refused" \
  'container nope is not valid for pod duo' k logs duo -c nope
pod unbound Always 'sleep 30' ""
req GET /api/v1/namespaces/default/pods/unbound/log
jcheck "a pod without a node is a 400" 'code == 400 and b["reason"] == "BadRequest"'
expect_fail "a missing pod is NotFound" 'pods "nope" not found' k logs nope

k delete pod --all --wait=false >/dev/null 2>&1
stop_all
check "the kubelet left no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/kubelet.log'"
check "the apiserver left no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/apiserver.log'"
finish
