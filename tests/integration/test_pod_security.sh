#!/usr/bin/env bash
# PodSecurity admission with the real kubectl: enforce refuses with
# upstream's message, warn prints kubectl's "Warning:" lines, labelling a
# namespace warns about the pods already in it, bad labels are refused,
# workloads are only warned about, and the exemptions come from the
# PodSecurityConfiguration inside --admission-control-config-file.
. "$(dirname "$0")/lib.sh"

cat >"$T/admission.yaml" <<'YAML'
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults:
      enforce: "privileged"
      enforce-version: "latest"
      audit: "privileged"
      audit-version: "latest"
      warn: "privileged"
      warn-version: "latest"
    exemptions:
      usernames: ["ops-admin"]
      runtimeClasses: []
      namespaces: ["exempt-ns"]
YAML

cat >"$T/tokens.csv" <<'CSV'
ops-token,ops-admin,uid-ops
dev-token,dev,uid-dev
CSV

# An invalid configuration stops the server at start, with upstream's text.
sed 's/enforce: "privileged"/enforce: "strict"/' "$T/admission.yaml" >"$T/bad.yaml"
: "${PLUGINS:=$(make_plugin_dir)}"
expect_fail "invalid configuration fails init" \
  'PodSecurity invalid: defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted' \
  timeout 20 "$KAPI_BUILDDIR/kapi-apiserver" --data-dir "$T/bad-data" \
  --insecure-port 0 --no-default-plugins --plugin-dir "$PLUGINS" \
  --authorization-mode AlwaysAllow --admission-control-config-file "$T/bad.yaml"

start_server --admission-control-config-file "$T/admission.yaml" \
  --token-auth-file "$T/tokens.csv" || exit 1

cat >"$T/plain.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers: [{name: c, image: nginx}]
YAML
cat >"$T/good.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: good}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: c
    image: nginx
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
YAML
cat >"$T/priv.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: priv}
spec:
  containers:
  - name: c
    image: nginx
    securityContext: {privileged: true}
YAML
cat >"$T/deploy.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers: [{name: c, image: nginx}]
YAML

# mkns NAME: a namespace with its default service account, in case the
# ServiceAccount admission plugin is loaded and no controller makes one.
mkns() {
  k create namespace "$1" || return 1
  k -n "$1" get serviceaccount default >/dev/null 2>&1 ||
    k -n "$1" create serviceaccount default >/dev/null 2>&1 || true
}

# ---- enforce=restricted -----------------------------------------------------
check "create namespace r" mkns r
check "label r enforce=restricted" k label namespace r pod-security.kubernetes.io/enforce=restricted
expect_fail "restricted refuses a plain pod with upstream's message" \
  'Error from server \(Forbidden\): error when creating ".*plain.yaml": pods "plain" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "c" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities \(container "c" must set securityContext.capabilities.drop=\["ALL"\]\), runAsNonRoot != true \(pod or container "c" must set securityContext.runAsNonRoot=true\), seccompProfile \(pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"\)$' \
  k -n r create -f "$T/plain.yaml"
expect_fail "kubectl run gets the same message" \
  'pods "web" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false' \
  k -n r run web --image=nginx
expect_output "restricted accepts a compliant pod" '^pod/good created$' \
  k -n r create -f "$T/good.yaml"
req GET /api/v1/namespaces/r/pods/plain
jcheck "the refused pod was not stored" 'code == 404'

# The raw Status: 403, reason Forbidden, as kube-apiserver.
req POST /api/v1/namespaces/r/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"raw"},"spec":{"hostPID":true,"containers":[{"name":"c","image":"nginx"}]}}'
jcheck "enforce answers 403 Forbidden" \
  'code == 403 and b["reason"] == "Forbidden" and b["message"].startswith("pods \"raw\" is forbidden: violates PodSecurity \"restricted:latest\": host namespaces (hostPID), allowPrivilegeEscalation != false")'

