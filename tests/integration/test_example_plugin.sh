#!/usr/bin/env bash
# test_example_plugin.sh - the third-party plugin experience, end to end.
#
#  1. `make install` of the build tree into a staging root (DESTDIR);
#  2. examples/admission-image-policy built with one cc line whose -I
#     comes from the installed kapi.pc and header (not the source tree),
#     and with the example's own Makefile;
#  3. kapi-apiserver configured through an AdmissionConfiguration file:
#     a pod with a disallowed image is refused with the plugin's message,
#     allowed pods are created; so are deployments' pod templates;
#  4. tests/plugins/abi-1-0.c, an admission plugin as ABI 1.0 built it,
#     loads next to it and its mutation and refusal apply;
#  5. the refusals at start: no configuration for ImagePolicy, and a
#     group-writable plugin directory (the loader's message).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
EXAMPLE=$SRC/examples/admission-image-policy
CC=${CC:-cc}
APISERVER=$KAPI_BUILDDIR/kapi-apiserver
command -v pkg-config >/dev/null || { echo "skipped: no pkg-config"; exit 77; }
[ -f "$KAPI_BUILDDIR/Makefile" ] ||
  { echo "skipped: $KAPI_BUILDDIR is not a build tree (no Makefile)"; exit 77; }

# ---- 1. install into a staging root ----------------------------------------
PREFIX=$(sed -n 's/^prefix = //p' "$KAPI_BUILDDIR/Makefile")
ROOT=$T/root
# Called from `make check`: the parent's jobserver flags must not leak
# into the makes below.
unset MAKEFLAGS MFLAGS MAKELEVEL
t0=$(date +%s%N)
if make -s -C "$KAPI_BUILDDIR" install DESTDIR="$ROOT" >"$T/install.log" 2>&1; then
  ok "make install DESTDIR=staging root ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
  not_ok "make install DESTDIR=staging root"; tail -20 "$T/install.log" | sed 's/^/    /'
  finish; exit
fi
PC=$(find "$ROOT$PREFIX" -path '*/pkgconfig/kapi.pc' | head -1)
check "kapi.pc is installed under the prefix ($PREFIX)" test -n "$PC"
check "kapi/plugin.h is installed" test -f "$ROOT$PREFIX/include/kapi/plugin.h"

# pkg-config sees only the staging root: a sysroot prefixes every path.
export PKG_CONFIG_PATH=${PC%/kapi.pc} PKG_CONFIG_LIBDIR=${PC%/kapi.pc}
export PKG_CONFIG_SYSROOT_DIR=$ROOT
KAPI_CFLAGS=$(pkg-config --cflags kapi)
ADMISSIONDIR=$(pkg-config --variable=admissiondir kapi)
expect_output "pkg-config --cflags kapi points into the staging root" \
  "^-I$ROOT$PREFIX/include *\$" echo "$KAPI_CFLAGS"
expect_output "pkg-config --variable=admissiondir kapi is under the prefix" \
  "^$ROOT$PREFIX/.*/admission\$" echo "$ADMISSIONDIR"

# ---- 2. build the example as a third party would ---------------------------
# shellcheck disable=SC2086 # KAPI_CFLAGS is a list of flags
check "image_policy.c builds with one cc line" \
  "$CC" -std=gnu11 -Wall -Wextra -Werror -O2 -fPIC -shared -fvisibility=hidden \
  $KAPI_CFLAGS -MD -MF "$T/image-policy.d" -o "$T/image-policy.so" \
  "$EXAMPLE/image_policy.c"
expect_output "it included the installed header, not the source tree's" \
  "$ROOT$PREFIX/include/kapi/plugin.h" cat "$T/image-policy.d"
check "and nothing from the source tree" \
  sh -c "! grep -qF '$SRC/include' '$T/image-policy.d'"
expect_output "it exports exactly one function, kapi_plugin_describe" \
  "^kapi_plugin_describe \$" sh -c "nm -D --defined-only '$T/image-policy.so' |
    awk '\$2 == \"T\" { print \$3 }' | tr '\n' ' '"

# The example's Makefile, on a copy (the source tree stays clean).
cp -r "$EXAMPLE" "$T/example"
check "the example's Makefile builds it (make all)" make -s -C "$T/example" all
check "make install puts it into the admission directory" \
  sh -c "make -s -C '$T/example' install &&
         test \"\$(stat -c %a '$ADMISSIONDIR/image-policy.so')\" = 644"
