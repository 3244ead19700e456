#!/usr/bin/env bash
# The official Python client (python3-kubernetes 22.x) against a fresh
# kapi-apiserver: it deserializes every response into typed models, so a
# missing or mistyped field in what we answer shows up here even where
# kubectl (which keeps unstructured JSON) would not notice.
. "$(dirname "$0")/lib.sh"

# The Debian package installs into the system interpreter, which may not
# be the first python3 on PATH (pyenv and friends).
PY=
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import kubernetes' 2>/dev/null; then
    PY=$p; break
  fi
done
[ -n "$PY" ] || { echo "skipped: python3 cannot import kubernetes"; exit 77; }

start_server || exit 1

"$PY" - "$KUBECONFIG" >"$T/py.out" 2>&1 <<'PY'
import json, sys, threading, time, traceback
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
NS = "default"

def check(name, fn):
    """Runs one check; any exception or a false result is a failure."""
    try:
        res = fn()
        if res is False:
            print("not ok - %s" % name)
        else:
            print("ok - %s" % name)
    except Exception:
        print("not ok - %s" % name)
        for line in traceback.format_exc().splitlines():
            print("    " + line)
    sys.stdout.flush()

def pod(name, labels):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(containers=[
            client.V1Container(name="c", image="busybox")]))

def list_namespaces():
    names = [n.metadata.name for n in v1.list_namespace().items]
    assert "default" in names, names
check("list namespaces", list_namespaces)

def create_pods():
    p = v1.create_namespaced_pod(NS, pod("web-1", {"app": "web"}))
    assert p.metadata.name == "web-1" and p.metadata.uid, p.metadata
    assert p.metadata.resource_version, p.metadata
    v1.create_namespaced_pod(NS, pod("web-2", {"app": "web"}))
    v1.create_namespaced_pod(NS, pod("db-1", {"app": "db"}))
check("create pods", create_pods)

def create_configmap():
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg"),
                            data={"k": "v"})
    got = v1.create_namespaced_config_map(NS, cm)
    assert got.data == {"k": "v"}, got.data
    assert v1.read_namespaced_config_map("cfg", NS).data["k"] == "v"
check("create and read a configmap", create_configmap)

def list_selector():
    names = sorted(p.metadata.name for p in
                   v1.list_namespaced_pod(NS, label_selector="app=web").items)
    assert names == ["web-1", "web-2"], names
    names = [p.metadata.name for p in
             v1.list_namespaced_pod(NS, label_selector="app!=web").items]
    assert names == ["db-1"], names
check("list pods with a label selector", list_selector)

# A dict body goes out as a strategic merge patch (the client swaps its
# default application/json-patch+json for it), a list as a JSON patch.
def patch_smp():
    p = v1.patch_namespaced_pod("web-1", NS,
                                {"metadata": {"labels": {"tier": "fe"}}})
    assert p.metadata.labels == {"app": "web", "tier": "fe"}, p.metadata.labels
check("patch labels (strategic merge, the client's default for a dict)",
      patch_smp)

def patch_json():
    p = v1.patch_namespaced_pod("web-1", NS, [
        {"op": "add", "path": "/metadata/labels/track", "value": "stable"}])
    assert p.metadata.labels.get("track") == "stable", p.metadata.labels
check("patch labels (JSON patch, a list body)", patch_json)

# 22.x has no _content_type argument; a default header wins over the
# one the generated method picks, so a second client sends merge patches.
def patch_merge():
    api = client.ApiClient()
    api.set_default_header("Content-Type", "application/merge-patch+json")
    p = client.CoreV1Api(api).patch_namespaced_pod(
        "web-1", NS, {"metadata": {"labels": {"tier": None}}})
    assert "tier" not in p.metadata.labels, p.metadata.labels
    assert p.metadata.labels.get("track") == "stable", p.metadata.labels
check("patch labels (merge patch, null deletes)", patch_merge)

def watch_changes():
    lst = v1.list_namespaced_pod(NS)
    rv = lst.metadata.resource_version
    assert rv, lst.metadata
    seen = []
    w = watch.Watch()
    def run():
        for ev in w.stream(v1.list_namespaced_pod, NS, resource_version=rv,
                           timeout_seconds=10):
            seen.append((ev["type"], ev["object"].metadata.name))
            if ev["type"] == "DELETED" and ev["object"].metadata.name == "w-1":
                w.stop()
    t = threading.Thread(target=run)
    t.start()
    # The changes come after the list, so the watch from its
    # resourceVersion replays them even if it connects late.
    v1.create_namespaced_pod(NS, pod("w-1", {"app": "w"}))
    v1.patch_namespaced_pod("w-1", NS, {"metadata": {"labels": {"x": "1"}}})
    v1.delete_namespaced_pod("w-1", NS, grace_period_seconds=0)
    t.join(15)
    assert not t.is_alive(), "watch did not end"
    mine = [e for e in seen if e[1] == "w-1"]
    assert mine == [("ADDED", "w-1"), ("MODIFIED", "w-1"),
                    ("DELETED", "w-1")], seen
    assert all(e[1] == "w-1" for e in seen), seen
check("watch from the list's resourceVersion: ADDED, MODIFIED, DELETED",
      watch_changes)

def delete_collection():
    v1.delete_collection_namespaced_pod(NS, label_selector="app=web",
                                        grace_period_seconds=0)
    deadline = time.time() + 5
    while True:
        names = sorted(p.metadata.name for p in
                       v1.list_namespaced_pod(NS).items)
        if names == ["db-1"] or time.time() > deadline:
            break
        time.sleep(0.1)
    assert names == ["db-1"], names
check("delete_collection with a label selector", delete_collection)

def read_missing():
    try:
        v1.read_namespaced_pod("web-1", NS)
    except ApiException as e:
        assert e.status == 404, e.status
        assert e.reason == "Not Found", e.reason
        st = json.loads(e.body)
        assert st["kind"] == "Status" and st["status"] == "Failure", st
        assert st["reason"] == "NotFound" and st["code"] == 404, st
        assert st["details"]["name"] == "web-1", st
        assert st["details"]["kind"] == "pods", st
        assert st["message"] == 'pods "web-1" not found', st
        return
    raise AssertionError("no ApiException")
check("read a deleted pod: ApiException 404 with a Status body", read_missing)
PY
rc=$?

while IFS= read -r line; do
  case $line in
    "ok - "*) ok "${line#ok - }" ;;
    "not ok - "*) not_ok "${line#not ok - }" ;;
    *) echo "$line" ;;
  esac
done <"$T/py.out"
# A crash before the first check, or one the script did not catch.
if [ "$rc" -ne 0 ]; then not_ok "python script exited $rc"; fi
[ $((PASSED + FAILED)) -ge 10 ] || not_ok "only $((PASSED + FAILED)) checks ran"

finish
