#!/usr/bin/env bash
# --authorization-mode RBAC with upstream's bootstrap policy (registry
# rbac plugin) and static token users, over HTTPS (kubectl sends bearer
# tokens only over TLS): what a RoleBinding to "view" grants, 403s with
# upstream's messages, system:masters, kubectl auth can-i (and --list),
# escalation prevention for bindings and roles (holding a role's rules,
# or the "bind" / "escalate" verbs), and impersonation, which the core
# authorizes as the "impersonate" verb.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || { echo "skipped: no openssl"; exit 77; }

# Both plugins are needed: the authorizer and the objects it reads.
: "${PLUGINS:=$(make_plugin_dir)}"
"$KAPI_BUILDDIR/kapi-apiserver" --no-default-plugins --plugin-dir "$PLUGINS" \
  --list-plugins >"$T/plugins.txt" 2>&1
for want in '^authz +RBAC ' '^admission +RBACEscalation ' \
            '^resource +rolebindings\.rbac\.authorization\.k8s\.io '; do
  grep -Eq "$want" "$T/plugins.txt" ||
    { echo "skipped: no /$want/ among the plugins"; exit 77; }
done

P=$T/pki
mkdir -p "$P"
ossl() { openssl "$@" >>"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; exit 1; }; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" \
  -days 2 -subj "/CN=rbac-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$P/server.ext"
ossl req -newkey rsa:2048 -nodes -keyout "$P/server.key" -out "$P/server.csr" \
  -subj /CN=kapi-apiserver
ossl x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" \
  -CAcreateserial -days 1 -out "$P/server.crt" -extfile "$P/server.ext"

cat >"$T/tokens.csv" <<'CSV'
admin-token,admin,uid-admin,"system:masters"
viewer-token,viewer,uid-viewer
nobody-token,nobody,uid-nobody
editor-token,editor,uid-editor
binder-token,binder,uid-binder
CSV

start_tls_server --authorization-mode RBAC --tls-cert-file "$P/server.crt" \
  --tls-private-key-file "$P/server.key" --token-auth-file "$T/tokens.csv" || exit 1

cat >"$T/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: t
  cluster:
    server: "$SERVER"
    certificate-authority-data: $(base64 -w0 <"$P/ca.crt")
users:
- {name: admin, user: {token: admin-token}}
- {name: viewer, user: {token: viewer-token}}
- {name: nobody, user: {token: nobody-token}}
- {name: editor, user: {token: editor-token}}
- {name: binder, user: {token: binder-token}}
contexts:
- {name: admin, context: {cluster: t, user: admin}}
- {name: viewer, context: {cluster: t, user: viewer}}
- {name: nobody, context: {cluster: t, user: nobody}}
- {name: editor, context: {cluster: t, user: editor}}
- {name: binder, context: {cluster: t, user: binder}}
current-context: admin
KC
export KUBECONFIG=$T/kubeconfig
as() { local u=$1; shift; k --context "$u" "$@"; }

# ---- system:masters, and the policy the others get --------------------------
check "admin (system:masters) creates a namespace" as admin create namespace team
check "admin creates a pod" as admin -n team run web --image=nginx --restart=Never
check "admin lists nodes" as admin get nodes
check "admin binds view to viewer in team" \
  as admin -n team create rolebinding viewer-view --clusterrole=view --user=viewer
check "admin binds edit to editor in team" \
  as admin -n team create rolebinding editor-edit --clusterrole=edit --user=editor
# edit holds no RBAC writes: editor and binder get "create" on the RBAC
# kinds everywhere, so that what stops them below is escalation
# prevention, not authorization.
check "admin creates a ClusterRole that may create RBAC objects" \
  as admin create clusterrole rbac-writer --verb=create \
  --resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,clusterrolebindings.rbac.authorization.k8s.io
check "... bound to editor and binder cluster-wide" \
  as admin create clusterrolebinding rbac-writers --clusterrole=rbac-writer \
  --user=editor --user=binder
check "admin creates a ClusterRole allowed to bind admin" \
  as admin create clusterrole admin-binder --verb=bind \
  --resource=clusterroles.rbac.authorization.k8s.io --resource-name=admin
check "admin binds it to binder in team" \
  as admin -n team create rolebinding binder-binds --clusterrole=admin-binder --user=binder

# ---- a RoleBinding to the (aggregated) view ClusterRole --------------------
expect_output "viewer lists pods in team" "web" as viewer -n team get pods
expect_output "viewer gets a pod in team" "web" as viewer -n team get pod web
expect_fail "viewer cannot create a pod (upstream's 403)" \
  'Error from server \(Forbidden\): pods is forbidden: User "viewer" cannot create resource "pods" in API group "" in the namespace "team"' \
  as viewer -n team run other --image=nginx --restart=Never
expect_fail "viewer cannot create a configmap" \
  'configmaps is forbidden: User "viewer" cannot create resource "configmaps" in API group "" in the namespace "team"' \
  as viewer -n team create configmap c --from-literal=a=b
expect_fail "viewer cannot read secrets (view leaves them out)" \
  'secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" in the namespace "team"' \
  as viewer -n team get secrets
expect_fail "the RoleBinding does not reach other namespaces" \
  'pods is forbidden: User "viewer" cannot list resource "pods" in API group "" in the namespace "default"' \
  as viewer -n default get pods
expect_fail "nor cluster-scoped resources" \
  'nodes is forbidden: User "viewer" cannot list resource "nodes" in API group "" at the cluster scope' \
  as viewer get nodes
expect_fail "a user without bindings gets 403" \
  'pods is forbidden: User "nobody" cannot list resource "pods" in API group "" in the namespace "team"' \
  as nobody -n team get pods
expect_output "every authenticated user may discover (system:discovery)" \
  "namespaces" as nobody api-resources

# A SubjectAccessReview tells which binding allowed (upstream's reason).
curl -sS --cacert "$P/ca.crt" -H "Authorization: Bearer admin-token" \
  -H "Content-Type: application/json" -o "$T/body" \
  "$SERVER/apis/authorization.k8s.io/v1/subjectaccessreviews" \
  -d '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"viewer","groups":["system:authenticated"],"resourceAttributes":{"namespace":"team","verb":"list","resource":"pods"}}}'
jcheck "SubjectAccessReview: allowed, by viewer-view" \
  'b["status"]["allowed"] is True and b["status"]["reason"] == "RBAC: allowed by RoleBinding \"viewer-view/team\" of ClusterRole \"view\" to User \"viewer\""'

# ---- kubectl auth can-i ------------------------------------------------------
expect_output "can-i list pods -n team: yes" '^yes' as viewer auth can-i list pods -n team
expect_fail "can-i create pods -n team: no" '^no' as viewer auth can-i create pods -n team
expect_fail "can-i list pods -n default: no" '^no' as viewer auth can-i list pods -n default
expect_output "can-i create deployments for editor: yes" '^yes' \
  as editor auth can-i create deployments.apps -n team
expect_output "can-i '*' '*' for admin: yes" '^yes' as admin auth can-i '*' '*'
expect_output "can-i --list shows view's pods rule" \
  '^pods +\[\] +\[\] +\[get list watch\]' as viewer auth can-i --list -n team
expect_output "can-i --list shows system:discovery's URLs" \
  '^ +\[/api/\*\] +\[\] +\[get\]' as viewer auth can-i --list -n team
"$KUBECTL" --cache-dir "$T/kcache" --context viewer auth can-i --list -n default \
  >"$T/list-default" 2>&1
if grep -Eq '^pods ' "$T/list-default"; then
  not_ok "can-i --list -n default has no pods rule"; sed 's/^/    /' "$T/list-default"
else ok "can-i --list -n default has no pods rule"; fi

# ---- escalation prevention: bindings ------------------------------------
expect_fail "editor cannot bind cluster-admin (not held)" \
  'rolebindings.rbac.authorization.k8s.io "to-admin" is forbidden: user "editor" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:' \
  as editor -n team create rolebinding to-admin --clusterrole=cluster-admin --user=eve
expect_output "... and names every missing rule" '^\{NonResourceURLs:\["\*"\], Verbs:\["\*"\]\}$' \
  as editor -n team create rolebinding to-admin --clusterrole=cluster-admin --user=eve
expect_output "... compacted as upstream does" '^\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}$' \
  as editor -n team create rolebinding to-admin --clusterrole=cluster-admin --user=eve
expect_fail "editor cannot bind admin (it grants more than edit)" \
  'rolebindings.rbac.authorization.k8s.io "to-admin2" is forbidden: user "editor" .* not currently held' \
  as editor -n team create rolebinding to-admin2 --clusterrole=admin --user=eve
check "editor may bind edit, which he holds, in team" \
  as editor -n team create rolebinding pass-edit --clusterrole=edit --user=eve
expect_fail "... but not in another namespace" \
  'rolebindings.rbac.authorization.k8s.io "pass-edit" is forbidden: user "editor"' \
  as admin -n default --as=editor create rolebinding pass-edit --clusterrole=edit --user=eve
expect_fail "nor cluster-wide" \
  'clusterrolebindings.rbac.authorization.k8s.io "pass-edit" is forbidden: user "editor"' \
  as admin --as=editor create clusterrolebinding pass-edit --clusterrole=edit --user=eve
check "binder may bind admin: the bind verb on it" \
  as binder -n team create rolebinding bound-admin --clusterrole=admin --user=eve
expect_fail "binder may not bind edit (neither held nor bindable)" \
  'rolebindings.rbac.authorization.k8s.io "bound-edit" is forbidden: user "binder"' \
  as binder -n team create rolebinding bound-edit --clusterrole=edit --user=eve
expect_fail "a binding to a missing role: 404" \
  'clusterroles.rbac.authorization.k8s.io "no-such-role" not found' \
  as editor -n team create rolebinding dangling --clusterrole=no-such-role --user=eve
check "system:masters may bind anything" \
  as admin create clusterrolebinding eve-admin --clusterrole=cluster-admin --user=eve

# ---- escalation prevention: roles --------------------------------------------
check "editor may create a Role within edit's rules" \
  as editor -n team create role pod-reader --verb=get --verb=list --resource=pods
expect_fail "editor may not create a Role beyond them (upstream's message)" \
  'roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "editor" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:$' \
  as admin --as=editor -n team create role node-reader --verb=get --resource=nodes
grep -qz 'held:.{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]}' "$T/out" &&
  ok "the missing rule follows on its own line" ||
  { not_ok "the missing rule follows on its own line"; sed 's/^/    /' "$T/out"; }
check "admin grants editor escalate on roles in team" \
  as admin -n team create role escalator --verb=escalate \
  --resource=roles.rbac.authorization.k8s.io
check "... bound to editor" \
  as admin -n team create rolebinding editor-escalates --role=escalator --user=editor
check "with escalate, editor may create the Role" \
  as editor -n team create role node-reader --verb=get --resource=nodes

# ---- impersonation --------------------------------------------------------------
expect_output "admin impersonates viewer" "web" as admin --as=viewer -n team get pods
expect_fail "impersonated viewer is still refused writes" \
  'pods is forbidden: User "viewer" cannot create resource "pods"' \
  as admin --as=viewer -n team run x --image=nginx --restart=Never
check "admin impersonates bob in system:masters" \
  as admin --as=bob --as-group=system:masters get nodes
expect_output "whoami under impersonation" 'bob' \
  as admin --as=bob --as-group=system:masters auth whoami
expect_fail "viewer may not impersonate (no impersonate verb)" \
  'users "admin" is forbidden: User "viewer" cannot impersonate resource "users" in API group "" at the cluster scope' \
  as viewer --as=admin get pods
check "admin grants viewer impersonate on user bob" \
  as admin create clusterrole impersonate-bob --verb=impersonate --resource=users --resource-name=bob
check "... bound to viewer" \
  as admin create clusterrolebinding viewer-impersonates --clusterrole=impersonate-bob --user=viewer
expect_fail "viewer impersonates bob, who holds nothing" \
  'pods is forbidden: User "bob" cannot list resource "pods"' \
  as viewer --as=bob -n team get pods
expect_fail "viewer still may not impersonate admin" \
  'users "admin" is forbidden: User "viewer" cannot impersonate resource "users"' \
  as viewer --as=admin get pods

# ---- the authorizer follows changes ---------------------------------------------
check "admin deletes viewer's binding" as admin -n team delete rolebinding viewer-view
expect_fail "viewer lost access at once" \
  'pods is forbidden: User "viewer" cannot list resource "pods"' \
  as viewer -n team get pods

finish
