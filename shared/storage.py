"""Table Storage: snapshots and alert states, behind the domain's verbs.

The azure-data-tables types stay in this module. Every failure leaves it as a StorageError that
says which table and what to check; azure-core's own retry policy (tuned by the composition
root) has already retried transient failures by then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.data.tables import EdmType, EntityProperty, TableClient, TableServiceClient, UpdateMode

from shared.alerting import FETCH_HEALTH, AlertState
from shared.errors import SnapshotNotFoundError, StorageError
from shared.report import Report
from shared.snapshot import Snapshot, SnapshotKey

log = logging.getLogger(__name__)

COUNT_PREFIX = "Count_"
_MONITOR_PARTITION = "monitor"  # the fetch-health state: no tenant is known when a fetch fails
_CHECKED_ROW = "_checked"  # marks the newest snapshot a tenant's check has completed


class Tables:
    """Creates each table on first use (once per worker), then hands out its client."""

    def __init__(self, service: TableServiceClient, *, described: str) -> None:
        self._service = service
        self._described = described
        self._ready: dict[str, TableClient] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> TableClient:
        with self._lock:
            if name not in self._ready:
                with self.failures(f"create table {name}"):
                    try:
                        self._service.create_table(name)
                    except ResourceExistsError:
                        pass  # the usual case after the first run
                self._ready[name] = self._service.get_table_client(name)
            return self._ready[name]

    @contextmanager
    def failures(self, doing: str) -> Iterator[None]:
        """Turn azure-core's errors into StorageErrors that say what to check."""
        try:
            yield
        except ResourceNotFoundError:
            raise
        except ClientAuthenticationError as exc:
            raise StorageError(
                f"Table Storage refused to {doing} at {self._described}: not authorized "
                "(identity-based storage needs the Storage Table Data Contributor role)"
            ) from exc
        except ServiceRequestError as exc:
            raise StorageError(
                f"Table Storage at {self._described} is unreachable (could not {doing}): "
                f"{type(exc).__name__}; is the storage endpoint right and running (Azurite "
                "locally)?"
            ) from exc
        except HttpResponseError as exc:
            code = getattr(exc, "error_code", None) or "no error code"
            raise StorageError(
                f"Table Storage failed to {doing} at {self._described}: "
                f"HTTP {exc.status_code} {code}"
            ) from exc
        except AzureError as exc:
            raise StorageError(
                f"Table Storage failed to {doing} at {self._described}: {type(exc).__name__}"
            ) from exc


class SnapshotStore:
    def __init__(self, tables: Tables, table_name: str) -> None:
        self._tables = tables
        self._name = table_name

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Upsert: storing the same fetch twice leaves one snapshot."""
        table = self._tables.get(self._name)
        with self._tables.failures(f"save a snapshot in {self._name}"):
            table.upsert_entity(_snapshot_entity(snapshot), mode=UpdateMode.REPLACE)

    def get_snapshot(self, key: SnapshotKey) -> Snapshot:
        table = self._tables.get(self._name)
        try:
            with self._tables.failures(f"read a snapshot from {self._name}"):
                entity = table.get_entity(key.tenant_id, key.row_key)
        except ResourceNotFoundError as exc:
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


class AlertStore:
    def __init__(self, tables: Tables, table_name: str) -> None:
        self._tables = tables
        self._name = table_name

    def get_states(self, tenant_id: str) -> tuple[dict[str, AlertState], SnapshotKey | None]:
        """The tenant's metric states, and the newest snapshot whose check completed."""
        table = self._tables.get(self._name)
        states: dict[str, AlertState] = {}
        checked: SnapshotKey | None = None
        with self._tables.failures(f"read alert states from {self._name}"):
            for entity in table.query_entities("PartitionKey eq @pk", parameters={"pk": tenant_id}):
                if entity["RowKey"] == _CHECKED_ROW:
                    checked = SnapshotKey(tenant_id, entity["SnapshotRowKey"])
                else:
                    states[entity["RowKey"]] = _state_from(entity)
        return states, checked

    def save_states(
        self, tenant_id: str, states: dict[str, AlertState], *, checked: SnapshotKey | None
    ) -> None:
        """Store the states, and mark `checked` done, in one transaction (all or nothing)."""
        operations: list[Any] = [
            ("upsert", _state_entity(tenant_id, state), {"mode": UpdateMode.REPLACE})
            for state in states.values()
        ]
        if checked is not None:
            marker = {"PartitionKey": tenant_id, "RowKey": _CHECKED_ROW}
            marker["SnapshotRowKey"] = checked.row_key
            operations.append(("upsert", marker, {"mode": UpdateMode.REPLACE}))
        if not operations:
            return
        table = self._tables.get(self._name)
        with self._tables.failures(f"save alert states in {self._name}"):
            table.submit_transaction(operations)

    def get_fetch_health(self) -> AlertState | None:
        table = self._tables.get(self._name)
        try:
            with self._tables.failures(f"read the fetch health from {self._name}"):
                return _state_from(table.get_entity(_MONITOR_PARTITION, FETCH_HEALTH))
        except ResourceNotFoundError:
            return None

    def save_fetch_health(self, state: AlertState) -> None:
        table = self._tables.get(self._name)
        with self._tables.failures(f"save the fetch health in {self._name}"):
            table.upsert_entity(_state_entity(_MONITOR_PARTITION, state), mode=UpdateMode.REPLACE)


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
    return entity


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
        fetched_at=_utc(entity["FetchedAt"]),
        report=report,
        source=entity.get("Source", ""),
    )


def _state_entity(partition: str, state: AlertState) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": partition,
        "RowKey": state.name,
        "Firing": state.firing,
        "ToldFiring": state.told_firing,
        "Detail": state.detail[:30_000],  # a string property holds at most 32K characters
    }
    # Table Storage has no null: an absent time is an absent property.
    if state.since is not None:
        entity["Since"] = state.since
    if state.last_told is not None:
        entity["LastTold"] = state.last_told
    return entity


def _state_from(entity: Any) -> AlertState:
    return AlertState(
        name=entity["RowKey"],
        firing=bool(entity.get("Firing", False)),
        since=_utc(entity["Since"]) if entity.get("Since") else None,
        told_firing=bool(entity.get("ToldFiring", False)),
        last_told=_utc(entity["LastTold"]) if entity.get("LastTold") else None,
        detail=entity.get("Detail", ""),
    )


def _int64(value: int) -> EntityProperty:
    # Explicit Edm.Int64, so small counts are not stored as Int32 and every count has one type.
    return EntityProperty(value, EdmType.INT64)


def _as_int(value: Any) -> int:
    # azure-data-tables returns Edm.Int64 values as EntityProperty, Int32 as plain int.
    return int(value.value if isinstance(value, EntityProperty) else value)


def _utc(value: datetime) -> datetime:
    # The SDK returns its own datetime subclass; make it a plain, aware datetime.
    return datetime.fromtimestamp(value.timestamp(), tz=timezone.utc)
