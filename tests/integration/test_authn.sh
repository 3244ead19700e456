#!/usr/bin/env bash
# Authentication over HTTPS with --anonymous-auth=false: client
# certificates (x509), static bearer tokens (--token-auth-file), and 401
# for requests no authenticator claims.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || { echo "skipped: no openssl"; exit 77; }

P=$T/pki
mkdir -p "$P"
ossl() { openssl "$@" >>"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; exit 1; }; }
ca() {
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$P/$1.key" -out "$P/$1.crt" \
    -days 2 -subj "/CN=$1" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
}
leaf() {
  printf '%s\n' "$4" >"$P/$1.ext"
  ossl req -newkey rsa:2048 -nodes -keyout "$P/$1.key" -out "$P/$1.csr" -subj "$3"
  ossl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" \
    -CAcreateserial -days 1 -out "$P/$1.crt" -extfile "$P/$1.ext"
}
ca server-ca
ca client-ca
leaf server server-ca /CN=kapi-apiserver \
  "$(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth')"
leaf alice client-ca "/O=devs/CN=alice" "extendedKeyUsage=clientAuth"

cat >"$T/tokens.csv" <<'CSV'
# token,user,uid,groups
s3cret-token,bob,uid-bob,"devs,ops"
CSV

start_tls_server -v 2 --tls-cert-file "$P/server.crt" \
  --tls-private-key-file "$P/server.key" --client-ca-file "$P/client-ca.crt" \
  --anonymous-auth=false --token-auth-file "$T/tokens.csv" || exit 1

b64() { base64 -w0 <"$1"; }
# kubeconfig FILE [USER-YAML]: a cluster entry and one user.
kubeconfig() {
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: t
  cluster:
    server: "$SERVER"
    certificate-authority-data: $(b64 "$P/server-ca.crt")
users:
- name: u
  user: $2
contexts:
- name: t
  context: {cluster: t, user: u}
current-context: t
KC
}

# x509: alice's certificate.
kubeconfig "$T/kc-alice" "{client-certificate-data: $(b64 "$P/alice.crt"), client-key-data: $(b64 "$P/alice.key")}"
export KUBECONFIG=$T/kc-alice
expect_output "kubectl with a client certificate (CN alice)" \
  "default" k get namespaces
expect_output "kubectl create as alice" "created" \
  k create namespace authn-ns

# token-file: kubectl --token.
kubeconfig "$T/kc-none" "{}"
export KUBECONFIG=$T/kc-none
expect_output "kubectl --token from the token file" \
  "authn-ns" k --token s3cret-token get namespaces
check "curl with Bearer token" \
  curl -fsS --cacert "$P/server-ca.crt" -H "Authorization: Bearer s3cret-token" \
  "$SERVER/api/v1/namespaces"

# No credentials, or a wrong token: 401.
# (basic auth, which no kapi authenticator accepts: an empty user makes
# kubectl prompt for a username.)
kubeconfig "$T/kc-anon" "{username: nobody, password: nothing}"
expect_fail "kubectl without credentials is unauthorized" \
  "error: You must be logged in to the server \(Unauthorized\)" \
  env KUBECONFIG="$T/kc-anon" "$KUBECTL" --cache-dir "$T/kcache" get namespaces
expect_fail "kubectl with a wrong token is unauthorized" \
  "error: You must be logged in to the server \(Unauthorized\)" \
  k --token wrong-token get namespaces
code=$(curl -sS -o "$T/401.json" -w '%{http_code}' --cacert "$P/server-ca.crt" \
  "$SERVER/api/v1/namespaces")
if [ "$code" = 401 ] && grep -q '"kind":"Status"' "$T/401.json" &&
   grep -q '"reason":"Unauthorized"' "$T/401.json" && grep -q '"code":401' "$T/401.json"; then
  ok "curl without credentials: 401 Status"
else
  not_ok "curl without credentials: 401 Status (got $code: $(cat "$T/401.json"))"
fi
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$P/server-ca.crt" \
  -H "Authorization: Bearer wrong-token" "$SERVER/api/v1/namespaces")
if [ "$code" = 401 ]; then ok "curl with a wrong token: 401"
else not_ok "curl with a wrong token: 401 (got $code)"; fi

# Every verb without credentials is a 401 and reaches nothing.
anon() { # anon METHOD PATH [BODY]: the HTTP status without credentials
  curl -sS -o /dev/null -w '%{http_code}' --cacert "$P/server-ca.crt" \
    -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} \
    "$SERVER$2"
}
NSP=/api/v1/namespaces/default/configmaps
CM='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"anon"}}'
for v in "GET $NSP/x" "GET $NSP" "GET $NSP?watch=1&timeoutSeconds=1" \
         "POST $NSP $CM" "PUT $NSP/anon $CM" "PATCH $NSP/anon {}" \
         "DELETE $NSP/anon" "DELETE $NSP" "GET /apis" "GET /openapi/v3"; do
  set -- $v
  code=$(anon "$@")
  if [ "$code" = 401 ]; then ok "no credentials: $1 $2 is 401"
  else not_ok "no credentials: $1 $2 is 401 (got $code)"; fi
done
kubeconfig "$T/kc-alice2" "{client-certificate-data: $(b64 "$P/alice.crt"), client-key-data: $(b64 "$P/alice.key")}"
expect_fail "nothing was created by the refused requests" "NotFound|not found" \
  env KUBECONFIG="$T/kc-alice2" "$KUBECTL" --cache-dir "$T/kcache" get configmap anon
for p in /healthz /livez /readyz /version; do
  code=$(anon GET $p)
  if [ "$code" = 200 ]; then ok "$p stays public with anonymous off"
  else not_ok "$p stays public with anonymous off (got $code)"; fi
done

# A client certificate from a CA other than --client-ca-file: no identity.
leaf mallory server-ca "/O=system:masters/CN=mallory" "extendedKeyUsage=clientAuth"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$P/server-ca.crt" \
  --cert "$P/mallory.crt" --key "$P/mallory.key" "$SERVER/api/v1/namespaces")
if [ "$code" = 401 ]; then ok "a client certificate from another CA is rejected"
else not_ok "a client certificate from another CA is rejected (got $code)"; fi
stop_server

# An unreadable token file stops the server with a clear message.
expect_fail "missing --token-auth-file is reported" \
  "failed to read token file '$T/missing.csv'" \
  "$KAPI_BUILDDIR/kapi-apiserver" --data-dir "$T/data2" --insecure-port 0 \
  --no-default-plugins --plugin-dir "$PLUGINS" --token-auth-file "$T/missing.csv"

finish
