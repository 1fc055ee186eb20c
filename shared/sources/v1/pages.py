"""One page of `userRegistrationDetails` as Graph answers it (pure: no I/O).

Shared by the counting pass (`shared.sources.v1.source`) and the admins lookup
(`shared.sources.v1.admins`): the page's records, its `@odata.nextLink`, and whether a 400
means that Graph refused the query options.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from shared.errors import ReportFormatError
from shared.sources.graph_client import error_body

# What Graph answers for query options a resource does not support.
QUERY_REFUSED_CODES = frozenset({"Request_UnsupportedQuery", "BadRequest", "Request_BadRequest"})


def parse_page(body: bytes, page: int) -> tuple[list[Any], str | None]:
    """The page's records and its nextLink (None on the last page)."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ReportFormatError("body", f"page {page} is not JSON") from exc
    except RecursionError as exc:
        raise ReportFormatError("body", f"page {page} is nested too deeply") from exc
    if not isinstance(payload, dict):
        raise ReportFormatError("body", f"page {page} is not a JSON object")
    if "value" not in payload:
        raise ReportFormatError("value", f"missing on page {page}")
    records = payload["value"]
    if not isinstance(records, list):
        raise ReportFormatError("value", f"expected a list on page {page}")
    next_link = payload.get("@odata.nextLink")
    if next_link is not None and not (isinstance(next_link, str) and next_link):
        raise ReportFormatError("@odata.nextLink", f"expected a URL on page {page}")
    return records, next_link


def query_refused(response: httpx.Response) -> bool:
    """A 400 whose code says the query options are not supported here."""
    return response.status_code == 400 and error_body(response)[0] in QUERY_REFUSED_CODES
