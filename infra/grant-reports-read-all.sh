#!/usr/bin/env bash
# Grant the function app's managed identity the Microsoft Graph application permissions (app
# role assignments) that its configuration needs, and no others, with the Azure CLI (`az rest`
# only). The Azure portal cannot grant app roles to a managed identity.
#
#   Reports.Read.All   the beta report: --report-source auto or beta (the app's REPORT_SOURCE)
#   AuditLog.Read.All  v1.0 userRegistrationDetails: --report-source auto or v1 (it also reads
#                      every sign-in and audit log, so a beta-only deployment goes without it)
#   Policy.Read.All    --enforcement (the app's CHECK_ENFORCEMENT=true): Conditional Access
#                      policies and security defaults
#
# Usage:
#   infra/grant-reports-read-all.sh --principal-id <id> [--report-source auto|beta|v1]
#                                   [--enforcement] [--check]
#
# It looks up Microsoft Graph's service principal (app id 00000003-0000-0000-c000-000000000000)
# and the ids of its Application roles by name, and assigns each needed role the identity does
# not already have: running it twice is fine, and an identity that has some of them gets just
# the others. A role it has that the configuration does not need is never removed, but named,
# with the command that removes it.
#
# Exit status: 0 every needed role granted (now or already); 1 error; 2 bad arguments;
#              3 with --check only: a needed role is not granted (--check never changes anything).
#
# Who may run it: granting a Microsoft Graph app role needs the Entra role Privileged Role
# Administrator (or Global Administrator). --check only reads, which any member user may do
# unless the tenant restricts it.
# National clouds: set GRAPH_ENDPOINT first (e.g. https://graph.microsoft.us); the default is
# https://graph.microsoft.com.
set -euo pipefail

GRAPH_APP_ID=00000003-0000-0000-c000-000000000000 # Microsoft Graph, the same in every tenant
# Every role this app can use, and what for; which of them are needed comes from the options.
ROLES=(Reports.Read.All AuditLog.Read.All Policy.Read.All)
PURPOSES=("the beta report" "the v1.0 source, userRegistrationDetails"
  "CHECK_ENFORCEMENT, Conditional Access and security defaults")
GRAPH=${GRAPH_ENDPOINT:-https://graph.microsoft.com}
GRAPH=${GRAPH%/}
NOT_GRANTED=3
GUID='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

usage() {
  cat <<'EOF'
usage: infra/grant-reports-read-all.sh --principal-id <object id of the managed identity>
           [--report-source auto|beta|v1] [--enforcement] [--check]
  --report-source  the app's REPORT_SOURCE (default auto): beta needs Reports.Read.All,
                   v1 AuditLog.Read.All, auto both
  --enforcement    the app runs with CHECK_ENFORCEMENT=true: Policy.Read.All as well
  --check          only report what is missing: exit 0 when nothing is, 3 when something is
  GRAPH_ENDPOINT   Microsoft Graph's root for national clouds (default https://graph.microsoft.com)
EOF
}

fail() {
  echo "error: $*" >&2
  exit 1
}

principal=""
check=false
source=auto
enforcement=false
while [ $# -gt 0 ]; do
  case $1 in
    --principal-id)
      [ $# -ge 2 ] || { echo "--principal-id needs a value" >&2; usage >&2; exit 2; }
      principal=$2
      shift 2
      ;;
    --principal-id=*) principal=${1#*=}; shift ;;
    --report-source)
      [ $# -ge 2 ] || { echo "--report-source needs a value" >&2; usage >&2; exit 2; }
      source=$2
      shift 2
      ;;
    --report-source=*) source=${1#*=}; shift ;;
    --enforcement) enforcement=true; shift ;;
    --check) check=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

[ -n "$principal" ] || { echo "--principal-id is required" >&2; usage >&2; exit 2; }
case $source in
  auto | beta | v1) ;;
  *)
    echo "--report-source must be auto, beta or v1 (got '$source')" >&2
    usage >&2
    exit 2
    ;;
