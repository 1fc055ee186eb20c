"""A few admins without MFA, asked of Graph for the card about to name them (ALERT_NAME_ADMINS).

Names are never at rest: the pass counts admins without MFA but keeps no names (the tally, its
checkpoints and the snapshot message carry counters only). Only when a check is about to post a
card that names them (`adminsWithoutMfa` above its maximum, firing or reminding) does it ask:

    GET {GRAPH_ENDPOINT}/v1.0/reports/authenticationMethods/userRegistrationDetails
        ?$filter=isAdmin eq true and isMfaRegistered eq false
        &$select=id,userPrincipalName,userType,isAdmin,isMfaRegistered&$top=999

Microsoft's "List userRegistrationDetails" page
(https://learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails)
documents `$filter` with `eq` on isMfaCapable, isMfaRegistered, isSsprEnabled, isSsprRegistered,
methodsRegistered, userDisplayName and userPrincipalName; it does not list isAdmin, nor `$select`
or `$top`. The isAdmin filter is tried first (it makes the answer one small page); should Graph
refuse the query (400 with an unsupported-query code), the lookup falls back to the documented
form, `$filter=isMfaRegistered eq false` and nothing else, whole records in Graph's own page
size, picking the admins here from at most MAX_PAGES pages.

Whatever the filter, every record is judged here too: `isAdmin` true, `isMfaRegistered` false,
and counted by the pass's own scope (INCLUDE_GUESTS, EXCLUDE_USERS: `Scope.counts`), so a filter
Graph ignored, or an excluded break-glass account, is never named.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from shared.errors import GraphError, ReportFormatError
from shared.sources.graph_client import error_body, graph_error
from shared.sources.links import shown
from shared.sources.v1.pages import parse_page, query_refused
from shared.sources.v1.tally import Scope

log = logging.getLogger(__name__)

ADMINS_FILTER = "isAdmin eq true and isMfaRegistered eq false"
DOCUMENTED_FILTER = "isMfaRegistered eq false"  # documented; the admins are picked here
FIELDS = ("id", "userPrincipalName", "userType", "isAdmin", "isMfaRegistered")
PAGE_SIZE = 999
# With the documented filter every user without MFA comes back: a few pages are enough to
# name a handful of admins, and a lookup must not page a whole tenant before a card goes out.
MAX_PAGES = 5

# GET a URL with the app's token: the answer and how many attempts it took (`after 2 attempts`).
Get = Callable[[str], tuple[httpx.Response, str]]


def list_admins_without_mfa(
    url: str,
    scope: Scope,
    limit: int,
    *,
    get: Get,
    is_own: Callable[[str], bool],
    permission: str,
) -> tuple[str, ...]:
    """Up to `limit` admins without MFA in `scope`, by UPN (the object id if it has none), from
    the report at `url`; raise GraphError or ReportFormatError."""
    query = f"$select={','.join(FIELDS)}&$top={PAGE_SIZE}"
    response, tries = get(f"{url}?$filter={quote(ADMINS_FILTER, safe='')}&{query}")
    if query_refused(response):
        log.warning(
            "userRegistrationDetails refused the admins query (HTTP 400 %s, request-id %s); "
            "asking with the documented $filter=isMfaRegistered eq false instead",
            error_body(response)[0],
            response.headers.get("request-id"),
        )
        response, tries = get(f"{url}?$filter={quote(DOCUMENTED_FILTER, safe='')}")
    names: list[str] = []
    page = 1
    while True:
        if response.status_code != 200:
            raise graph_error(
                response,
                tries,
                permission=permission,
                request=f"page {page} of the admins without MFA (userRegistrationDetails)",
            )
        records, next_link = parse_page(response.content, page)
        names.extend(_admins_in(records, scope, page))
        if len(names) >= limit or next_link is None or page >= MAX_PAGES:
            break
        if not is_own(next_link):
            raise GraphError(
                f"Graph's @odata.nextLink on page {page} of the admins without MFA points away "
                f"from GRAPH_ENDPOINT ({shown(next_link)}); it is not followed",
                request_id=response.headers.get("request-id"),
            )
        page += 1
        response, tries = get(next_link)
    log.info("userRegistrationDetails: listed %d admins without MFA for the card", len(names))
    return tuple(names[:limit])


def _admins_in(records: list[Any], scope: Scope, page: int) -> list[str]:
    named = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ReportFormatError(f"value[{index}]", f"expected an object (page {page})")
        if record.get("isAdmin") is not True or record.get("isMfaRegistered") is not False:
            continue
        user_id, upn = record.get("id"), record.get("userPrincipalName")
        if not isinstance(user_id, str) or not user_id:
            raise ReportFormatError(f"value[{index}].id", f"expected a string (page {page})")
        upn = upn if isinstance(upn, str) and upn else None
        user_type = record.get("userType")
        if scope.counts(user_id, upn, user_type if isinstance(user_type, str) else None):
            named.append(upn or user_id)
    return named
