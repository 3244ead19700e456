#!/usr/bin/env bash
# Durability: kill -9 the apiserver during a loop of creates; after a
# restart on the same data, every create that got a 201 is there.
. "$(dirname "$0")/lib.sh"

start_server || exit 1

# Several concurrent writers, so that commits are grouped.
writer() {
  local w=$1 i code
  for i in $(seq 1 2000); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
      -H 'Content-Type: application/json' \
      --data "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"w$w-$i\"}}" \
      "$SERVER/api/v1/namespaces") || break
    [ "$code" = 201 ] && echo "w$w-$i" >>"$T/acked.$w"
    [ "$code" = 000 ] && break
  done
}
for w in 1 2 3 4; do writer "$w" & done
sleep 1.5
kill9_server
wait 2>/dev/null

cat "$T"/acked.* >"$T/acked" 2>/dev/null
acked=$(wc -l <"$T/acked")
check "some creates were acknowledged before the kill ($acked)" test "$acked" -gt 0

start_server || exit 1
curl -fsS "$SERVER/api/v1/namespaces" >"$T/list.json"
missing=0
while read -r name; do
  grep -q "\"name\":\"$name\"" "$T/list.json" || { missing=$((missing + 1)); echo "lost: $name"; }
done <"$T/acked"
check "no acknowledged create was lost ($acked acknowledged)" test "$missing" -eq 0
finish
