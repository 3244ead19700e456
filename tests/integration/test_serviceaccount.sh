#!/usr/bin/env bash
# Service accounts end to end over HTTPS (kubectl sends tokens only over
# TLS): the TokenRequest subresource (kubectl create token), the
# service-account authenticator (kubectl auth whoami --token), bound
# tokens dying with their pod or secret, tokens of deleted accounts,
# forged and foreign tokens (401), the ServiceAccount admission plugin
# (default account, the kube-api-access volume, automount, 403 for a
# missing account, mirror pods), and the serviceaccount controller
# creating "default" in every namespace.
# This test exercises the ServiceAccount admission plugin: keep it on.
SERVER_ADMISSION=
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || { echo "skipped: no openssl"; exit 77; }
for p in authn/service-account admission/service-account registry/pod \
         registry/serviceaccount registry/secret; do
  ls "$KAPI_BUILDDIR"/$p/.libs/*.so >/dev/null 2>&1 ||
    { echo "skipped: $p is not built"; exit 77; }
done

CODE=0
P=$T/pki
"$KAPI_BUILDDIR/kapi" pki init --dir "$P" >"$T/pki.log" 2>&1 ||
  { cat "$T/pki.log"; exit 1; }
openssl genrsa -out "$T/other.key" 2048 2>/dev/null
openssl pkey -in "$T/other.key" -pubout -out "$T/other.pub" 2>/dev/null

cat >"$T/tokens.csv" <<'CSV'
plain-token,carol,uid-carol,"team"
CSV

start_tls_server --tls-cert-file "$P/apiserver.crt" \
  --tls-private-key-file "$P/apiserver.key" --client-ca-file "$P/ca.crt" \
  --anonymous-auth=false --token-auth-file "$T/tokens.csv" \
  --service-account-signing-key-file "$P/sa.key" \
  --service-account-key-file "$P/sa.pub" \
  --service-account-max-token-expiration 48h -v 4 || exit 1

b64() { base64 -w0 <"$1"; }
# kubeconfig FILE USER-YAML
kubeconfig() {
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: t
  cluster:
    server: "$SERVER"
    certificate-authority-data: $(b64 "$P/ca.crt")
users:
- name: u
  user: $2
contexts:
- name: t
  context: {cluster: t, user: u}
current-context: t
KC
}
kubeconfig "$T/kc-admin" "{client-certificate-data: $(b64 "$P/admin.crt"), client-key-data: $(b64 "$P/admin.key")}"
kubeconfig "$T/kc-none" "{}"
export KUBECONFIG=$T/kc-admin

# as TOKEN CMD...: kubectl with a bearer token and no other credential.
as() { local tok=$1; shift; KUBECONFIG=$T/kc-none k --token "$tok" "$@"; }
# sreq TOKEN METHOD PATH [BODY]: req over TLS with a bearer token.
sreq() {
  local tok=$1 m=$2 p=$3 out
  rm -f "$T/body"
  if [ $# -ge 4 ]; then
    out=$(curl -sS --cacert "$P/ca.crt" -o "$T/body" -w '%{http_code}' \
      -H "Authorization: Bearer $tok" -X "$m" \
      -H 'Content-Type: application/json' --data-binary "$4" "$SERVER$p")
  else
    out=$(curl -sS --cacert "$P/ca.crt" -o "$T/body" -w '%{http_code}' \
      -H "Authorization: Bearer $tok" -X "$m" "$SERVER$p")
  fi
  CODE=$out
}
# areq METHOD PATH [BODY]: as admin (client certificate).
areq() {
  local m=$1 p=$2 out
  rm -f "$T/body"
  out=$(curl -sS --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" \
    -o "$T/body" -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' \
    ${3:+--data-binary "$3"} "$SERVER$p")
  CODE=$out
}
# claims TOKEN: the token's payload as JSON.
claims() {
  python3 -c 'import base64, sys
p = sys.argv[1].split(".")[1]
print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$1"
}
whoami() { as "$1" auth whoami -o json; }
# jx NAME EXPR [FILE]: jcheck with EXPR parenthesised, so that it may
# span lines.
jx() { local name=$1 expr=$2; shift 2; jcheck "$name" "($expr)" "$@"; }

# ---- TokenRequest and authentication ------------------------------------

check "create service account robot" k create serviceaccount robot
SA_UID=$(k get sa robot -o jsonpath='{.metadata.uid}')
TOKEN=$(k create token robot 2>"$T/err")
if [ -n "$TOKEN" ]; then ok "kubectl create token"; else not_ok "kubectl create token"; cat "$T/err"; fi

claims "$TOKEN" >"$T/claims.json"
jx "claims are upstream's" \
  "b['iss'] == 'https://kubernetes.default.svc.cluster.local' and
   b['aud'] == ['https://kubernetes.default.svc.cluster.local'] and
   b['sub'] == 'system:serviceaccount:default:robot' and
   b['exp'] - b['iat'] == 3600 and b['nbf'] == b['iat'] and
   len(b['jti']) == 36 and
   b['kubernetes.io'] == {'namespace': 'default', 'serviceaccount':
     {'name': 'robot', 'uid': '$SA_UID'}}" "$T/claims.json"
KID=$(openssl pkey -pubin -in "$P/sa.pub" -outform DER | openssl dgst -sha256 -binary |
  base64 | tr '+/' '-_' | tr -d '=')
python3 -c 'import base64, sys
p = sys.argv[1].split(".")[0]
print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$TOKEN" >"$T/header.json"
jx "header: RS256 and the key id of sa.pub" \
  "b == {'alg': 'RS256', 'kid': '$KID'}" "$T/header.json"

# The signature verifies with the public key alone.
printf '%s' "${TOKEN%.*}" >"$T/signed"
python3 -c 'import base64, sys
s = sys.argv[1].split(".")[2]
sys.stdout.buffer.write(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))' "$TOKEN" >"$T/sig"
check "signature verifies with sa.pub" \
  openssl dgst -sha256 -verify "$P/sa.pub" -signature "$T/sig" "$T/signed"

whoami "$TOKEN" >"$T/who.json" 2>&1
jx "kubectl auth whoami --token: the service account" \
  "b['status']['userInfo']['username'] == 'system:serviceaccount:default:robot' and
   b['status']['userInfo']['uid'] == '$SA_UID' and
   b['status']['userInfo']['groups'] == ['system:serviceaccounts',
     'system:serviceaccounts:default', 'system:authenticated'] and
   b['status']['userInfo']['extra']['authentication.kubernetes.io/credential-id']
     == ['JTI=' + '$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jti"])' "$T/claims.json")']" \
  "$T/who.json"
expect_output "the token lists pods" "No resources found|NAME" as "$TOKEN" get pods

# Tokens that are not ours: no opinion, other authenticators decide.
expect_output "a token-file token still authenticates" '"username": "carol"' \
  whoami plain-token

# Forged: our header and claims signed with another key.
FORGED="${TOKEN%.*}.$(openssl dgst -sha256 -sign "$T/other.key" "$T/signed" |
  base64 -w0 | tr '+/' '-_' | tr -d '=')"
sreq "$FORGED" GET /api/v1/namespaces/default/pods
jx "a token signed by another key is 401" \
  "code == 401 and b['reason'] == 'Unauthorized'"
expect_fail "kubectl with the forged token" "Unauthorized" as "$FORGED" get pods
# Another key id: no key to verify with.
OTHER_HDR=$(printf '{"alg":"RS256","kid":"not-our-key"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')
printf '%s' "$OTHER_HDR.$(cut -d. -f2 <<<"$TOKEN")" >"$T/signed2"
OTHERKID="$OTHER_HDR.$(cut -d. -f2 <<<"$TOKEN").$(openssl dgst -sha256 -sign "$T/other.key" "$T/signed2" |
  base64 -w0 | tr '+/' '-_' | tr -d '=')"
sreq "$OTHERKID" GET /api/v1/namespaces/default/pods
jx "a token with an unknown key id is 401" "code == 401"

# Audiences: the API server only accepts its own.
FOREIGN=$(k create token robot --audience vault.example)
sreq "$FOREIGN" GET /api/v1/namespaces/default/pods
jx "a token for another audience is 401" "code == 401"
grep -q 'token audiences \["vault.example"\] is invalid for the target audiences \["https://kubernetes.default.svc.cluster.local"\]' \
  "$T/apiserver.log" && ok "the audience error is logged" ||
  not_ok "the audience error is logged"

# A deleted service account's token stops working, even if the name
# comes back (new uid).
k create serviceaccount temp >/dev/null
TEMP=$(k create token temp)
expect_output "temp's token works" "system:serviceaccount:default:temp" whoami "$TEMP"
k delete serviceaccount temp >/dev/null
sreq "$TEMP" GET /api/v1/namespaces/default/pods
jx "the token of a deleted service account is 401" "code == 401"
k create serviceaccount temp >/dev/null
sreq "$TEMP" GET /api/v1/namespaces/default/pods
jx "... and of a recreated one (new uid)" "code == 401"

# ---- legacy secret-based tokens ------------------------------------------------

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
LHDR=$(printf '{"alg":"RS256","kid":"%s"}' "$KID" | b64url)
LPAY=$(printf '{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"default","kubernetes.io/serviceaccount/secret.name":"robot-token","kubernetes.io/serviceaccount/service-account.name":"robot","kubernetes.io/serviceaccount/service-account.uid":"%s","sub":"system:serviceaccount:default:robot"}' "$SA_UID" | b64url)
printf '%s.%s' "$LHDR" "$LPAY" >"$T/lsigned"
LEGACY="$LHDR.$LPAY.$(openssl dgst -sha256 -sign "$P/sa.key" "$T/lsigned" | b64url)"
sreq "$LEGACY" GET /api/v1/namespaces/default/pods
jx "a legacy token without its secret is 401" "code == 401"
k create secret generic robot-token --from-literal=token="$LEGACY" >/dev/null
whoami "$LEGACY" >"$T/who.json" 2>&1
jx "a legacy token held by its secret authenticates" \
  "b['status']['userInfo']['username'] == 'system:serviceaccount:default:robot' and
   b['status']['userInfo']['uid'] == '$SA_UID'" "$T/who.json"
# (yesterday too: the run may straddle midnight UTC)
expect_output "... and the secret is labelled as used today" \
  "^($(date -u +%F)|$(date -u -d yesterday +%F))\$" \
  k get secret robot-token -o "jsonpath={.metadata.labels.kubernetes\.io/legacy-token-last-used}"
k label secret robot-token kubernetes.io/legacy-token-invalid-since=2026-01-01 >/dev/null
sreq "$LEGACY" GET /api/v1/namespaces/default/pods
jx "a legacy token marked invalid is 401" "code == 401"
k delete secret robot-token >/dev/null
k create secret generic robot-token --from-literal=token=other >/dev/null
sreq "$LEGACY" GET /api/v1/namespaces/default/pods
jx "a legacy token its secret no longer holds is 401" "code == 401"

# ---- TokenRequest errors ----------------------------------------------------

expect_fail "expirationSeconds < 600 is refused" \
  'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes' \
  k create token robot --duration 5m
areq POST /api/v1/namespaces/default/serviceaccounts/robot/token \
  '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":599}}'
jx "expirationSeconds 599 is 422 Invalid" \
  "code == 422 and b['reason'] == 'Invalid' and
   b['details']['causes'][0]['field'] == 'spec.expirationSeconds'"
expect_fail "a missing service account is 404" \
  'serviceaccounts "nosuch" not found' k create token nosuch
k create token robot --duration 72h >"$T/long" 2>"$T/warn"
grep -q 'requested expiration of 259200 seconds shortened to 172800 seconds' "$T/warn" &&
  ok "--service-account-max-token-expiration shortens, with a warning" ||
  { not_ok "max expiration warning"; cat "$T/warn"; }
claims "$(cat "$T/long")" >"$T/claims.json"
jx "... and the token lasts 48h" "b['exp'] - b['iat'] == 172800" "$T/claims.json"
areq POST /api/v1/namespaces/default/serviceaccounts/robot/token \
  '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","metadata":{"name":"other"}}'
jx "a body naming another account is 422" \
  "code == 422 and 'must match the service account name if specified' in b['message']"

# ---- ServiceAccount admission ----------------------------------------------

expect_fail "a pod with a missing service account is 403" \
  'pods "p-missing" is forbidden: error looking up service account default/nosa: serviceaccount "nosa" not found' \
  k run p-missing --image=busybox --overrides='{"spec":{"serviceAccountName":"nosa"}}'
check "create service account default" k create serviceaccount default
cat >"$T/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  initContainers: [{name: init, image: busybox}]
  containers:
  - {name: app, image: busybox}
  - name: own
    image: busybox
    volumeMounts: [{name: mine, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}]
  volumes: [{name: mine, emptyDir: {}}]
YAML
check "create a pod without a service account" k apply -f "$T/pod.yaml"
areq GET /api/v1/namespaces/default/pods/web
jx "serviceAccountName defaults to default" "b['spec']['serviceAccountName'] == 'default'"
jx "the kube-api-access volume is added" \
  "[v for v in b['spec']['volumes'] if v['name'].startswith('kube-api-access-')] and
   re.fullmatch(r'kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}',
     [v for v in b['spec']['volumes'] if v['name'] != 'mine'][0]['name']) and
   [v for v in b['spec']['volumes'] if v['name'] != 'mine'][0]['projected'] ==
   {'sources': [
     {'serviceAccountToken': {'expirationSeconds': 3607, 'path': 'token'}},
     {'configMap': {'name': 'kube-root-ca.crt', 'items': [{'key': 'ca.crt', 'path': 'ca.crt'}]}},
     {'downwardAPI': {'items': [{'path': 'namespace', 'fieldRef':
       {'apiVersion': 'v1', 'fieldPath': 'metadata.namespace'}}]}}],
    'defaultMode': 420}"
jx "mounted read-only in containers and init containers" \
  "(lambda vol: b['spec']['initContainers'][0]['volumeMounts'] ==
     [{'name': vol, 'readOnly': True, 'mountPath': '/var/run/secrets/kubernetes.io/serviceaccount'}]
   and b['spec']['containers'][0]['volumeMounts'] ==
     [{'name': vol, 'readOnly': True, 'mountPath': '/var/run/secrets/kubernetes.io/serviceaccount'}])(
   [v['name'] for v in b['spec']['volumes'] if v['name'] != 'mine'][0])"
jx "a container with its own mount there is left alone" \
  "b['spec']['containers'][1]['volumeMounts'] ==
   [{'name': 'mine', 'mountPath': '/var/run/secrets/kubernetes.io/serviceaccount'}]"

check "create a pod with automountServiceAccountToken false" \
  k run p-noauto --image=busybox --overrides='{"spec":{"automountServiceAccountToken":false}}'
areq GET /api/v1/namespaces/default/pods/p-noauto
jx "... gets no token volume" \
  "b['spec']['serviceAccountName'] == 'default' and not b['spec'].get('volumes') and
   not b['spec']['containers'][0].get('volumeMounts')"
k create serviceaccount quiet >/dev/null
k patch serviceaccount quiet -p '{"automountServiceAccountToken":false}' >/dev/null
check "create a pod as an account with automount false" \
  k run p-quiet --image=busybox --overrides='{"spec":{"serviceAccountName":"quiet"}}'
areq GET /api/v1/namespaces/default/pods/p-quiet
jx "... gets no token volume" "not b['spec'].get('volumes')"
check "the pod's automount true wins over the account's" \
  k run p-loud --image=busybox --overrides='{"spec":{"serviceAccountName":"quiet","automountServiceAccountToken":true}}'
areq GET /api/v1/namespaces/default/pods/p-loud
jx "... and gets the volume" \
  "b['spec']['volumes'][0]['name'].startswith('kube-api-access-')"

k create serviceaccount puller >/dev/null
k patch serviceaccount puller -p '{"imagePullSecrets":[{"name":"regcred"}]}' >/dev/null
k run p-pull --image=busybox --overrides='{"spec":{"serviceAccountName":"puller"}}' >/dev/null
areq GET /api/v1/namespaces/default/pods/p-pull
jx "the account's imagePullSecrets are copied" \
  "b['spec']['imagePullSecrets'] == [{'name': 'regcred'}]"

expect_fail "serviceAccountName cannot change" "Forbidden: pod updates may not change fields" \
  k patch pod p-noauto -p '{"spec":{"serviceAccountName":"robot"}}'

areq POST /api/v1/namespaces/default/pods \
  '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"mirror","annotations":{"kubernetes.io/config.mirror":"x"}},"spec":{"serviceAccountName":"robot","containers":[{"name":"c","image":"busybox"}]}}'
jx "a mirror pod may not reference a service account" \
  "code == 403 and b['message'] == 'pods \"mirror\" is forbidden: a mirror pod may not reference service accounts'"
areq POST /api/v1/namespaces/default/pods \
  '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"mirror","annotations":{"kubernetes.io/config.mirror":"x"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
jx "a mirror pod is left unchanged" \
  "code == 201 and not b['spec'].get('serviceAccountName') and not b['spec'].get('volumes')"

# ---- bound tokens -------------------------------------------------------------

k run p-bound --image=busybox --overrides='{"spec":{"serviceAccountName":"robot","nodeName":"node-9"}}' >/dev/null
POD_UID=$(k get pod p-bound -o jsonpath='{.metadata.uid}')
BOUND=$(k create token robot --bound-object-kind Pod --bound-object-name p-bound)
claims "$BOUND" >"$T/claims.json"
jx "a pod-bound token names the pod and its node" \
  "b['kubernetes.io']['pod'] == {'name': 'p-bound', 'uid': '$POD_UID'} and
   b['kubernetes.io']['node'] == {'name': 'node-9'}" "$T/claims.json"
whoami "$BOUND" >"$T/who.json" 2>&1
jx "whoami shows the pod and node extras" \
  "b['status']['userInfo']['extra']['authentication.kubernetes.io/pod-name'] == ['p-bound'] and
   b['status']['userInfo']['extra']['authentication.kubernetes.io/pod-uid'] == ['$POD_UID'] and
   b['status']['userInfo']['extra']['authentication.kubernetes.io/node-name'] == ['node-9']" \
  "$T/who.json"
k delete pod p-bound --grace-period=0 --force >/dev/null 2>&1
sreq "$BOUND" GET /api/v1/namespaces/default/pods
jx "the bound token stops working once its pod is deleted" "code == 401"

expect_fail "a pod running as another account cannot bind" \
  'cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name.' \
  k create token robot --bound-object-kind Pod --bound-object-name web
expect_fail "a missing bound pod is 404" 'pods "gone" not found' \
  k create token robot --bound-object-kind Pod --bound-object-name gone

k create secret generic s1 --from-literal=a=b >/dev/null
SECRET_BOUND=$(k create token robot --bound-object-kind Secret --bound-object-name s1)
expect_output "a secret-bound token works" "system:serviceaccount:default:robot" \
  whoami "$SECRET_BOUND"
expect_fail "a wrong bound uid is 409" \
  'Operation cannot be fulfilled on Secret "s1": the UID in the bound object reference \(nope\) does not match the UID in record' \
  k create token robot --bound-object-kind Secret --bound-object-name s1 --bound-object-uid nope
k delete secret s1 >/dev/null
sreq "$SECRET_BOUND" GET /api/v1/namespaces/default/pods
jx "... and stops once the secret is deleted" "code == 401"

if ls "$KAPI_BUILDDIR"/registry/node/.libs/*.so >/dev/null 2>&1; then
  areq POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n-tok"}}'
  NODE_UID=$(k get node n-tok -o jsonpath='{.metadata.uid}')
  NODE_BOUND=$(k create token robot --bound-object-kind Node --bound-object-name n-tok)
  whoami "$NODE_BOUND" >"$T/who.json" 2>&1
  jx "a node-bound token names the node" \
    "b['status']['userInfo']['extra']['authentication.kubernetes.io/node-name'] == ['n-tok'] and
     b['status']['userInfo']['extra']['authentication.kubernetes.io/node-uid'] == ['$NODE_UID'] and
     'authentication.kubernetes.io/pod-name' not in b['status']['userInfo']['extra']" \
    "$T/who.json"
  k delete node n-tok >/dev/null
  sreq "$NODE_BOUND" GET /api/v1/namespaces/default/pods
  jx "... and stops once the node is deleted" "code == 401"
fi

stop_server

# ---- no signing key: no TokenRequest; the controller -------------------------

start_server || exit 1 # the same store: robot is there
req POST /api/v1/namespaces/default/serviceaccounts/robot/token \
  '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest"}'
jx "without a signing key serviceaccounts/token is 404" "code == 404"

CM=$KAPI_BUILDDIR/kapi-controller-manager
if [ -x "$CM" ] && ls "$KAPI_BUILDDIR"/plugins/controllers/serviceaccount/.libs/*.so >/dev/null 2>&1; then
  CTL=$T/plugins-controllers
  mkdir -p "$CTL" && chmod 755 "$CTL"
  install -m 644 "$KAPI_BUILDDIR"/plugins/controllers/serviceaccount/.libs/*.so "$CTL/"
  "$CM" --master "$SERVER" --plugin-dir "$CTL" --leader-elect=false -v 2 \
    2>>"$T/controller-manager.log" &
  CLUSTER_PIDS="$CLUSTER_PIDS $!"
  # wait_for DESCRIPTION CMD...: polls for up to 20 s.
  wait_for() {
    local what=$1 i; shift
    for i in $(seq 1 100); do
      "$@" >/dev/null 2>&1 && { ok "$what"; return 0; }
      sleep 0.2
    done
    not_ok "$what (waited 20s)"
  }
  wait_for "the controller creates default in an existing namespace" \
    k get serviceaccount default -n kube-system
  k create namespace sa-ns >/dev/null
  wait_for "... and in a new namespace" k get serviceaccount default -n sa-ns
  k delete serviceaccount default -n sa-ns >/dev/null
  wait_for "... and recreates it when deleted" k get serviceaccount default -n sa-ns
  wait_for "pods in the new namespace are admitted" \
    k run p1 -n sa-ns --image=busybox
else
  echo "# the serviceaccount controller is not built: controller checks skipped"
fi

finish