# Exempt user: the token user named in exemptions.usernames.
req_as() { # TOKEN METHOD PATH BODY
  CODE=$(curl -sS -o "$T/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data-binary "$4" "$SERVER$3")
}
PRIV_JSON='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME"},"spec":{"containers":[{"name":"c","image":"nginx","securityContext":{"privileged":true}}]}}'
req_as ops-token POST /api/v1/namespaces/r/pods "${PRIV_JSON/NAME/by-ops}"
jcheck "an exempt user may create a privileged pod" 'code == 201'
req_as dev-token POST /api/v1/namespaces/r/pods "${PRIV_JSON/NAME/by-dev}"
jcheck "another user may not" 'code == 403 and "privileged (container \"c\" must not set securityContext.privileged=true)" in b["message"]'

# ---- warn=baseline ------------------------------------------------------------
check "create namespace w" mkns w
check "label w warn=baseline" k label namespace w pod-security.kubernetes.io/warn=baseline
expect_output "warn prints kubectl's Warning while creating" \
  '^Warning: would violate PodSecurity "baseline:latest": privileged \(container "c" must not set securityContext.privileged=true\)$' \
  k -n w create -f "$T/priv.yaml"
req GET /api/v1/namespaces/w/pods/priv
jcheck "the warned-about pod was created" 'code == 200'
expect_output "a baseline pod gets no warning" '^pod/plain created$' \
  k -n w create -f "$T/plain.yaml"
if grep -q Warning "$T/out"; then not_ok "no warning for a baseline pod"; else ok "no warning for a baseline pod"; fi

# ---- tightening a namespace warns about the pods in it ------------------------
expect_output "enforce=restricted on w: the namespace warning" \
  '^Warning: existing pods in namespace "w" violate the new PodSecurity enforce level "restricted:latest"$' \
  k label namespace w pod-security.kubernetes.io/enforce=restricted
if grep -Eq '^Warning: priv: privileged, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile$' "$T/out" &&
   grep -Eq '^Warning: plain: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile$' "$T/out" &&
   grep -q '^namespace/w labeled$' "$T/out"; then
  ok "the per-pod warnings, and the label is applied"
else
  not_ok "the per-pod warnings, and the label is applied"; sed 's/^/    /' "$T/out"
fi
expect_output "the label is on the namespace" '^restricted$' \
  k get namespace w -o 'jsonpath={.metadata.labels.pod-security\.kubernetes\.io/enforce}'
# Changing only metadata of an existing pod is not re-evaluated.
expect_output "labelling a violating pod still works" '^pod/priv labeled$' \
  k -n w label pod priv tier=db
# Relaxing again lists nothing.
expect_output "relaxing the level warns about nothing" '^namespace/w labeled$' \
  k label namespace w pod-security.kubernetes.io/enforce=baseline --overwrite
if grep -q Warning "$T/out"; then not_ok "no warnings when relaxing"; sed 's/^/    /' "$T/out"; else ok "no warnings when relaxing"; fi

# ---- bad labels -------------------------------------------------------------
expect_fail "a bad level is refused" \
  'is invalid: metadata.labels\[pod-security.kubernetes.io/enforce\]: Invalid value: "strict": must be one of privileged, baseline, restricted' \
  k label namespace w pod-security.kubernetes.io/enforce=strict --overwrite
req POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bad","labels":{"pod-security.kubernetes.io/audit-version":"v2.0"}}}'
jcheck "a bad version on create: 422 Invalid" \
  'code == 422 and b["reason"] == "Invalid" and b["message"] == "Namespace \"bad\" is invalid: metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: \"v2.0\": must be \"latest\" or \"v1.x\"" and b["details"]["causes"][0]["field"] == "metadata.labels[pod-security.kubernetes.io/audit-version]"'

# ---- workloads: warned about, never enforced ----------------------------------
check "create namespace d" mkns d
check "label d enforce+warn=restricted" k label namespace d \
  pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted
expect_output "a deployment with a violating template is created, with a warning" \
  '^Warning: would violate PodSecurity "restricted:latest": host namespaces \(hostNetwork\), allowPrivilegeEscalation != false' \
  k -n d create -f "$T/deploy.yaml"
req GET /apis/apps/v1/namespaces/d/deployments/web
jcheck "the deployment was stored" 'code == 200'

# ---- the exempt namespace from the configuration file -------------------------
check "create namespace exempt-ns" mkns exempt-ns
check "label exempt-ns enforce=restricted" k label namespace exempt-ns pod-security.kubernetes.io/enforce=restricted
expect_output "an exempt namespace takes a privileged pod" '^pod/priv created$' \
  k -n exempt-ns create -f "$T/priv.yaml"
check "create namespace not-exempt" mkns not-exempt
check "label not-exempt enforce=restricted" k label namespace not-exempt pod-security.kubernetes.io/enforce=restricted
expect_fail "the same pod elsewhere is refused" \
  'pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged' \
  k -n not-exempt create -f "$T/priv.yaml"

finish