esac
# needed[i]: ROLES[i] is used by this configuration. `configuration` names it in messages.
needed=(false false false)
case $source in auto | beta) needed[0]=true ;; esac
case $source in auto | v1) needed[1]=true ;; esac
! $enforcement || needed[2]=true
configuration="--report-source $source"
! $enforcement || configuration+=" --enforcement"
# Checked before it goes into a URL: a GUID, nothing else (no '/', '?', '..').
[[ $principal =~ $GUID ]] ||
  fail "--principal-id must be the managed identity's object (principal) id, a GUID; got '$principal'"
case $GRAPH in
  https://*) ;;
  http://127.0.0.1:*) ;; # the tests' loopback stand-in, never a real Graph
  *) fail "GRAPH_ENDPOINT must be https:// (got $GRAPH)" ;;
esac
command -v az >/dev/null || fail "the Azure CLI (az) is not installed; Azure Cloud Shell has it"

# graph METHOD PATH [az rest options...]: call $GRAPH/v1.0/PATH with the signed-in account's
# token for Graph; on failure, show az's message and say what to do about it.
graph() {
  local method=$1 path=$2 errors status=0 code
  shift 2
  errors=$(mktemp)
  az rest --method "$method" --url "$GRAPH/v1.0/$path" --resource "$GRAPH" "$@" 2>"$errors" ||
    status=$?
  cat "$errors" >&2 # az's warnings on success, its ERROR line on failure
  if [ "$status" -eq 0 ]; then
    rm -f "$errors"
    return 0
  fi
  # az prints e.g. ERROR: Forbidden({"error":{"code":"Authorization_RequestDenied",...}})
  code=$(grep -o '"code" *: *"[^"]*"' "$errors" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/' || true)
  if [ "$code" = Authorization_RequestDenied ] || grep -q 'Forbidden(' "$errors"; then
    rm -f "$errors"
    fail "Graph denied $method $path: the signed-in account lacks the rights." \
      "Granting a Microsoft Graph app role needs the Entra role Privileged Role Administrator" \
      "(or Global Administrator); Cloud Application Administrator and Application Administrator" \
      "cannot grant Microsoft Graph's own app roles. Signed in as a service principal, it needs" \
      "the application permissions AppRoleAssignment.ReadWrite.All and Application.Read.All."
  fi
  if [ "$code" = Request_ResourceNotFound ] || grep -q 'Not Found(' "$errors"; then
    rm -f "$errors"
    case $path in
      servicePrincipals/"$principal"/*)
        fail "no service principal has object id $principal in this tenant. Pass the managed" \
          "identity's principal id (the deployment output principalId), not its client id." ;;
      *) fail "Graph answered 404 Not Found to $method $path; check GRAPH_ENDPOINT ($GRAPH)." ;;
    esac
  fi
  rm -f "$errors"
  fail "az rest $method $GRAPH/v1.0/$path failed${code:+ ($code)}; see az's message above" \
    "(not signed in? run az login)."
}

# 1. Graph's service principal in this tenant, and the ids of its Application roles: one
# request, one line each. `|| ''` because az's tsv prints a null inside a list as the word None.
filter="%24filter=appId%20eq%20%27$GRAPH_APP_ID%27&%24select=id,appRoles"
query="[value[0].id || ''"
for role in "${ROLES[@]}"; do
  query+=", (value[0].appRoles[?value=='$role' && contains(allowedMemberTypes, 'Application')].id \
| [0]) || ''"
done
found=$(graph GET "servicePrincipals?$filter" --output tsv --query "$query]")
lines=()
while IFS= read -r line; do lines+=("$line"); done <<<"$found"
graph_sp=${lines[0]:-}
[ -n "$graph_sp" ] ||
  fail "Microsoft Graph's service principal (appId $GRAPH_APP_ID) was not found in this tenant"
[[ $graph_sp =~ $GUID ]] || fail "unexpected answer from Graph: service principal '$graph_sp'"
role_ids=()
for i in "${!ROLES[@]}"; do
  role_id=${lines[i + 1]:-}
  if [ -z "$role_id" ]; then
    ! ${needed[i]} || fail "Microsoft Graph has no application role named ${ROLES[i]}"
    role_id=absent # not needed here, and matching no assignment
  elif ! [[ $role_id =~ $GUID ]]; then
    fail "unexpected answer from Graph: role id '$role_id' for ${ROLES[i]}"
  fi
  role_ids+=("$role_id")
done

# 2. Which are assigned already (the assignment's id, or '')? Follow @odata.nextLink pages until
# every role is found or the pages end, but only within $GRAPH (the token must not go anywhere
# else). Roles not needed are looked for too, to be named if present.
assignments="servicePrincipals/$principal/appRoleAssignments"
query="["
for role_id in "${role_ids[@]}"; do
  query+="(value[?appRoleId=='$role_id' && resourceId=='$graph_sp'].id | [0]) || '', "
done
query+="\"@odata.nextLink\" || '']"
granted=() # the assignment's id, or '' while not found
for i in "${!ROLES[@]}"; do granted+=(""); done
page=$assignments
pages=0
while :; do
  pages=$((pages + 1))
  [ "$pages" -le 100 ] || fail "more than 100 pages of app role assignments; giving up"
  answer=$(graph GET "$page" --output tsv --query "$query")
  lines=()
  while IFS= read -r line; do lines+=("$line"); done <<<"$answer"
  unfound=0
  for i in "${!ROLES[@]}"; do
    found=${lines[i]:-}
    # An assignment's id is not a GUID but base64url (it goes into a DELETE URL if not needed).
    [ -z "$found" ] || [[ $found =~ ^[A-Za-z0-9_-]+$ ]] ||
      fail "unexpected answer from Graph for $page: '$answer'"
    [ -n "${granted[i]}" ] || granted[i]=$found
    [ -n "${granted[i]}" ] || [ "${role_ids[i]}" = absent ] || unfound=$((unfound + 1))
  done
  next_link=${lines[${#ROLES[@]}]:-}
  if [ "$unfound" = 0 ] || [ -z "$next_link" ]; then
    break
  fi
  case $next_link in
    "$GRAPH/v1.0/"*) page=${next_link#"$GRAPH/v1.0/"} ;;
    *) fail "Graph's next page is not under $GRAPH/v1.0/; refusing to follow it: $next_link" ;;
  esac
done

to_grant=()
missing=()
for i in "${!ROLES[@]}"; do
  role=${ROLES[i]}
  if ! ${needed[i]}; then
    [ -z "${granted[i]}" ] || echo "$role is granted to $principal, but $configuration does" \
      "not need it (${PURPOSES[i]}). Nothing here removes a grant; if nothing else uses it:" \
      "az rest --method DELETE --url $GRAPH/v1.0/$assignments/${granted[i]}"
  elif [ -n "${granted[i]}" ]; then
    if $check; then
      echo "$role is granted to $principal."
    else
      echo "$role is already granted to $principal; nothing changed."
    fi
  elif $check; then
    echo "$role is NOT granted to $principal (${PURPOSES[i]})."
    missing+=("$role")
  else
    to_grant+=("$i")
  fi
done
if $check; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Missing for $configuration: ${missing[*]}. Run this script without --check," \
      "with the same options, to grant it."
    exit $NOT_GRANTED
  fi
  echo "Nothing is missing for $configuration."
  exit 0
fi

# 3. Grant what is missing. A duplicate answer means it was granted meanwhile (or a replica had
# not yet shown it): that is success too.
# (${a[@]+"${a[@]}"}: an empty array under `set -u` in bash before 4.4.)
for i in ${to_grant[@]+"${to_grant[@]}"}; do
  role=${ROLES[i]}
  body="{\"principalId\": \"$principal\", \"resourceId\": \"$graph_sp\", "
  body+="\"appRoleId\": \"${role_ids[i]}\"}"
  errors=$(mktemp)
  if ! (graph POST "$assignments" --output none --headers Content-Type=application/json \
    --body "$body") 2>"$errors"; then
    if grep -q 'Permission being assigned already exists' "$errors"; then
      rm -f "$errors"
      echo "$role is already granted to $principal; nothing changed."
      continue
    fi
    cat "$errors" >&2
    rm -f "$errors"
    exit 1
  fi
  cat "$errors" >&2
  rm -f "$errors"
  echo "$role granted to $principal. New tokens carry it within minutes (cached ones: up to 24 h)."
done
