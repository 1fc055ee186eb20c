"""`$count` on userRegistrationDetails: one request per metric instead of one per 999 users.

Graph does not document `$count` on this report. When every metric the checks need is a plain
`$filter` on a boolean (not phishingResistant, which needs `any()` over several method names),
with no exclusions and guests counted, the source probes
`.../userRegistrationDetails/$count?$filter=isMfaRegistered eq true` (ConsistencyLevel:
eventual) once per pass. Only if that and every other count come back as plain integers, and
the filters add up, are they used; anything else, and paging does the job. Paging is the main
path; the counts are a shortcut for very large tenants.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Mapping
from urllib.parse import quote

import httpx

from shared.core.report import Report
from shared.errors import GraphError
from shared.sources.v1.tally import METRICS

log = logging.getLogger(__name__)

# Metrics `$count` can give, as the `$filter` that selects their users (None: every user).
COUNT_FILTERS: Mapping[str, str | None] = {
    "total": None,
    "registered": "isSsprRegistered eq true",
    "enabled": "isSsprEnabled eq true",
    "capable": "isSsprCapable eq true",
    "mfaRegistered": "isMfaRegistered eq true",
    "mfaCapable": "isMfaCapable eq true",
    "passwordlessCapable": "isPasswordlessCapable eq true",
    "adminsWithoutMfa": "isAdmin eq true and isMfaRegistered eq false",
}
_PROBE = "mfaRegistered"
_PLAIN_COUNT = re.compile(r"[0-9]{1,18}")

# GET the URL with `ConsistencyLevel: eventual`; the answer (GraphError if none).
Get = Callable[[str], httpx.Response]


def countable(wanted: Collection[str]) -> bool:
    """Whether `$count` can give every metric in `wanted`."""
    return set(wanted) <= COUNT_FILTERS.keys()


def count_report(url: str, wanted: Collection[str], get: Get) -> Report | None:
    """The report from `$count` requests to `url` (the report's `/$count`), or None to page."""
    order = [_PROBE, "total", *sorted(set(wanted) - {_PROBE, "total"})]
    counts: dict[str, int] = {}
    for metric in order:
        count = _count(url, COUNT_FILTERS[metric], get)
        if count is None:
            log.info(
                "userRegistrationDetails: $count %s for %s; paging instead",
                "is not available" if metric == _PROBE else "failed",
                metric,
            )
            return None
        counts[metric] = count
    total = counts.pop("total")
    if any(count > total for count in counts.values()):
        log.info("userRegistrationDetails: $count gave a count above the total; paging")
        return None
    # An undocumented $count might ignore $filter and give every metric the total (100%,
    # and never an alert): trust it only if "registered" and "not registered" add up.
    others = _count(url, "isMfaRegistered eq false", get)
    if others is None or counts[_PROBE] + others != total:
        log.info("userRegistrationDetails: $count's filters do not add up; paging instead")
        return None
    if _PROBE not in wanted:
        del counts[_PROBE]
    ordered = {metric: counts[metric] for metric in METRICS if metric in counts}
    return Report(report_id=None, total_users=total, counts=ordered)


def _count(url: str, condition: str | None, get: Get) -> int | None:
    if condition is not None:
        url += "?$filter=" + quote(condition, safe="")
    try:
        response = get(url)
    except GraphError as exc:
        log.info("userRegistrationDetails: $count request failed: %s", exc)
        return None
    # Graph may start a text/plain count with a byte-order mark.
    text = response.text.strip().lstrip("\ufeff") if response.status_code == 200 else ""
    if not _PLAIN_COUNT.fullmatch(text):
        return None
    return int(text)
