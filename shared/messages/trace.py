"""Coverage as data: one log record per metric per check, for Azure Monitor (pure).

Application Insights keeps what the app logs in `traces`; a KQL query reads these records with
`parse-kv` (README, *See coverage in Azure Monitor*; the workbook and the coverage alert in
infra/main.bicep query them). The shape is a contract with those queries:

    coverage tenant=<id> metric=<name> count=<n> total=<n> ratio=<0..1|none>
             threshold=<0..1|none> maximum=<n|none> state=<ok|firing|unchecked> source=<api>

on one line: `key=value` pairs separated by single spaces, values without spaces (a value that
could hold one, a status Graph names, has it replaced), `none` where a value does not apply.
"""

from __future__ import annotations

from fractions import Fraction

from shared.core.coverage import Reading

PREFIX = "coverage"
# Enough digits that 1 user in a million still moves the ratio; KQL reads them as `real`.
_DIGITS = 6


def coverage_trace(tenant_id: str, reading: Reading, source: str) -> str:
    """The trace line of one metric of one check."""
    pairs = {
        "tenant": tenant_id,
        "metric": reading.status,
        "count": str(reading.count),
        "total": str(reading.total),
        "ratio": _fraction(reading.ratio),
        "threshold": _fraction(reading.threshold),
        "maximum": "none" if reading.maximum is None else str(reading.maximum),
        "state": state_of(reading),
        "source": source or "none",
    }
    return " ".join([PREFIX, *(f"{key}={_value(value)}" for key, value in pairs.items())])


def state_of(reading: Reading) -> str:
    """`firing` when the metric breaks its limit, `ok` when it is judged and meets it,
    `unchecked` when it has no limit (or a 0-user report leaves its ratio undefined)."""
    if reading.breached:
        return "firing"
    return "ok" if reading.judged else "unchecked"


def _fraction(value: Fraction | None) -> str:
    if value is None:
        return "none"
    text = f"{float(value):.{_DIGITS}f}".rstrip("0").rstrip(".")
    return text or "0"


def _value(text: str) -> str:
    # parse-kv splits on the pair delimiter: a value must never carry a space or an `=`.
    cleaned = "".join("_" if ch.isspace() or ch == "=" else ch for ch in text)
    return cleaned or "none"
