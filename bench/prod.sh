# bench/prod.sh - sourced by bench/run: the production configuration.
#
# The apiserver as scripts/up runs it, without the other daemons: a CA
# and certificates from `kapi pki init`, HTTPS only, x509 client
# certificates and service-account tokens, Node,RBAC authorization, the
# default admission plugins (NamespaceLifecycle, LimitRanger,
# ServiceAccount, PodSecurity, DefaultTolerationSeconds, ResourceQuota)
# plus NodeRestriction, and the store's fsync'ed group commit (--fsync,
# from FSYNC).  The load generators authenticate as the admin
# (system:masters) with its client certificate, so each request pays for
# TLS, x509 authentication and an RBAC decision.
#
# Uses BUILD and T from bench/run; prod_mode sets what bench/run's
# start_server and bench need (see "the configuration" there).

# prod_mode: the PKI in $T/pki, made once and used by every run.
prod_mode() {
  local P=$T/pki
  [ -x "$BUILD/kapi" ] || { echo "$BUILD/kapi not built" >&2; return 1; }
  if ! "$BUILD/kapi" pki init --dir "$P" >"$T/pki.log" 2>&1; then
    echo "kapi pki init failed:" >&2
    cat "$T/pki.log" >&2
    return 1
  fi
  MODE_DESC="production: HTTPS, admin client certificate, Node,RBAC, default admission + NodeRestriction"
  SERVER_FLAGS=(--secure-port 0
    --tls-cert-file "$P/apiserver.crt" --tls-private-key-file "$P/apiserver.key"
    --client-ca-file "$P/ca.crt" --authorization-mode Node,RBAC
    --enable-admission-plugins NodeRestriction
    --service-account-signing-key-file "$P/sa.key"
    --service-account-key-file "$P/sa.pub")
  LISTEN_MARK='serving securely on https://127.0.0.1:'
  SCHEME=https
  CURL_AUTH=(--cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key")
  CLIENT_AUTH=("${CURL_AUTH[@]}")
  AFTER_START=prod_after_start
}

# prod_after_start: what the controller-manager would have done by now.
# ServiceAccount admission refuses pods in a namespace without a `default`
# ServiceAccount, and nothing here runs the controller that makes it.
prod_after_start() {
  local code
  code=$(curl -sS "${CURL_AUTH[@]}" -o "$T/sa.out" -w '%{http_code}' \
    -H 'Content-Type: application/json' \
    -d '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"default"}}' \
    "$SERVER/api/v1/namespaces/default/serviceaccounts")
  case $code in
    201|409) return 0 ;; # 409: the server made it after all
  esac
  echo "cannot create ServiceAccount default/default (HTTP $code):" >&2
  cat "$T/sa.out" >&2
  return 1
}
