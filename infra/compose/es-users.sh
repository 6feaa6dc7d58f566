#!/bin/sh
# Least-privilege access: the pipeline writes only its own indices; Kibana uses kibana_system.
set -eu
ES=https://elasticsearch:9200
c() { curl -sf --cacert /certs/ca/ca.crt -u "elastic:${ELASTIC_PASSWORD}" -H 'Content-Type: application/json' "$@"; }
c -X POST "$ES/_security/user/kibana_system/_password" -d "{\"password\":\"${KIBANA_SYSTEM_PASSWORD}\"}"
c -X PUT "$ES/_security/role/sada_writer" -d '{
  "cluster": ["monitor", "manage_index_templates"],
  "indices": [{"names": ["mentions*", "sada-*", "clusters*", "alerts*", "digests*"],
               "privileges": ["create_index", "index", "read", "view_index_metadata", "manage"]}]}'
c -X PUT "$ES/_security/role/sada_analyst" -d '{
  "indices": [{"names": ["mentions*", "clusters*", "alerts*", "digests*"], "privileges": ["read", "view_index_metadata"]}]}'
c -X PUT "$ES/_security/user/sada_writer" -d "{\"password\":\"${SADA_ES_WRITER_PASSWORD}\",\"roles\":[\"sada_writer\"]}"
echo "roles and users ready"