check "make clean removes it" \
  sh -c "make -s -C '$T/example' clean && test ! -e '$T/example/image-policy.so'"

# The ABI 1.0 fixture, built the same way.
check "tests/plugins/abi-1-0.c builds against the installed header" \
  "$CC" -std=gnu11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
  $KAPI_CFLAGS -o "$T/abi-1-0.so" "$SRC/tests/plugins/abi-1-0.c"

# ---- 3. the apiserver with both, configured by AdmissionConfiguration -------
# The build's authenticators, authorizers and resources, and of admission
# only these two: the in-tree admission plugins are not under test here.
PDIR=$T/plugins
mkdir -m 755 "$PDIR"
install -m 644 "$KAPI_BUILDDIR"/authn/*/.libs/*.so "$KAPI_BUILDDIR"/authz/*/.libs/*.so \
  "$KAPI_BUILDDIR"/registry/*/.libs/*.so "$T/image-policy.so" "$T/abi-1-0.so" "$PDIR/"
cat >"$T/admission.yaml" <<'EOF'
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ImagePolicy
  configuration:
    allowedPrefixes:
    - registry.example.com/
    - docker.io/library/
- name: Abi10
  configuration:
    annotation: from-the-file
EOF
PLUGINS=$PDIR start_server --admission-control-config-file "$T/admission.yaml" ||
  { not_ok "apiserver starts with ImagePolicy and Abi10"; finish; exit; }
ok "apiserver starts with ImagePolicy and Abi10"
expect_output "both are in the admission chain" \
  "admission +ImagePolicy .*image-policy.so" \
  "$APISERVER" --no-default-plugins --plugin-dir "$PDIR" \
  --admission-control-config-file "$T/admission.yaml" --list-plugins
expect_output "... with Abi10 loaded as plugin abi-1-0" \
  "admission +Abi10 +\(plugin abi-1-0 1\.0\.0" \
  "$APISERVER" --no-default-plugins --plugin-dir "$PDIR" \
  --admission-control-config-file "$T/admission.yaml" --list-plugins
expect_output "--disable-admission-plugins=ImagePolicy turns it off" \
  "admission +ImagePolicy .*image-policy.so\)  disabled" \
  "$APISERVER" --no-default-plugins --plugin-dir "$PDIR" \
  --admission-control-config-file "$T/admission.yaml" \
  --disable-admission-plugins=ImagePolicy --list-plugins

pod() { # pod NAME IMAGE [INIT_IMAGE] [LABELS_JSON]
  local init= labels=${4:-'{}'}
  [ -n "${3:-}" ] && init=",\"initContainers\":[{\"name\":\"setup\",\"image\":\"$3\"}]"
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","labels":%s},"spec":{"containers":[{"name":"c","image":"%s"}]%s}}' \
    "$1" "$labels" "$2" "$init"
}
# k reads no stdin: manifests go through a file.
create() { printf '%s' "$1" >"$T/manifest.json" && k create -f "$T/manifest.json"; }

ALLOWED='(allowed: registry.example.com/, docker.io/library/)'
expect_fail "a pod with a disallowed image is refused with the plugin's message" \
  "pods \"p\" is forbidden: image \"evil.io/x:1\" of container \"c\" is not from an allowed registry \\(allowed: registry.example.com/, docker.io/library/\\)" \
  create "$(pod p evil.io/x:1)"
req POST /api/v1/namespaces/default/pods "$(pod p evil.io/x:1)"
jcheck "... as a 403 Forbidden Status naming the pod" \
  "code == 403 and b['reason'] == 'Forbidden' and b['code'] == 403 and b['details']['name'] == 'p' and b['details']['kind'] == 'pods' and b['message'] == 'pods \"p\" is forbidden: image \"evil.io/x:1\" of container \"c\" is not from an allowed registry $ALLOWED'"
check "a pod from an allowed registry is created" \
  create "$(pod ok1 registry.example.com/team/app:1.0)"
check "a docker hub official image (nginx = docker.io/library/nginx) is allowed" \
  create "$(pod ok2 nginx:1.27)"
expect_fail "a docker hub user image (docker.io/someone/...) is not" \
  "image \"someone/nginx\" of container \"c\" is not from an allowed registry" \
  create "$(pod p3 someone/nginx)"
expect_fail "a registry that merely starts like an allowed one is not" \
  "image \"registry.example.com.evil.io/x\"" \
  create "$(pod p4 registry.example.com.evil.io/x)"
expect_fail "init containers are checked" \
  "pods \"p5\" is forbidden: image \"quay.io/x\" of init container \"setup\" is not from an allowed registry" \
  create "$(pod p5 nginx quay.io/x)"
expect_fail "updating a pod to a disallowed image is refused" \
  "pods \"ok1\" is forbidden: image \"evil.io/y\" of container \"c\" is not from an allowed registry" \
  k patch pod ok1 -p '{"spec":{"containers":[{"name":"c","image":"evil.io/y"}]}}'
check "an update that leaves the images alone passes" \
  k label pod ok1 tier=web
stored_pods() { k get pods -o name | sort | tr '\n' ' '; }
expect_output "only the allowed pods were stored" '^pod/ok1 pod/ok2 $' stored_pods

deployment() { # deployment NAME IMAGE
  printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"%s"}},"template":{"metadata":{"labels":{"app":"%s"}},"spec":{"containers":[{"name":"web","image":"%s"}]}}}}' \
    "$1" "$1" "$1" "$2"
}
expect_fail "a deployment whose pod template has a disallowed image is refused" \
  "deployments.apps \"d1\" is forbidden: image \"evil.io/web\" of container \"web\" is not from an allowed registry" \
  create "$(deployment d1 evil.io/web)"
check "a deployment with an allowed template is created" \
  create "$(deployment d2 registry.example.com/web:2)"

# ---- 4. the ABI 1.0 plugin's decisions ---------------------------------------
k get pod ok2 -o json >"$T/body" 2>&1
HOST_ABI=$(sed -n 's/^#define KAPI_ABI_MAJOR \([0-9]*\).*/\1/p; s/^#define KAPI_ABI_MINOR \([0-9]*\).*/\1/p' \
  "$ROOT$PREFIX/include/kapi/plugin.h" | paste -sd.)
