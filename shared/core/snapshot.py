"""A stored report: what was fetched, for which tenant, when (pure: no I/O).

Snapshots are keyed so that the newest is one cheap query away: PartitionKey is the tenant id
and RowKey starts with a reversed timestamp, so Table Storage's ascending RowKey order lists the
newest first. Every fetch gets its own key (the fetch time to the microsecond, plus a random
fetch id), never a coarser one: two fetches within the same hour are two snapshots, each
checked once. Idempotence comes from the key travelling in the queue message: a redelivered
message names the same snapshot, which the check then finds already done.

The reversed microseconds begin with the same ten digits as the reversed seconds of the older,
hourly keys, so snapshots stored by earlier versions still sort in time order among new ones.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared.core.enforcement_status import EnforcementStatus
from shared.core.report import Report
from shared.errors import SnapshotNotFoundError

# A newest snapshot older than this means the monitor is not fetching, whether or not a fetch
# failure was recorded (a timer that stopped, or an app that was off, records none). Two days:
# with a daily FETCH_SCHEDULE (the default), one missed run is no news, two are. A schedule
# rarer than every two days makes the digest say "not fetching" (README, WeeklyDigest).
STALE_AFTER = timedelta(days=2)

# Ten digits of seconds (sixteen of microseconds) cover fetch times until the year 2286.
_LAST_MICROSECOND = 9_999_999_999_999_999


@dataclass(frozen=True)
class SnapshotKey:
    tenant_id: str
    row_key: str

    def to_message(self) -> str:
        """The queue message FetchReport hands to CheckThresholds: the key, and nothing about
        any user (a message that fails for good rests in the poison queue)."""
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
        """Whether this key is `other`'s, or names a snapshot fetched after it."""
        return self.row_key <= other.row_key  # reversed timestamps: smaller is newer


@dataclass(frozen=True)
class Snapshot:
    key: SnapshotKey
    fetched_at: datetime
    report: Report
    # The Graph path of the report source that counted it (`FetchedReport.api`); the default
    # is the beta report's, the only source before REPORT_SOURCE existed.
    source: str = "beta/reports/getCredentialUserRegistrationCount"
    # What the fetch read of MFA enforcement (CHECK_ENFORCEMENT=true); None: not read.
    enforcement: EnforcementStatus | None = None


def snapshot_key(tenant_id: str, fetched_at: datetime, fetch_id: str | None = None) -> SnapshotKey:
    """A key for one fetch: newest first, readable, and unique even within a microsecond."""
    when = fetched_at.astimezone(timezone.utc)
    micros = int(when.replace(microsecond=0).timestamp()) * 1_000_000 + when.microsecond
    fetch_id = fetch_id or uuid.uuid4().hex[:12]
    return SnapshotKey(
        tenant_id, f"{_LAST_MICROSECOND - micros:016d}-{when:%Y-%m-%dT%H:%M:%S.%fZ}-{fetch_id}"
    )


def row_key_bound(when: datetime) -> str:
    """A RowKey upper bound: every snapshot fetched at or after `when` has a smaller RowKey
    (reversed timestamps), every one fetched before it a greater one."""
    utc = when.astimezone(timezone.utc)
    micros = int(utc.replace(microsecond=0).timestamp()) * 1_000_000 + utc.microsecond
    return f"{_LAST_MICROSECOND - micros + 1:016d}"


def stale_days(newest: Snapshot | None, now: datetime) -> int | None:
    """How many whole days old `newest` is, if older than STALE_AFTER; else None."""
    if newest is None or now - newest.fetched_at <= STALE_AFTER:
        return None
    return (now - newest.fetched_at).days
