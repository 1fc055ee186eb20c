#!/usr/bin/env bash
# Grant Microsoft Graph's Reports.Read.All application permission to the app's managed identity,
# with the Azure CLI (`az rest`). The Azure portal cannot grant app roles to a managed identity.
#
#   infra/grant-reports-read-all.sh --principal-id <object id of the identity>           # grant
#   infra/grant-reports-read-all.sh --principal-id <object id of the identity> --check   # look
#
# Idempotent: when the grant is already in place it says so and changes nothing.
# --check changes nothing; exit 0 when granted, 3 when not.
# The signed-in account needs Privileged Role Administrator (or Global Administrator) to grant
# a Microsoft Graph app role; reading (--check) needs Directory Readers or more.
# National clouds: set GRAPH_ENDPOINT first (e.g. https://graph.microsoft.us).
set -euo pipefail

GRAPH_APP_ID=00000003-0000-0000-c000-000000000000 # Microsoft Graph, in every tenant
ROLE=Reports.Read.All
GRAPH=${GRAPH_ENDPOINT:-https://graph.microsoft.com}
GRAPH=${GRAPH%/}
NOT_GRANTED=3

usage() {
  sed -n '5,6s/^#  */  /p' "$0"
}

fail() {
  echo "error: $*" >&2
  exit 1
}

principal=""
check=false
while [ $# -gt 0 ]; do
  case $1 in
    --principal-id) principal=${2:-}; shift 2 || shift ;;
    --principal-id=*) principal=${1#*=}; shift ;;
    --check) check=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

[ -n "$principal" ] || { echo "--principal-id is required" >&2; usage >&2; exit 2; }
guid='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
[[ $principal =~ $guid ]] ||
  fail "--principal-id must be the identity's object (principal) id, a GUID; got '$principal'"
case $GRAPH in
  https://* | http://127.0.0.1:* | http://localhost:* | http://\[::1\]:*) ;;
  *) fail "GRAPH_ENDPOINT must be https:// (got $GRAPH)" ;;
esac
command -v az >/dev/null || fail "the Azure CLI (az) is not installed; Azure Cloud Shell has it"

# graph METHOD PATH [az rest options...]: call Graph v1.0 with the signed-in account's token,
# and turn Graph's error code (never its message) into what to do about it.
graph() {
  local method=$1 path=$2 errors code
  shift 2
  errors=$(mktemp)
  if az rest --method "$method" --url "$GRAPH/v1.0/$path" --resource "$GRAPH" "$@" 2>"$errors"; then
    rm -f "$errors"
    return 0
  fi
  code=$(grep -o '"code" *: *"[^"]*"' "$errors" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/' || true)
  cat "$errors" >&2
  rm -f "$errors"
  case $code in
    Authorization_RequestDenied)
      fail "the signed-in account may not do this. Granting a Microsoft Graph app role needs" \
        "Privileged Role Administrator (or Global Administrator); az's token needs" \
        "AppRoleAssignment.ReadWrite.All and Application.Read.All." ;;
    Request_ResourceNotFound)
      fail "no service principal has object id $principal. Pass the managed identity's" \
        "principal id (the deployment output principalId), not its client id." ;;
    *) fail "Graph refused $method $path${code:+ ($code)}; see az's message above." ;;
  esac
}

# Graph's own service principal in this tenant, and its application role named $ROLE: one
# request, two lines of output (an absent value prints as an empty line).
filter="%24filter=appId%20eq%20%27$GRAPH_APP_ID%27&%24select=id,appRoles"
found=$(graph GET "servicePrincipals?$filter" --output tsv --query "[value[0].id, \
value[0].appRoles[?value=='$ROLE' && contains(allowedMemberTypes, 'Application')].id | [0]]")
{ read -r graph_sp || true; read -r role_id || true; } <<<"$found"
[ -n "$graph_sp" ] || fail "Microsoft Graph's service principal ($GRAPH_APP_ID) was not found"
[ -n "$role_id" ] || fail "Microsoft Graph has no application role named $ROLE"

existing=$(graph GET "servicePrincipals/$principal/appRoleAssignments" --output tsv --query \
  "value[?appRoleId=='$role_id' && resourceId=='$graph_sp'].id | [0]")

if [ -n "$existing" ]; then
  echo "$ROLE is granted to $principal (already in place; nothing changed)."
  exit 0
fi
if $check; then
  echo "$ROLE is NOT granted to $principal. Run this script without --check to grant it."
  exit $NOT_GRANTED
fi

graph POST "servicePrincipals/$principal/appRoleAssignments" --output none \
  --headers Content-Type=application/json \
  --body "{\"principalId\": \"$principal\", \"resourceId\": \"$graph_sp\", \"appRoleId\": \"$role_id\"}"
echo "$ROLE granted to $principal. New tokens carry it within minutes (cached ones: up to 24 h)."