jcheck "its mutation applied: built for 1.0, it saw the host's ABI $HOST_ABI" \
  "b['metadata']['annotations']['abi-1-0.kapi.io/host-abi'] == '$HOST_ABI' != '1.0'"
jcheck "its configuration came from the AdmissionConfiguration file" \
  "b['metadata']['annotations']['abi-1-0.kapi.io/config'] == 'from-the-file'"
expect_fail "its refusal applies (pod labelled abi-1-0=deny)" \
  "pods \"p6\" is forbidden: the ABI 1.0 plugin refuses pods labelled abi-1-0=deny" \
  create "$(pod p6 nginx '' '{"abi-1-0":"deny"}')"
stop_server

# ---- 5. refusals at start ---------------------------------------------------
# start_refused NAME REGEX FLAGS...: the apiserver must exit non-zero on
# its own, saying REGEX.
start_refused() {
  local name=$1 re=$2 rc; shift 2
  timeout 20 "$APISERVER" --data-dir "$T/data-refused" --insecure-port 0 \
    --no-default-plugins --authorization-mode AlwaysAllow "$@" >"$T/out" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
    not_ok "$name (exit status $rc)"; sed 's/^/    /' "$T/out"
  elif grep -Eq -- "$re" "$T/out"; then ok "$name (exit status $rc)"
  else not_ok "$name (wanted /$re/)"; sed 's/^/    /' "$T/out"; fi
}

start_refused "ImagePolicy without configuration stops the apiserver" \
  'image-policy\.so.*ImagePolicy: no configuration' --plugin-dir "$PDIR"
printf 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: ImagePolicy\n  configuration:\n    allowedPrefixes: []\n' \
  >"$T/empty.yaml"
start_refused "... and so does an empty allowedPrefixes" \
  'ImagePolicy: allowedPrefixes is empty' --plugin-dir "$PDIR" \
  --admission-control-config-file "$T/empty.yaml"
printf 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: ImagePolicy\n  configuration:\n    allowedPrefix: [x/]\n' \
  >"$T/typo.yaml"
start_refused "... and a misspelt field" \
  'unknown field "allowedPrefix"' --plugin-dir "$PDIR" \
  --admission-control-config-file "$T/typo.yaml"

chmod g+w "$PDIR"
start_refused "a group-writable plugin directory is refused by the loader" \
  "plugin directory \"$PDIR\": group- or world-writable \\(mode\\): server allows at most 0755, found 0775" \
  --plugin-dir "$PDIR" --admission-control-config-file "$T/admission.yaml"
chmod g-w "$PDIR"

finish
