"""Snapshots: one row per fetch, keyed so that a tenant's newest comes first (core/snapshot)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timezone
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
# A read of several snapshots is one page: Table Storage returns at most 1,000 entities a
# request. More than that keeps the newest.
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

    def last_of_each_day(
        self, key: SnapshotKey, since: datetime, statuses: list[str] | None = None
    ) -> Iterator[Snapshot]:
        """For each UTC day from `key`'s back to `since`'s, the newest snapshot of that day
        older than `key`'s, newest first: one single-row query per day that has one (a day
        without snapshots costs nothing), however many snapshots a day holds. Reads only the
        columns of `statuses` when given."""
        lower = key.row_key
        bound = row_key_bound(since)
        while True:
            found = self._query(
                "PartitionKey eq @pk and RowKey gt @rk and RowKey lt @bound",
                {"pk": key.tenant_id, "rk": lower, "bound": bound},
                statuses,
                rows=1,
            )
            if not found:
                return
            yield found[0]
            day = found[0].fetched_at.astimezone(timezone.utc).date()
            # Next: fetched before that day began (their RowKeys are greater than this bound).
            lower = row_key_bound(datetime.combine(day, time(), tzinfo=timezone.utc))

    def newest_snapshot(self, since: datetime) -> Snapshot | None:
        """The newest snapshot fetched at or after `since`, of the first tenant that has one
        (the app watches one tenant): one single-row query."""
        found = self._query("RowKey lt @bound", {"bound": row_key_bound(since)}, None, rows=1)
        return found[0] if found else None

    def _query(
        self,
        query: str,
        parameters: dict[str, str],
        statuses: list[str] | None,
        *,
        rows: int = MAX_HISTORY,
    ) -> list[Snapshot]:
        table = self._tables.get(self._name)
        select = None
        if statuses is not None and len(statuses) <= _MAX_SELECTED_STATUSES:
            select = _SNAPSHOT_COLUMNS + [COUNT_PREFIX + status for status in statuses]
        try:
            with self._tables.failures(f"query {self._name}"):
                entities = table.query_entities(
                    query, parameters=parameters, select=select, results_per_page=rows
                )
                found = list(islice(entities, rows))
        except ResourceNotFoundError:  # no table yet: nothing was ever stored
            return []
        return [_snapshot_from(entity) for entity in found]


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
