#!/usr/bin/env bash
# Call the shic control API with curl (and jq to read JSON).
#
# Start a daemon first, e.g. `shic tiny-model examples/models/tiny-llama.gguf && shic up examples/shic.yaml`, then:
#
#   SHIC_STATE_DIR=examples/.shic-state bash examples/control-api.sh tiny-llama
#
# Ensures an endpoint of a deployment (starting it if needed), sends one chat completion, renews and releases
# the lease. Exits non-zero on any error (curl --fail-with-body prints the API's { error: { code, message } }).
set -euo pipefail

deployment="${1:-tiny-llama}"
state_dir="${SHIC_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/shic}"
command -v jq >/dev/null || { echo "control-api.sh needs jq (apt install jq / brew install jq)" >&2; exit 1; }

control="$(jq -r .url "$state_dir/control.json")"
token="$(cat "$state_dir/control.token")"
# Every route except GET /healthz needs the bearer token.
api() { curl --silent --show-error --fail-with-body -H "authorization: Bearer $token" "$@"; }

echo "daemon $(curl --silent --fail "$control/healthz" | jq -r .status)"
echo "deployments $(api "$control/v1/deployments" | jq -r '[.deployments[].name] | join(", ")')"

ensured="$(api -X POST "$control/v1/endpoints/ensure" -H 'content-type: application/json' \
  -d "{\"deployment\":\"$deployment\",\"ownerRef\":\"curl-example\",\"ttlMs\":60000}")"
base_url="$(jq -r .endpoint.baseUrl <<<"$ensured")"
model="$(jq -r .endpoint.modelIdentity <<<"$ensured")"
lease_ref="$(jq -r .lease.leaseRef <<<"$ensured")"
instance_id="$(jq -r .endpoint.healthRef <<<"$ensured")"
echo "endpoint $base_url model $model"
echo "lease $lease_ref"
trap 'api -X DELETE "$control/v1/leases/$lease_ref" >/dev/null || true' EXIT

# The endpoint's own headers (e.g. a generated llama-server API key), as curl -H arguments.
endpoint_headers=()
while IFS= read -r header; do endpoint_headers+=(-H "$header"); done \
  < <(jq -r '.endpoint.headers | to_entries[] | "\(.key): \(.value)"' <<<"$ensured")

body="$(jq -n --arg model "$model" '{model: $model, max_tokens: 8,
  messages: [{role: "user", content: "Say hello."}]}')"
finish="$(curl --silent --show-error --fail-with-body "${endpoint_headers[@]}" -H 'content-type: application/json' \
  -d "$body" "$base_url/chat/completions" | jq -r '.choices[0].finish_reason')"
echo "completion finish_reason $finish"

echo "renewed ttlMs $(api -X POST "$control/v1/leases/$lease_ref/renew" -H 'content-type: application/json' \
  -d '{"ttlMs":120000}' | jq -r .lease.ttlMs)"
echo "instance $(api "$control/v1/instances/$instance_id" | jq -r '.instance | "\(.instanceId) \(.state) leases \(.leaseCount)"')"
echo "released $(api -X DELETE "$control/v1/leases/$lease_ref" | jq -r .released)"
trap - EXIT

# Renewing a released lease is a 404 with code lease_not_found.
status="$(curl --silent -o /dev/null -w '%{http_code}' -X POST -H "authorization: Bearer $token" \
  -H 'content-type: application/json' -d '{}' "$control/v1/leases/$lease_ref/renew")"
echo "renew after release: HTTP $status"
