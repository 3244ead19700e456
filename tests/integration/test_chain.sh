#!/usr/bin/env bash
# The parts of the handler chain the core owns: admission plugin
# selection as kube-apiserver (--enable/--disable-admission-plugins,
# AdmissionConfiguration), impersonation headers, and the audit log.
. "$(dirname "$0")/lib.sh"

cat >"$T/tokens.csv" <<'CSV'
admin-token,admin,uid-admin,"system:masters"
bob-token,bob,uid-bob,"devs"
CSV
cat >"$T/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["pods"]
- level: Metadata
YAML

# ---- admission flags are checked before anything is served ----------------
PLUGINS=$(make_plugin_dir)
srv() {
  "$KAPI_BUILDDIR/kapi-apiserver" --data-dir "$T/d2" --insecure-port 0 \
    --no-default-plugins --plugin-dir "$PLUGINS" --list-plugins "$@"
}
expect_fail "unknown admission plugin refused" \
  'enable-admission-plugins plugin "NoSuchPlugin" is unknown' \
  srv --enable-admission-plugins NoSuchPlugin
expect_fail "known but unloaded plugin refused" \
  'enable-admission-plugins plugin "ImagePolicyWebhook" is not loaded' \
  srv --enable-admission-plugins ImagePolicyWebhook
expect_fail "enabled and disabled at once refused" \
  'NamespaceLifecycle in enable-admission-plugins and disable-admission-plugins overlapped' \
  srv --enable-admission-plugins NamespaceLifecycle \
  --disable-admission-plugins NamespaceLifecycle
expect_output "NamespaceLifecycle is on by default" 'NamespaceLifecycle' srv
srv --disable-admission-plugins NamespaceLifecycle >"$T/list" 2>&1
if ! grep -q 'NamespaceLifecycle .*disabled' "$T/list"; then
  not_ok "--disable-admission-plugins removes it"; cat "$T/list"
else ok "--disable-admission-plugins removes it"; fi
printf 'kind: Nonsense\n' >"$T/bad-admission.yaml"
expect_fail "a file that is not an AdmissionConfiguration is refused" \
  'not an AdmissionConfiguration' \
  srv --admission-control-config-file "$T/bad-admission.yaml"

# ---- a server with tokens and an audit log --------------------------------
start_pki_server --anonymous-auth=false --token-auth-file "$T/tokens.csv" \
  --audit-policy-file "$T/audit-policy.yaml" --audit-log-path "$T/audit.log" \
  --disable-admission-plugins NamespaceLifecycle || exit 1
kc_token tok admin-token
export KUBECONFIG=$T/kc-tok

# Without NamespaceLifecycle a missing namespace does not stop a create.
check "create in a missing namespace without NamespaceLifecycle" \
  k create configmap c1 -n nowhere --from-literal=a=b

# ---- impersonation ------------------------------------------------------------
expect_output "impersonated user and groups" 'bob' \
  k auth whoami --as bob --as-group devs -o jsonpath='{.status.userInfo.username}'
k auth whoami --as bob --as-group devs -o json >"$T/body"
jcheck "impersonated groups include system:authenticated" \
  'b["status"]["userInfo"]["groups"] == ["devs", "system:authenticated"]'
k auth whoami --as system:serviceaccount:ns1:sa1 -o json >"$T/body"
jcheck "impersonated service account gets its groups" \
  '"system:serviceaccounts:ns1" in b["status"]["userInfo"]["groups"]'
curl -sS --cacert "$T/pki/ca.crt" -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer admin-token" \
  -H "Impersonate-Group: devs" "$SERVER/api/v1/namespaces" >"$T/code"
CODE=$(cat "$T/code")
jcheck "groups without a user are a 400" \
  'code == 400 and "without impersonating a user" in b["message"]'

# ---- TokenReview and LocalSubjectAccessReview --------------------------------
post() { # post PATH BODY: as admin, over TLS; body to $T/body, status to CODE
  CODE=$(curl -sS --cacert "$T/pki/ca.crt" -o "$T/body" -w '%{http_code}' \
    -H "Authorization: Bearer admin-token" -H 'Content-Type: application/json' \
    -X POST --data-binary "$2" "$SERVER$1")
}
post /apis/authentication.k8s.io/v1/tokenreviews \
  '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"bob-token"}}'
jcheck "TokenReview: a valid token names its user" \
  'code == 201 and b["status"]["authenticated"] and b["status"]["user"]["username"] == "bob" and b["status"]["user"]["groups"] == ["devs", "system:authenticated"]'
post /apis/authentication.k8s.io/v1/tokenreviews \
  '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"nope"}}'
jcheck "TokenReview: an unknown token is not authenticated" \
  'code == 201 and b["status"]["authenticated"] is False and "user" not in b["status"]'
post /apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews \
  '{"apiVersion":"authorization.k8s.io/v1","kind":"LocalSubjectAccessReview","spec":{"user":"bob","resourceAttributes":{"namespace":"default","verb":"get","resource":"pods"}}}'
jcheck "LocalSubjectAccessReview in its namespace" \
  'code == 201 and b["status"]["allowed"] is True'
post /apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews \
  '{"apiVersion":"authorization.k8s.io/v1","kind":"LocalSubjectAccessReview","spec":{"user":"bob","resourceAttributes":{"namespace":"other","verb":"get","resource":"pods"}}}'
jcheck "LocalSubjectAccessReview for another namespace is a 400" \
  'code == 400 and "must match namespace: default" in b["message"]'

# ---- audit log ------------------------------------------------------------
check "create a pod (audited)" k run p1 --image=busybox --restart=Never
k get pod p1 >/dev/null
curl -s --cacert "$T/pki/ca.crt" "$SERVER/healthz" >/dev/null
jcheck "pod create audited at RequestResponse" \
  'any(e["verb"] == "create" and e["objectRef"]["resource"] == "pods" and e["level"] == "RequestResponse" and e["responseStatus"]["code"] == 201 and e["user"]["username"] == "admin" and e["responseObject"]["metadata"]["name"] == "p1" and e["stage"] == "ResponseComplete" and e["annotations"]["authorization.k8s.io/decision"] == "allow" for e in ev)' \
  "$T/audit.log"
jcheck "other resources at Metadata, without bodies" \
  'any(e["objectRef"].get("resource") == "configmaps" and e["level"] == "Metadata" and "requestObject" not in e for e in ev if "objectRef" in e)' \
  "$T/audit.log"
jcheck "impersonation recorded" \
  'any(e.get("impersonatedUser", {}).get("username") == "bob" and e["user"]["username"] == "admin" for e in ev)' \
  "$T/audit.log"
jcheck "RequestReceived omitted, /healthz not logged" \
  'all(e["stage"] == "ResponseComplete" and not e["requestURI"].startswith("/healthz") for e in ev)' \
  "$T/audit.log"
jcheck "every line is an audit.k8s.io/v1 Event" \
  'len(ev) > 3 and all(e["apiVersion"] == "audit.k8s.io/v1" and e["kind"] == "Event" and e["auditID"] for e in ev)' \
  "$T/audit.log"

finish
