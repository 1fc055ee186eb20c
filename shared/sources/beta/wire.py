"""Parse and validate Graph's `getCredentialUserRegistrationCount` answer (pure: no I/O).

Microsoft's published examples disagree with each other, and real tenants send all of these:
- items as `{"registrationStatus": "mfaRegistered", "registrationCount": 33}`;
- items as `{"userRegistrationStatus": "registered", "userRegistationCount": 23423}`: the
  misspelt `userRegistationCount` is in the published example, so it is accepted as written
  (https://learn.microsoft.com/graph/api/reports-getcredentialuserregistrationcount);
- items carrying `"@odata.type": "microsoft.graph.userRegistrationCount"`;
- Int64 numbers sent as JSON strings (`"23123"`), as OData does under IEEE754Compatible.
All of them arrive inside a collection: `{"value": [{"id", "totalUserCount",
"userRegistrationCounts": [...]}]}`; an empty collection is a report of 0 users. Anything else
raises `ReportFormatError` naming the field, so that nothing untrustworthy is ever stored.
Statuses this code does not know are kept, and so is a count above the total (the total counts
enabled users only; the published examples show `registered` 23423 of 23123).
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.core.report import INT64_MAX, Report, kind_of
from shared.errors import ReportFormatError

# Statuses become Table Storage column names (`Count_<status>`), which must be identifiers.
_STATUS_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
# At most 19 digits: Int64's range, and far below Python's 4300-digit limit on int("...").
_DIGITS = re.compile(r"-?[0-9]{1,19}")

_STATUS_KEYS = ("registrationStatus", "userRegistrationStatus")
_COUNT_KEYS = ("registrationCount", "userRegistationCount", "userRegistrationCount")


def parse_report(body: bytes | str) -> Report:
    """Return the report in `body` (Graph's raw JSON), or raise ReportFormatError."""
    try:
        payload = json.loads(body)
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ReportFormatError("body", f"not JSON (starts with {_preview(body)})") from exc
    except RecursionError as exc:  # nesting deeper than any report: hostile or broken
        raise ReportFormatError("body", "JSON nested too deeply to be a report") from exc
    if not isinstance(payload, dict):
        raise ReportFormatError("body", f"expected a JSON object, got {kind_of(payload)}")
    if "value" not in payload:
        raise ReportFormatError("value", "missing: expected a collection of reports")
    value = payload["value"]
    if not isinstance(value, list):
        raise ReportFormatError("value", f"expected a list, got {kind_of(value)}")
    if not value:
        # Microsoft says of the retired sibling reports that they "stop returning data": an
        # empty collection is a report that counts nobody, for the checks to alert on, not a
        # format error that would fail every run for good.
        return Report(report_id=None, total_users=0, counts={})
    if len(value) > 1:
        raise ReportFormatError("value", f"expected one report for the tenant, got {len(value)}")
    return _parse_item(value[0], "value[0]")


def _parse_item(item: Any, path: str) -> Report:
    if not isinstance(item, dict):
        raise ReportFormatError(path, f"expected an object, got {kind_of(item)}")
    report_id = item.get("id")
    if report_id is not None and not isinstance(report_id, str):
        raise ReportFormatError(f"{path}.id", f"expected a string, got {kind_of(report_id)}")
    if "totalUserCount" not in item:
        raise ReportFormatError(f"{path}.totalUserCount", "missing")
    total = _count(item["totalUserCount"], f"{path}.totalUserCount")
    entries = item.get("userRegistrationCounts")
    if not isinstance(entries, list):
        problem = "missing" if entries is None else f"expected a list, got {kind_of(entries)}"
        raise ReportFormatError(f"{path}.userRegistrationCounts", problem)

    counts: dict[str, int] = {}
    for index, entry in enumerate(entries):
        entry_path = f"{path}.userRegistrationCounts[{index}]"
        if not isinstance(entry, dict):
            raise ReportFormatError(entry_path, f"expected an object, got {kind_of(entry)}")
        status_key, status = _pick(entry, _STATUS_KEYS, entry_path)
        if not isinstance(status, str) or not _STATUS_PATTERN.fullmatch(status):
            raise ReportFormatError(
                f"{entry_path}.{status_key}", f"not a status name: {_preview(status)}"
            )
        if status in counts:
            raise ReportFormatError(f"{entry_path}.{status_key}", f"duplicate status {status!r}")
        count_key, raw_count = _pick(entry, _COUNT_KEYS, entry_path)
        # A count above the total is real data, not an error: totalUserCount counts enabled
        # users only, and Microsoft's own example shows `registered` 23423 of 23123.
        counts[status] = _count(raw_count, f"{entry_path}.{count_key}")
    return Report(report_id=report_id, total_users=total, counts=counts)


def _pick(entry: dict[str, Any], names: tuple[str, ...], path: str) -> tuple[str, Any]:
    """The one field of `names` that `entry` carries (spellings differ between examples)."""
    present = [name for name in names if name in entry]
    if not present:
        raise ReportFormatError(f"{path}.{names[0]}", "missing")
    values = {json.dumps(entry[name], sort_keys=True) for name in present}
    if len(values) > 1:
        raise ReportFormatError(f"{path}.{present[1]}", f"disagrees with {present[0]}")
    return present[0], entry[present[0]]


def _count(raw: Any, path: str) -> int:
    """A non-negative Int64, given as a JSON integer or (IEEE754Compatible) a string of digits."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ReportFormatError(path, f"expected a whole number, got {kind_of(raw)}")
    if isinstance(raw, str):
        if not _DIGITS.fullmatch(raw):
            raise ReportFormatError(
                path, f"expected a whole number up to Int64, got {_preview(raw)}"
            )
        raw = int(raw)
    if raw < 0:
        raise ReportFormatError(path, f"must not be negative, got {raw}")
    if raw > INT64_MAX:
        raise ReportFormatError(path, f"too large for an Int64: {raw}")
    return raw


def _preview(value: Any) -> str:
    """A short, printable quotation of bad input, so the log shows what arrived."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = value if isinstance(value, str) else json.dumps(value)
    text = "".join(ch if ch.isprintable() else "?" for ch in text[:40])
    return repr(text) if text else "nothing (empty body)"
