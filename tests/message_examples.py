"""Messages built from realistic data, and what tests read back from their cards."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.core.alerting import AlertState, decide_metrics
from shared.core.coverage import parse_thresholds, readings
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.messages.coverage import coverage_message
from shared.messages.model import Message

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
DAY = timedelta(hours=24)
THRESHOLDS = parse_thresholds("mfaRegistered=95%,capable=90%")


def snapshot(counts: dict[str, int], total: int = 1250) -> Snapshot:
    return Snapshot(snapshot_key("tenant-1", NOW), NOW, Report("report-7", total, counts))


def message_for(
    counts: dict[str, int], prior: dict[str, AlertState] | None = None, **kw: Any
) -> Message:
    snap = snapshot(counts)
    current = readings(snap.report, THRESHOLDS, kw.pop("previous", None))
    decision = decide_metrics(
        prior or {}, current, now=NOW, repeat=DAY, drop_points=kw.get("drop"), detail=""
    )
    return coverage_message(snap, current, decision.events)


def card_of(envelope: dict[str, Any]) -> dict[str, Any]:
    [attachment] = envelope["attachments"]
    return attachment["content"]


def texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "TextBlock" else []
        return own + [t for value in node.values() for t in texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in texts(item)]
    return []


def card_bytes(envelope: dict[str, Any]) -> int:
    return len(json.dumps(envelope).encode())
