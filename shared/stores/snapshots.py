"""Snapshots: one row per fetch, keyed so that a tenant's newest comes first (core/snapshot)."""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import EdmType, EntityProperty, UpdateMode

from shared.core.report import Report
from shared.core.snapshot import Snapshot, SnapshotKey, row_key_bound
from shared.errors import SnapshotNotFoundError
from shared.stores.enforcement_columns import enforcement_columns, enforcement_from
from shared.stores.tables import Tables, utc

COUNT_PREFIX = "Count_"
# A history read is one page: Table Storage returns at most 1,000 entities a request, which
# holds 30 days of hourly fetches. More than that (a storm of manual runs) keeps the newest.
MAX_HISTORY = 1000
# Beyond this many statuses, $select would make a URL of several KB: read whole rows instead.
_MAX_SELECTED_STATUSES = 40
_SNAPSHOT_COLUMNS = ["PartitionKey", "RowKey", "FetchedAt", "TotalUserCount", "ReportId", "Source"]


class SnapshotStore:
    def __init__(self, tables: Tables, table_name: str) -> None:
        self._tables = tables
        self._name = table_name

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Upsert: storing the same fetch twice leaves one snapshot."""
        entity = _snapshot_entity(snapshot)
        self._tables.write(
            self._name,
            f"save a snapshot in {self._name}",
            lambda table: table.upsert_entity(entity, mode=UpdateMode.REPLACE),
        )

    def get_snapshot(self, key: SnapshotKey) -> Snapshot:
        table = self._tables.get(self._name)
        try:
            with self._tables.failures(f"read a snapshot from {self._name}"):
                entity = table.get_entity(key.tenant_id, key.row_key)
        except ResourceNotFoundError as exc:  # no such entity, or no such table yet
            raise SnapshotNotFoundError(
                f"snapshot {key.tenant_id}/{key.row_key} is not in table {self._name}"
            ) from exc
        return _snapshot_from(entity)

    def previous_snapshot(self, key: SnapshotKey) -> Snapshot | None:
        """The newest snapshot older than `key`'s: the first RowKey after it."""
        table = self._tables.get(self._name)
        with self._tables.failures(f"query {self._name}"):
            entities = table.query_entities(
                "PartitionKey eq @pk and RowKey gt @rk",
                parameters={"pk": key.tenant_id, "rk": key.row_key},
                results_per_page=1,
            )
            first = next(iter(entities), None)
        return _snapshot_from(first) if first is not None else None

    def history(
        self, key: SnapshotKey, since: datetime, statuses: list[str] | None = None
    ) -> list[Snapshot]:
        """The tenant's snapshots older than `key`'s and fetched at or after `since`, newest
        first: one bounded query (a RowKey range, one page), reading only the columns of
        `statuses` when given. The first is the previous snapshot."""
        return self._query(
            "PartitionKey eq @pk and RowKey gt @rk and RowKey lt @bound",
            {"pk": key.tenant_id, "rk": key.row_key, "bound": row_key_bound(since)},
            statuses,
        )

    def recent_snapshots(self, since: datetime) -> list[Snapshot]:
        """Every tenant's snapshots fetched at or after `since`, newest first (one query over
        the RowKey range; the app watches one tenant, so this is normally one partition)."""
        snapshots = self._query("RowKey lt @bound", {"bound": row_key_bound(since)}, None)
        return sorted(snapshots, key=lambda s: s.key.row_key)

    def _query(
        self, query: str, parameters: dict[str, str], statuses: list[str] | None
    ) -> list[Snapshot]:
        table = self._tables.get(self._name)
        select = None
        if statuses is not None and len(statuses) <= _MAX_SELECTED_STATUSES:
            select = _SNAPSHOT_COLUMNS + [COUNT_PREFIX + status for status in statuses]
        try:
            with self._tables.failures(f"query {self._name}"):
                entities = table.query_entities(
                    query, parameters=parameters, select=select, results_per_page=MAX_HISTORY
                )
                rows = list(islice(entities, MAX_HISTORY))
        except ResourceNotFoundError:  # no table yet: nothing was ever stored
            return []
        return [_snapshot_from(entity) for entity in rows]


def _snapshot_entity(snapshot: Snapshot) -> dict[str, Any]:
    report = snapshot.report
    entity: dict[str, Any] = {
        "PartitionKey": snapshot.key.tenant_id,
        "RowKey": snapshot.key.row_key,
        "TenantId": snapshot.key.tenant_id,
        "FetchedAt": snapshot.fetched_at,
        "ReportId": report.report_id or "",
        "Source": snapshot.source,
        "TotalUserCount": _int64(report.total_users),
    }
    for status, count in report.counts.items():
        entity[COUNT_PREFIX + status] = _int64(count)
    return entity | enforcement_columns(snapshot.enforcement)


def _snapshot_from(entity: Any) -> Snapshot:
    counts = {
        name[len(COUNT_PREFIX) :]: _as_int(value)
        for name, value in entity.items()
        if name.startswith(COUNT_PREFIX)
    }
    report = Report(
        report_id=entity.get("ReportId") or None,
        total_users=_as_int(entity["TotalUserCount"]),
        counts=counts,
    )
    return Snapshot(
        key=SnapshotKey(entity["PartitionKey"], entity["RowKey"]),
        fetched_at=utc(entity["FetchedAt"]),
        report=report,
        source=entity.get("Source", ""),
        enforcement=enforcement_from(entity),
    )


def _int64(value: int) -> EntityProperty:
    # Explicit Edm.Int64, so small counts are not stored as Int32 and every count has one type.
    return EntityProperty(value, EdmType.INT64)


def _as_int(value: Any) -> int:
    # azure-data-tables returns Edm.Int64 values as EntityProperty, Int32 as plain int.
    return int(value.value if isinstance(value, EntityProperty) else value)
