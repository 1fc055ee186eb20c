"""A stored report: what was fetched, for which tenant, when (pure: no I/O).

Snapshots are keyed so that the newest is one cheap query away: PartitionKey is the tenant id
and RowKey starts with a reversed timestamp, so Table Storage's ascending RowKey order lists the
newest first. The timestamp is the fetch's hour: a host retry of the same scheduled run (or a
second fetch within the hour) overwrites that hour's snapshot instead of adding another, which
is what makes the write idempotent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.errors import SnapshotNotFoundError
from shared.report import Report

SOURCE_API = "beta/reports/getCredentialUserRegistrationCount"

# Ten digits of seconds cover fetch times until the year 2286.
_LAST_SECOND = 9_999_999_999


@dataclass(frozen=True)
class SnapshotKey:
    tenant_id: str
    row_key: str

    def to_message(self) -> str:
        """The queue message FetchReport hands to CheckThresholds."""
        return json.dumps({"tenantId": self.tenant_id, "rowKey": self.row_key})

    @classmethod
    def from_message(cls, body: str) -> SnapshotKey:
        try:
            data = json.loads(body)
            return cls(tenant_id=str(data["tenantId"]), row_key=str(data["rowKey"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise SnapshotNotFoundError(
                f"queue message is not a snapshot key (tenantId, rowKey): {body[:200]!r}"
            ) from exc

    def is_newer_or_same(self, other: SnapshotKey) -> bool:
        """Whether this key's snapshot was fetched in the same hour as `other`'s, or later."""
        return self.row_key <= other.row_key  # reversed timestamps: smaller is newer


@dataclass(frozen=True)
class Snapshot:
    key: SnapshotKey
    fetched_at: datetime
    report: Report
    source: str = SOURCE_API


def snapshot_key(tenant_id: str, fetched_at: datetime) -> SnapshotKey:
    hour = fetched_at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    reversed_seconds = _LAST_SECOND - int(hour.timestamp())
    return SnapshotKey(tenant_id, f"{reversed_seconds:010d}-{hour:%Y-%m-%dT%HZ}")
