#!/usr/bin/env bash
# HTTPS serving: server certificate, client certificates asked for during
# the handshake and verified against --client-ca-file (an untrusted or
# missing one still connects), kubectl over https with client certs.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || { echo "skipped: no openssl"; exit 77; }

P=$T/pki
mkdir -p "$P"
ossl() { openssl "$@" >>"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; exit 1; }; }

# ca NAME: a self-signed CA.
ca() {
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$P/$1.key" -out "$P/$1.crt" \
    -days 2 -subj "/CN=$1" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
}
# leaf NAME CA SUBJECT EXTFILE-TEXT: a certificate signed by CA.
leaf() {
  printf '%s\n' "$4" >"$P/$1.ext"
  ossl req -newkey rsa:2048 -nodes -keyout "$P/$1.key" -out "$P/$1.csr" -subj "$3"
  ossl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" \
    -CAcreateserial -days 1 -out "$P/$1.crt" -extfile "$P/$1.ext"
}

ca server-ca
ca client-ca
ca other-ca
leaf server server-ca /CN=kapi-apiserver \
  "$(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth')"
leaf alice client-ca "/O=devs/CN=alice" "extendedKeyUsage=clientAuth"
leaf mallory other-ca "/O=system:masters/CN=mallory" "extendedKeyUsage=clientAuth"
leaf serveronly client-ca "/CN=bob" "extendedKeyUsage=serverAuth"

start_tls_server -v 4 --tls-cert-file "$P/server.crt" \
  --tls-private-key-file "$P/server.key" --client-ca-file "$P/client-ca.crt" || exit 1
LOG=$T/apiserver.log

expect_output "logs serving securely" "serving securely on https://127.0.0.1:$SECURE_PORT" \
  cat "$LOG"
expect_output "curl --cacert /version" '"gitVersion"' \
  curl -fsS --cacert "$P/server-ca.crt" "$SERVER/version"
expect_fail "untrusted server certificate is refused by curl" "." \
  curl -fsS "$SERVER/version"
expect_fail "plain http to the TLS port fails" "." \
  curl -fsS --max-time 5 "http://127.0.0.1:$SECURE_PORT/version"
if grep -q "serving on http://" "$LOG"; then not_ok "no plain HTTP without --insecure-port"
else ok "no plain HTTP without --insecure-port"; fi

# A client certificate from the client CA verifies.
check "curl with a trusted client certificate" \
  curl -fsS --cacert "$P/server-ca.crt" --cert "$P/alice.crt" --key "$P/alice.key" \
  "$SERVER/api/v1/namespaces"
expect_output "client certificate verified" "client certificate: CN=alice O=\[devs\] verified" \
  cat "$LOG"

# One from another CA still connects, but is not verified.
check "curl with an untrusted client certificate connects" \
  curl -fsS --cacert "$P/server-ca.crt" --cert "$P/mallory.crt" --key "$P/mallory.key" \
  "$SERVER/version"
expect_output "untrusted client certificate not verified" \
  "client certificate not verified: .*issuer" cat "$LOG"
if grep -q "CN=mallory" "$LOG"; then not_ok "untrusted certificate gave no identity"
else ok "untrusted certificate gave no identity"; fi

# The wrong extended key usage is refused too.
check "curl with a serverAuth-only certificate connects" \
  curl -fsS --cacert "$P/server-ca.crt" --cert "$P/serveronly.crt" --key "$P/serveronly.key" \
  "$SERVER/version"
expect_output "serverAuth-only client certificate not verified" \
  "client certificate not verified: .*purpose" cat "$LOG"

check "curl without a client certificate connects" \
  curl -fsS --cacert "$P/server-ca.crt" "$SERVER/version"

# kubectl with certificate-authority-data and client certificate data.
b64() { base64 -w0 <"$1"; }
export KUBECONFIG=$T/kubeconfig-tls
cat >"$KUBECONFIG" <<KC
apiVersion: v1
kind: Config
clusters:
- name: t
  cluster:
    server: "$SERVER"
    certificate-authority-data: $(b64 "$P/server-ca.crt")
users:
- name: alice
  user:
    client-certificate-data: $(b64 "$P/alice.crt")
    client-key-data: $(b64 "$P/alice.key")
contexts:
- name: t
  context: {cluster: t, user: alice}
current-context: t
KC
expect_output "kubectl get namespaces over https" "default" k get namespaces
expect_output "kubectl create over https" "created" k create namespace tls-ns
expect_output "kubectl sees it" "tls-ns" k get namespace tls-ns

stop_server

# Flag errors.
expect_fail "cert without key is refused" "must be given together" \
  "$KAPI_BUILDDIR/kapi-apiserver" --data-dir "$T/data2" --secure-port 0 \
  --tls-cert-file "$P/server.crt"
expect_fail "client CA without TLS is refused" "needs --tls-cert-file" \
  "$KAPI_BUILDDIR/kapi-apiserver" --data-dir "$T/data2" --insecure-port 0 \
  --client-ca-file "$P/client-ca.crt"
expect_fail "non-loopback plain HTTP is refused" "loopback" \
  "$KAPI_BUILDDIR/kapi-apiserver" --data-dir "$T/data2" --insecure-port 0 \
  --insecure-bind-address 0.0.0.0

# TLS and plain HTTP together: plain only when asked for.
start_tls_server --tls-cert-file "$P/server.crt" --tls-private-key-file "$P/server.key" \
  --insecure-port 0 || exit 1
PLAIN=$(sed -n 's/.*serving on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$T/apiserver.log" | tail -1)
check "plain HTTP with --insecure-port alongside TLS" \
  curl -fsS "http://127.0.0.1:$PLAIN/version"
check "https alongside plain HTTP" \
  curl -fsS --cacert "$P/server-ca.crt" "$SERVER/version"
stop_server

finish
