#!/usr/bin/env bash
# kapi pki init: files and modes, chains, subjects/SANs/EKUs, kubeconfigs
# carrying the same certificates, idempotency, and a real mutual-TLS
# handshake between the apiserver and admin certificates.
set -u
: "${KAPI_BUILDDIR:?KAPI_BUILDDIR must point at the build tree}"
KAPI="$KAPI_BUILDDIR/kapi"
command -v openssl >/dev/null || { echo "skipped: no openssl"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/kapi-pki.XXXXXX")
D="$T/pki"
SPID=
PASSED=0
FAILED=0
stop_tls_server() {
  if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi
  SPID=
  exec 3>&-
}
cleanup() {
  stop_tls_server
  rm -rf "$T"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
has() { grep -qF -- "$2" <<<"$1"; }

x509() { openssl x509 -noout -in "$D/$1" "${@:2}" 2>/dev/null; }
mode() { stat -c %a "$D/$1"; }
# The base64 field $2 of kubeconfig $1, decoded.
kcfield() { sed -n "s/^ *$2: //p" "$D/$1" | base64 -d; }

check "--help" "$KAPI" --help >/dev/null
check "pki --help" "$KAPI" pki --help >/dev/null
check "init without --dir fails" bash -c "! '$KAPI' pki init 2>/dev/null"
check "unknown command fails" bash -c "! '$KAPI' nosuch 2>/dev/null"

check "pki init" "$KAPI" -v 1 pki init --dir "$D" \
  --hosts 10.1.2.3,api.example.test --nodes n1,n2 \
  --server https://10.1.2.3:6443

certs="ca apiserver admin kube-scheduler kube-controller-manager kubelet-n1 kubelet-n2"
kcs="admin scheduler controller-manager kubelet-n1 kubelet-n2"
for c in $certs; do
  check "$c.crt is 0644" [ "$(mode "$c.crt")" = 644 ]
  check "$c.key is 0600" [ "$(mode "$c.key")" = 600 ]
done
check "sa.key is 0600" [ "$(mode sa.key)" = 600 ]
check "sa.pub is 0644" [ "$(mode sa.pub)" = 644 ]
for k in $kcs; do check "$k.kubeconfig is 0600" [ "$(mode "$k.kubeconfig")" = 600 ]; done

for c in $certs; do
  check "$c.crt verifies against ca.crt" \
    openssl verify -CAfile "$D/ca.crt" "$D/$c.crt"
  # The key matches the certificate.
  check "$c.key matches $c.crt" [ "$(openssl pkey -in "$D/$c.key" -pubout)" = \
    "$(openssl x509 -in "$D/$c.crt" -noout -pubkey)" ]
done
check "sa.pub is sa.key's public key" \
  [ "$(openssl pkey -in "$D/sa.key" -pubout)" = "$(cat "$D/sa.pub")" ]

ca=$(x509 ca.crt -text)
check "CA is CA:TRUE" has "$ca" "CA:TRUE"
check "CA can sign certificates" has "$ca" "Certificate Sign"
ca_end=$(x509 ca.crt -enddate | cut -d= -f2)
check "CA lasts about 10 years" \
  [ $(( ($(date -d "$ca_end" +%s) - $(date +%s)) / 86400 )) -ge 3640 ]

api=$(x509 apiserver.crt -text)
for san in DNS:localhost DNS:kubernetes DNS:kubernetes.default \
  DNS:kubernetes.default.svc DNS:kubernetes.default.svc.cluster.local \
  "IP Address:127.0.0.1" "IP Address:0:0:0:0:0:0:0:1" \
  "IP Address:10.1.2.3" DNS:api.example.test "DNS:$(hostname)"; do
  check "apiserver SAN $san" has "$api" "$san"
done
check "apiserver EKU serverAuth" has "$api" "TLS Web Server Authentication"
check "apiserver is CA:FALSE" has "$api" "CA:FALSE"

subj() { x509 "$1" -subject -nameopt RFC2253 | sed 's/^subject=//'; }
check "admin subject" [ "$(subj admin.crt)" = "CN=kubernetes-admin,O=system:masters" ]
check "scheduler subject" [ "$(subj kube-scheduler.crt)" = "CN=system:kube-scheduler" ]
check "controller-manager subject" \
  [ "$(subj kube-controller-manager.crt)" = "CN=system:kube-controller-manager" ]
check "node subject" [ "$(subj kubelet-n2.crt)" = "CN=system:node:n2,O=system:nodes" ]
for c in admin kube-scheduler kube-controller-manager kubelet-n1; do
  check "$c EKU clientAuth" has "$(x509 "$c.crt" -text)" "TLS Web Client Authentication"
done

for pair in admin:admin scheduler:kube-scheduler \
  controller-manager:kube-controller-manager kubelet-n1:kubelet-n1 \
  kubelet-n2:kubelet-n2; do
  k=${pair%%:*} c=${pair#*:}
  check "$k.kubeconfig CA data is ca.crt" \
    cmp -s <(kcfield "$k.kubeconfig" certificate-authority-data) "$D/ca.crt"
  check "$k.kubeconfig client cert is $c.crt" \
    cmp -s <(kcfield "$k.kubeconfig" client-certificate-data) "$D/$c.crt"
  check "$k.kubeconfig client key is $c.key" \
    cmp -s <(kcfield "$k.kubeconfig" client-key-data) "$D/$c.key"
  check "$k.kubeconfig server" grep -q "server: https://10.1.2.3:6443" "$D/$k.kubeconfig"
done

# Idempotency: a second run keeps every file byte for byte.
before=$(cd "$D" && sha256sum -- * | sort)
check "second pki init" "$KAPI" pki init --dir "$D" --hosts 10.1.2.3,api.example.test \
  --nodes n1,n2 --server https://10.1.2.3:6443
after=$(cd "$D" && sha256sum -- * | sort)
check "second run changes nothing" [ "$before" = "$after" ]
# A new node only adds its own files.
check "adding a node" "$KAPI" pki init --dir "$D" --nodes n1,n2,n3
check "n3 credentials created" [ -s "$D/kubelet-n3.crt" ] && [ -s "$D/kubelet-n3.kubeconfig" ]
check "existing files kept when adding a node" \
  [ "$before" = "$(cd "$D" && sha256sum -- * | grep -v n3 | sort)" ]
check "no temporary files left" bash -c "! ls '$D' | grep -q tmp"

# End to end: mutual TLS with the apiserver serving cert and admin client.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)))
# s_server quits at EOF on stdin: feed it a FIFO that fd 3 keeps open.
mkfifo "$T/stdin"
exec 3<>"$T/stdin"
openssl s_server -cert "$D/apiserver.crt" -key "$D/apiserver.key" \
  -CAfile "$D/ca.crt" -Verify 1 -verify_return_error -accept "127.0.0.1:$port" \
  <&3 >"$T/server.log" 2>&1 &
SPID=$!
for _ in $(seq 100); do grep -q ACCEPT "$T/server.log" && break; sleep 0.1; done
tls() {
  echo Q | timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$D/ca.crt" \
    -verify_return_error -verify_hostname "$1" "${@:2}" >"$T/client.log" 2>&1 &&
    grep -q "Verify return code: 0 (ok)" "$T/client.log"
}
check "mTLS handshake admin -> apiserver (localhost)" \
  tls localhost -cert "$D/admin.crt" -key "$D/admin.key"
check "mTLS handshake with kubernetes.default.svc" \
  tls kubernetes.default.svc -cert "$D/kubelet-n1.crt" -key "$D/kubelet-n1.key"
check "server saw the admin client certificate" \
  grep -q "kubernetes-admin" "$T/server.log"
tls_fails() { ! tls "$@"; }
check "handshake fails for a name not in the SANs" \
  tls_fails wrong.example -cert "$D/admin.crt" -key "$D/admin.key"
# In TLS 1.3 the client finishes before the server rejects it: the
# server's log tells whether a certificate-less client was refused.
tls localhost >/dev/null 2>&1
sleep 0.2
check "server refuses a client without certificate" \
  grep -q "peer did not return a certificate" "$T/server.log"
stop_tls_server

echo "# passed $PASSED failed $FAILED"
[ "$FAILED" -eq 0 ]
