# Helpers for the integration tests: start a real kapi-apiserver on a
# free loopback port with its own data and plugin directories, drive the
# real kubectl against it, always stop what was started.
# shellcheck shell=bash

set -u
: "${KAPI_BUILDDIR:?KAPI_BUILDDIR must point at the build tree}"
KUBECTL=${KUBECTL:-kubectl}

if [ "${KAPI_UNIT_ONLY:-0}" = 1 ]; then
  echo "skipped: KAPI_UNIT_ONLY=1"; exit 77
fi
command -v "$KUBECTL" >/dev/null || { echo "skipped: no kubectl"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/kapi-it.XXXXXX")
# Servers started here have no controller-manager to create each
# namespace's default ServiceAccount, which the ServiceAccount admission
# plugin (on by default, as upstream) requires for every pod: tests that
# want it clear this.
SERVER_ADMISSION=${SERVER_ADMISSION---disable-admission-plugins=ServiceAccount}
chmod 755 "$T"
SERVER_PID=
PASSED=0
FAILED=0

CLUSTER_PIDS=

cleanup() {
  stop_cluster
  stop_server
  jobs -p | xargs -r kill 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# The built plugins, copied into a directory only we can write.
make_plugin_dir() {
  local d=$T/plugins f
  mkdir -p "$d"
  chmod 755 "$d"
  for f in "$KAPI_BUILDDIR"/authn/*/.libs/*.so "$KAPI_BUILDDIR"/authz/*/.libs/*.so \
           "$KAPI_BUILDDIR"/admission/*/.libs/*.so "$KAPI_BUILDDIR"/registry/*/.libs/*.so; do
    install -m 644 "$f" "$d/"
  done
  echo "$d"
}

# start_server [flags...]: starts on a free port, waits for /readyz.
start_server() {
  local log=$T/apiserver.log i
  : "${PLUGINS:=$(make_plugin_dir)}"
  : >"$log"
  "$KAPI_BUILDDIR/kapi-apiserver" --data-dir "$T/data" --insecure-port 0 \
    --no-default-plugins --plugin-dir "$PLUGINS" \
    --authorization-mode AlwaysAllow $SERVER_ADMISSION "$@" 2>>"$log" &
  SERVER_PID=$!
  for i in $(seq 1 200); do
    PORT=$(sed -n 's/.*serving on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | tail -1)
    if [ -n "$PORT" ] && curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then
      SERVER="http://127.0.0.1:$PORT"
      write_kubeconfig
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "apiserver did not start:" >&2
  cat "$log" >&2
  return 1
}

# start_tls_server [flags...]: like start_server, but serving HTTPS on a
# free port (pass --tls-cert-file, --tls-private-key-file and maybe
# --client-ca-file); sets SERVER to the https URL and SECURE_PORT.
start_tls_server() {
  local log=$T/apiserver.log i
  : "${PLUGINS:=$(make_plugin_dir)}"
  : >"$log"
  "$KAPI_BUILDDIR/kapi-apiserver" --data-dir "$T/data" --secure-port 0 \
    --no-default-plugins --plugin-dir "$PLUGINS" \
    --authorization-mode AlwaysAllow $SERVER_ADMISSION "$@" 2>>"$log" &
  SERVER_PID=$!
  for i in $(seq 1 200); do
    SECURE_PORT=$(sed -n 's/.*serving securely on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | tail -1)
    if [ -n "$SECURE_PORT" ] && curl -ksS "https://127.0.0.1:$SECURE_PORT/readyz" >/dev/null 2>&1; then
      SERVER="https://127.0.0.1:$SECURE_PORT"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "apiserver did not start:" >&2
  cat "$log" >&2
  return 1
}

# start_pki_server [flags...]: `kapi pki init` in $T/pki (nodes from
# $PKI_NODES, comma-separated), then an HTTPS server with that serving
# certificate, client CA and service-account keys; KUBECONFIG is the
# admin's (system:masters).  kc_token NAME TOKEN and kc_cert NAME write
# $T/kc-NAME for a bearer token or for $T/pki/NAME.{crt,key}.
start_pki_server() {
  local P=$T/pki
  "$KAPI_BUILDDIR/kapi" pki init --dir "$P" ${PKI_NODES:+--nodes "$PKI_NODES"} \
    >>"$T/pki.log" 2>&1 || { cat "$T/pki.log"; return 1; }
  start_tls_server --tls-cert-file "$P/apiserver.crt" \
    --tls-private-key-file "$P/apiserver.key" --client-ca-file "$P/ca.crt" "$@" ||
    return 1
  kc_cert admin
  export KUBECONFIG=$T/kc-admin
}

kc_user() {
  cat >"$T/kc-$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: t
  cluster:
    server: "$SERVER"
    certificate-authority: "$T/pki/ca.crt"
users:
- name: u
  user: $2
contexts:
- name: t
  context: {cluster: t, user: u}
current-context: t
KC
}
kc_token() { kc_user "$1" "{token: \"$2\"}"; }
kc_cert() {
  kc_user "$1" "{client-certificate: \"$T/pki/$1.crt\", client-key: \"$T/pki/$1.key\"}"
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
  fi
}

# start_cluster: the controller-manager, the scheduler and one kubelet
# (process runtime, node "node-1") against $SERVER.
start_cluster() {
  local d
  for d in controllers sched-plugins runtime; do mkdir -p "$T/plugins-$d"; done
  install -m 644 "$KAPI_BUILDDIR"/plugins/controllers/*/.libs/*.so "$T/plugins-controllers/"
  install -m 644 "$KAPI_BUILDDIR"/sched-plugins/*/.libs/*.so "$T/plugins-sched-plugins/"
  install -m 644 "$KAPI_BUILDDIR"/plugins/runtime/*/.libs/*.so "$T/plugins-runtime/"
  chmod 755 "$T"/plugins-*
  "$KAPI_BUILDDIR/kapi-controller-manager" --master "$SERVER" \
    --plugin-dir "$T/plugins-controllers" 2>>"$T/controller-manager.log" &
  CLUSTER_PIDS="$CLUSTER_PIDS $!"
  "$KAPI_BUILDDIR/kapi-scheduler" --master "$SERVER" --no-default-plugins \
    --plugin-dir "$T/plugins-sched-plugins" 2>>"$T/scheduler.log" &
  CLUSTER_PIDS="$CLUSTER_PIDS $!"
  "$KAPI_BUILDDIR/kapi-kubelet" --master "$SERVER" --hostname-override node-1 \
    --runtime process --plugin-dir "$T/plugins-runtime" \
    --root-dir "$T/kubelet" 2>>"$T/kubelet.log" &
  CLUSTER_PIDS="$CLUSTER_PIDS $!"
}

stop_cluster() {
  local p
  for p in $CLUSTER_PIDS; do kill "$p" 2>/dev/null; done
  for p in $CLUSTER_PIDS; do wait "$p" 2>/dev/null; done
  CLUSTER_PIDS=
}

kill9_server() {
  kill -9 "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

write_kubeconfig() {
  export KUBECONFIG=$T/kubeconfig
  cat >"$KUBECONFIG" <<KC
apiVersion: v1
kind: Config
clusters:
- name: t
  cluster: {server: "$SERVER"}
users:
- name: t
  user: {}
contexts:
- name: t
  context: {cluster: t, user: t}
current-context: t
KC
}

k() { "$KUBECTL" --cache-dir "$T/kcache" "$@" </dev/null; }

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# check NAME CMD...: the command must succeed.
check() {
  local name=$1; shift
  if "$@" >"$T/out" 2>&1; then ok "$name"; else not_ok "$name"; sed 's/^/    /' "$T/out"; fi
}

# expect_output NAME REGEX CMD...: the command's output must match.
expect_output() {
  local name=$1 re=$2; shift 2
  "$@" >"$T/out" 2>&1
  if grep -Eq -- "$re" "$T/out"; then ok "$name"; else
    not_ok "$name (wanted /$re/)"; sed 's/^/    /' "$T/out"; fi
}

# expect_fail NAME REGEX CMD...: must fail, and print the message.
expect_fail() {
  local name=$1 re=$2; shift 2
  if "$@" >"$T/out" 2>&1; then not_ok "$name (succeeded)"; sed 's/^/    /' "$T/out"; return; fi
  if grep -Eq -- "$re" "$T/out"; then ok "$name"; else
    not_ok "$name (wanted /$re/)"; sed 's/^/    /' "$T/out"; fi
}

finish() {
  local f
  if [ "$FAILED" -gt 0 ]; then # the daemons' last words help more than rc
    for f in "$T"/*.log; do
      [ -f "$f" ] && { echo "==> $f"; tail -n 40 "$f"; }
    done
  fi
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# req METHOD PATH [BODY [CONTENT-TYPE]]: one curl request to $SERVER; the
# response body goes to $T/body, its HTTP status to $CODE and its
# Content-Type to $CTYPE.
req() {
  local m=$1 p=$2 out
  rm -f "$T/body"
  if [ $# -ge 3 ]; then
    out=$(curl -sS -o "$T/body" -w '%{http_code} %{content_type}' -X "$m" \
      -H "Content-Type: ${4:-application/json}" --data-binary "$3" "$SERVER$p")
  else
    out=$(curl -sS -o "$T/body" -w '%{http_code} %{content_type}' -X "$m" "$SERVER$p")
  fi
  CODE=${out%% *}
  CTYPE=${out#* }
}

# jcheck NAME EXPR [FILE]: EXPR, a Python expression, must be true.  In it
# b is the JSON document in FILE (default $T/body, None if not one
# document), ev the list of documents when FILE holds one per line (a
# watch stream), code the last req's status, and re the re module.
jcheck() {
  local name=$1 expr=$2 file=${3:-$T/body}
  if python3 - "$expr" "$file" "${CODE:-0}" >"$T/jcheck.out" 2>&1 <<'PY'
import json, re, sys
expr, path, code = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(path, encoding="utf-8", errors="replace").read()
try:
    b = json.loads(text)
except ValueError:
    b = None
ev = []
for line in text.splitlines():
    try:
        ev.append(json.loads(line))
    except ValueError:
        pass
sys.exit(0 if eval(expr, {"b": b, "ev": ev, "code": code, "re": re}) else 1)
PY
  then ok "$name"; else
    not_ok "$name (wanted: $expr; HTTP $CODE)"
    { cat "$T/jcheck.out"; head -c 2000 "$file"; echo; } | sed 's/^/    /'
  fi
}

# jget EXPR [FILE]: prints a Python expression over the JSON in FILE.
jget() {
  python3 -c 'import json, sys; b = json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' \
    "$1" "${2:-$T/body}"
}
