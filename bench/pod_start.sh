#!/usr/bin/env bash
# bench/pod_start.sh - pod startup latency on a hollow node: a fresh
# kapi-apiserver and a kapi-kubelet with one hollow node (fake runtime),
# then kapi-bench-pod-start at 2 and at 10 pods/s.  Prints the create ->
# Running (seen via watch) percentiles as `name value unit` lines:
#   pod_start_p50 3.0 ms
#   pod_start_p99 6.2 ms
# after a `# ... at R pods/s` line per rate.  Everything started is
# stopped, whatever happens.
#
# Environment:
#   KAPI_BUILD  build tree (default: <source root>/build)
#   COUNT2      pods at 2 pods/s (default 40)
#   COUNT10     pods at 10 pods/s (default 200)
#   FSYNC       the apiserver's --fsync (default false: this measures the
#               kubelet path, not the disk)
#   BY_RATE=1   name the lines after the rate (pod_start_2pps_p50,
#               pod_start_10pps_p99, ...), so both sets fit one table
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KAPI_BUILD:-$ROOT/build}
COUNT2=${COUNT2:-40}
COUNT10=${COUNT10:-200}
FSYNC=${FSYNC:-false}

APISERVER=$BUILD/kapi-apiserver
KUBELET=$BUILD/kapi-kubelet
BENCH=$BUILD/bench/kapi-bench-pod-start

die() { echo "bench/pod_start.sh: $*" >&2; exit 1; }
for b in "$APISERVER" "$KUBELET" "$BENCH"; do
  [ -x "$b" ] || die "$b not built (run make in $BUILD, or set KAPI_BUILD)"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/kapi-podstart.XXXXXX") || die "cannot mktemp"
chmod 755 "$T"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Plugins in directories only we can write, as the loader wants.
mkdir -p "$T/plugins" "$T/runtime" && chmod 755 "$T/plugins" "$T/runtime"
for f in "$BUILD"/authn/*/.libs/*.so "$BUILD"/authz/*/.libs/*.so \
         "$BUILD"/admission/*/.libs/*.so "$BUILD"/registry/*/.libs/*.so; do
  install -m 644 "$f" "$T/plugins/"
done
install -m 644 "$BUILD"/plugins/runtime/fake/.libs/*.so "$T/runtime/" ||
  die "the fake runtime plugin is not built"

"$APISERVER" --data-dir "$T/data" --insecure-port 0 --no-default-plugins \
  --plugin-dir "$T/plugins" --authorization-mode AlwaysAllow \
  --disable-admission-plugins ServiceAccount \
  --fsync "$FSYNC" 2>"$T/apiserver.log" &
PIDS+=($!)
SERVER=
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/apiserver.log" | tail -1)
  if [ -n "$port" ] && curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    SERVER=http://127.0.0.1:$port
    break
  fi
  sleep 0.05
done
[ -n "$SERVER" ] || { cat "$T/apiserver.log" >&2; die "apiserver did not start"; }

"$KUBELET" --master "$SERVER" --hollow-nodes 1 --hostname-override bench \
  --plugin-dir "$T/runtime" --root-dir "$T/kubelet" 2>"$T/kubelet.log" &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -fsS "$SERVER/api/v1/nodes/bench-0" 2>/dev/null | grep -q '"KubeletReady"' && break
  sleep 0.1
done
curl -fsS "$SERVER/api/v1/nodes/bench-0" 2>/dev/null | grep -q '"KubeletReady"' ||
  { cat "$T/kubelet.log" >&2; die "the hollow node did not become Ready"; }

# label RATE: the names' prefix at that rate.
label() {
  if [ "${BY_RATE:-0}" = 1 ]; then echo "pod_start_$1pps"; else echo pod_start; fi
}

rc=0
"$BENCH" --server "$SERVER" --node bench-0 --rate 2 --count "$COUNT2" \
  --label "$(label 2)" || rc=1
"$BENCH" --server "$SERVER" --node bench-0 --rate 10 --count "$COUNT10" \
  --label "$(label 10)" || rc=1
exit $rc
