"""Snapshots: one row per fetch, keyed so that a tenant's newest comes first (core/snapshot)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timezone
from itertools import islice
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import EdmType, EntityProperty, UpdateMode

from shared.core.report import POPULATIONS, Report, population_of
from shared.core.snapshot import Snapshot, SnapshotKey, row_key_bound
from shared.errors import SnapshotNotFoundError
from shared.stores.enforcement_columns import enforcement_columns, enforcement_from
from shared.stores.tables import Tables, utc

COUNT_PREFIX = "Count_"
TOTAL_COLUMN = "TotalUserCount"
# Table Storage's property names are C# identifiers: no '.'. A population's status
# `mfaRegistered.admins` is stored as `Count_mfaRegistered__admins` and its population's total
# as `TotalUserCount__admins`. Snapshots stored before populations have neither and read as
# before; a status's name never has '__' before a population otherwise (Graph's are camelCase).
POPULATION_SEPARATOR = "__"
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

    def newest_snapshot(self, since: datetime, tenant_id: str | None = None) -> Snapshot | None:
        """The newest snapshot fetched at or after `since`, of `tenant_id`, or (None) of the
        first tenant that has one (the app watches one tenant): one single-row query."""
        if tenant_id is None:
            found = self._query("RowKey lt @bound", {"bound": row_key_bound(since)}, None, rows=1)
        else:
            found = self._query(
                "PartitionKey eq @pk and RowKey lt @bound",
                {"pk": tenant_id, "bound": row_key_bound(since)},
                None,
                rows=1,
            )
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
            populations = {population_of(status) for status in statuses} - {None}
            select = _SNAPSHOT_COLUMNS + [count_column(status) for status in statuses]
            select += [_total_column(p) for p in POPULATIONS if p in populations]
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
        TOTAL_COLUMN: _int64(report.total_users),
    }
    for status, count in report.counts.items():
        entity[count_column(status)] = _int64(count)
    for population, total in report.totals.items():
        entity[_total_column(population)] = _int64(total)
    return entity | enforcement_columns(snapshot.enforcement)


def count_column(status: str) -> str:
    """The property that stores `status`'s count: `Count_mfaRegistered__admins`."""
    return COUNT_PREFIX + status.replace(".", POPULATION_SEPARATOR)


def _total_column(population: str) -> str:
    return TOTAL_COLUMN + POPULATION_SEPARATOR + population


def _status_of(column: str) -> str:
    metric, separator, population = column[len(COUNT_PREFIX) :].rpartition(POPULATION_SEPARATOR)
    if separator and metric and population in POPULATIONS:
        return f"{metric}.{population}"
    return column[len(COUNT_PREFIX) :]


def _snapshot_from(entity: Any) -> Snapshot:
    counts = {
        _status_of(name): _as_int(value)
        for name, value in entity.items()
        if name.startswith(COUNT_PREFIX)
    }
    totals = {
        population: _as_int(entity[_total_column(population)])
        for population in POPULATIONS
        if _total_column(population) in entity
    }
    report = Report(
        report_id=entity.get("ReportId") or None,
        total_users=_as_int(entity[TOTAL_COLUMN]),
        counts=counts,
        totals=totals,
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
