#!/usr/bin/env bash
# The review APIs behind `kubectl auth whoami` and `kubectl auth can-i`:
# SelfSubjectReview, (Self)SubjectAccessReview and SelfSubjectRulesReview,
# sent by kubectl as protobuf, answered from the authenticated user and
# the authorizer chain.
. "$(dirname "$0")/lib.sh"

start_server || exit 1

expect_output "auth whoami prints the anonymous user" \
  'Username +system:anonymous' k auth whoami
expect_output "auth whoami prints its group" \
  'system:unauthenticated' k auth whoami
expect_output "auth can-i create pods: yes (AlwaysAllow)" '^yes' \
  k auth can-i create pods
check "auth can-i create pods exits 0" k auth can-i create pods
expect_output "auth can-i get /healthz (non-resource): yes" '^yes' \
  k auth can-i get /healthz
expect_output "auth can-i --list prints the * resource rule" \
  '^\*\.\* +\[\] +\[\] +\[\*\]' k auth can-i --list
expect_output "auth can-i --list prints the * non-resource rule" \
  '^ +\[\*\] +\[\] +\[\*\]' k auth can-i --list

req POST /apis/authorization.k8s.io/v1/subjectaccessreviews \
  '{"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","spec":{"user":"alice","groups":["dev"],"resourceAttributes":{"namespace":"ns","verb":"get","resource":"pods","name":"p"}}}'
jcheck "subjectaccessreview: 201, spec echoed, allowed" \
  'code == 201 and b["kind"] == "SubjectAccessReview" and b["spec"]["user"] == "alice" and b["spec"]["resourceAttributes"]["name"] == "p" and b["status"]["allowed"] is True'
req POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews \
  '{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","spec":{}}'
jcheck "selfsubjectaccessreview without attributes: 422" 'code == 422'
req GET /apis/authorization.k8s.io/v1/selfsubjectaccessreviews
jcheck "reviews are create-only: 405" 'code == 405'
req POST /apis/authentication.k8s.io/v1/selfsubjectreviews \
  '{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1"}'
jcheck "selfsubjectreview (JSON): 201 with userInfo" \
  'code == 201 and b["status"]["userInfo"]["username"] == "system:anonymous" and b["metadata"] == {"creationTimestamp": None}'

finish
