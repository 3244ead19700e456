#!/usr/bin/env bash
# Admission plugins with the real kubectl: LimitRange (registry) and
# LimitRanger, DefaultTolerationSeconds, AlwaysPullImages, AlwaysDeny, and
# the --enable/--disable-admission-plugins flags that pick them.
. "$(dirname "$0")/lib.sh"

# manifest NAME <<YAML: writes $T/NAME.yaml (k reads no stdin).
manifest() { cat >"$T/$1.yaml"; }

# ---- the default set: LimitRanger and DefaultTolerationSeconds ----------
start_server || exit 1

manifest limitrange <<'YAML'
apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: default}
spec:
  limits:
  - type: Container
    max: {cpu: "1", memory: 1Gi}
    default: {cpu: 500m, memory: 512Mi}
    defaultRequest: {cpu: 250m}
YAML
k apply -f "$T/limitrange.yaml" >"$T/out" 2>&1 || { cat "$T/out"; exit 1; }
expect_output "limitranges by short name, NAME and CREATED AT" \
  '^NAME +CREATED AT$' k get limits
expect_output "limitrange row shows its creation time" \
  '^limits +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' k get limitrange limits
# Decode defaults: defaultRequest.memory comes from default.memory.
expect_output "defaultRequest filled from default" '^512Mi$' \
  k get limitrange limits -o 'jsonpath={.spec.limits[0].defaultRequest.memory}'

manifest bad-limitrange <<'YAML'
apiVersion: v1
kind: LimitRange
metadata: {name: bad, namespace: default}
spec:
  limits:
  - type: Pod
    min: {cpu: "2"}
    max: {cpu: "1"}
YAML
expect_fail "invalid LimitRange refused with upstream's message" \
  'The LimitRange "bad" is invalid: spec.limits\[0\].min\[cpu\]: Invalid value: resource.Quantity\{i:resource.int64Amount\{value:2, scale:0\}, d:resource.infDecAmount\{Dec:\(\*inf.Dec\)\(nil\)\}, s:"2", Format:"DecimalSI"\}: min value 2 is greater than max value 1' \
  k create -f "$T/bad-limitrange.yaml"

k run plain --image=busybox:1.36 --restart=Never >"$T/out" 2>&1 ||
  { cat "$T/out"; not_ok "create a pod without resources"; }
expect_output "defaults set as requests" '^\{"cpu":"250m","memory":"512Mi"\}$' \
  k get pod plain -o 'jsonpath={.spec.containers[0].resources.requests}'
expect_output "defaults set as limits" '^\{"cpu":"500m","memory":"512Mi"\}$' \
  k get pod plain -o 'jsonpath={.spec.containers[0].resources.limits}'
expect_output "annotation names what was set" \
  '^LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container plain$' \
  k get pod plain -o 'jsonpath={.metadata.annotations.kubernetes\.io/limit-ranger}'

manifest big <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: default}
spec:
  containers:
  - name: c
    image: busybox:1.36
    resources: {limits: {cpu: "2"}}
YAML
expect_fail "a pod over max is refused" \
  'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2$' \
  k create -f "$T/big.yaml"
manifest bigger <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: bigger, namespace: default}
spec:
  containers:
  - name: c
    image: busybox:1.36
    resources: {limits: {cpu: "2", memory: 2Gi}}
YAML
expect_fail "errors of a pod are aggregated" \
  'pods "bigger" is forbidden: \[maximum cpu usage per Container is 1, but limit is 2, maximum memory usage per Container is 1Gi, but limit is 2Gi\]$' \
  k create -f "$T/bigger.yaml"

expect_output "DefaultTolerationSeconds adds not-ready" \
  '^node.kubernetes.io/not-ready Exists NoExecute 300$' \
  k get pod plain -o 'jsonpath={.spec.tolerations[0].key} {.spec.tolerations[0].operator} {.spec.tolerations[0].effect} {.spec.tolerations[0].tolerationSeconds}'
expect_output "DefaultTolerationSeconds adds unreachable" \
  '^node.kubernetes.io/unreachable Exists NoExecute 300$' \
  k get pod plain -o 'jsonpath={.spec.tolerations[1].key} {.spec.tolerations[1].operator} {.spec.tolerations[1].effect} {.spec.tolerations[1].tolerationSeconds}'
manifest tolerant <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: tolerant, namespace: default}
spec:
  tolerations: [{operator: Exists}]
  containers: [{name: c, image: busybox:1.36}]
YAML
k create -f "$T/tolerant.yaml" >"$T/out" 2>&1 ||
  { cat "$T/out"; not_ok "create a pod that tolerates everything"; }
expect_output "a pod that tolerates every taint gets nothing more" \
  '^1$' k get pod tolerant -o 'go-template={{len .spec.tolerations}}'
expect_output "AlwaysPullImages is not in the default set" '^IfNotPresent$' \
  k get pod plain -o 'jsonpath={.spec.containers[0].imagePullPolicy}'
stop_server

# ---- --enable-admission-plugins, plugin configuration ---------------------
cat >"$T/config.json" <<'JSON'
{"plugins": {"default-toleration-seconds":
  {"defaultNotReadyTolerationSeconds": 60,
   "defaultUnreachableTolerationSeconds": 90}}}
JSON
start_server --enable-admission-plugins AlwaysPullImages \
  --config "$T/config.json" || exit 1
k run pulled --image=busybox:1.36 --restart=Never >"$T/out" 2>&1 ||
  { cat "$T/out"; not_ok "create a pod with AlwaysPullImages"; }
expect_output "AlwaysPullImages sets Always" '^Always$' \
  k get pod pulled -o 'jsonpath={.spec.containers[0].imagePullPolicy}'
expect_output "toleration seconds come from the configuration" '^60 90$' \
  k get pod pulled -o 'jsonpath={.spec.tolerations[0].tolerationSeconds} {.spec.tolerations[1].tolerationSeconds}'
stop_server

echo '{"plugins": {"default-toleration-seconds":
  {"defaultNotReadyTolerationSeconds": "5m"}}}' >"$T/bad-config.json"
expect_fail "a malformed toleration configuration stops the server" \
  'default-toleration-seconds.*invalid configuration' \
  "$KAPI_BUILDDIR/kapi-apiserver" --data-dir "$T/data" --no-default-plugins \
  --plugin-dir "$PLUGINS" --config "$T/bad-config.json" --list-plugins

# ---- AlwaysDeny, and --disable-admission-plugins ----------------------------
start_server --enable-admission-plugins AlwaysDeny || exit 1
expect_fail "AlwaysDeny refuses a create" \
  'configmaps "c" is forbidden: admission control is denying all modifications' \
  k create configmap c --from-literal=a=b
expect_fail "AlwaysDeny refuses a delete" \
  'pods "plain" is forbidden: admission control is denying all modifications' \
  k delete pod plain
stop_server

start_server --disable-admission-plugins LimitRanger,DefaultTolerationSeconds ||
  exit 1
manifest big2 <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: default}
spec:
  containers:
  - name: c
    image: busybox:1.36
    resources: {limits: {cpu: "2"}}
YAML
check "without LimitRanger a pod over max is admitted" k create -f "$T/big2.yaml"
expect_output "without DefaultTolerationSeconds no tolerations are added" \
  '^<none>$' k get pod big -o 'custom-columns=T:.spec.tolerations' --no-headers
expect_output "without LimitRanger no annotation is set" '^<none>$' \
  k get pod big -o 'custom-columns=A:.metadata.annotations' --no-headers
stop_server

finish
