"""Table Storage: snapshots and alert states, behind the domain's verbs.

The azure-data-tables types stay in this module. Every failure leaves it as a StorageError that
says which table and what to check; azure-core's own retry policy (tuned by the composition
root) has already retried transient failures by then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from typing import Any, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.data.tables import (
    EdmType,
    EntityProperty,
    TableClient,
    TableServiceClient,
    UpdateMode,
)

from shared.core.alerting import FETCH_HEALTH, AlertState
from shared.core.report import Report
from shared.core.snapshot import Snapshot, SnapshotKey, row_key_bound
from shared.errors import SnapshotNotFoundError, StateConflictError, StorageError

log = logging.getLogger(__name__)

COUNT_PREFIX = "Count_"
_MONITOR_PARTITION = "monitor"  # the fetch-health state: no tenant is known when a fetch fails
_CHECKED_ROW = "_checked"  # marks the newest snapshot a tenant's check has completed
_DIGEST_PARTITION = "digest"  # one row per weekly digest posted, keyed by its occurrence
# A history read is one page: Table Storage returns at most 1,000 entities a request, which
# holds 30 days of hourly fetches. More than that (a storm of manual runs) keeps the newest.
MAX_HISTORY = 1000
# Beyond this many statuses, $select would make a URL of several KB: read whole rows instead.
_MAX_SELECTED_STATUSES = 40
_SNAPSHOT_COLUMNS = ["PartitionKey", "RowKey", "FetchedAt", "TotalUserCount", "ReportId", "Source"]
_SOURCE_ROW = "_source"  # REPORT_SOURCE=auto: set once the beta report is gone
# What Table Storage answers when a conditional write finds the entity changed, already there,
# or gone: someone else wrote first.
_CONFLICT_STATUSES = (404, 409, 412)

T = TypeVar("T")


@dataclass(frozen=True)
class MonitorState:
    fetch_health: AlertState | None
    source_switch: str | None  # why `auto` reads the v1.0 source now; None: it reads beta
    fetch_health_version: str | None = field(default=None, repr=False)  # its ETag


@dataclass(frozen=True)
class TenantStates:
    """A tenant's alert states as read, with the versions (ETags) a conditional write needs."""

    states: dict[str, AlertState]
    checked: SnapshotKey | None  # the newest snapshot whose check completed
    versions: dict[str, str] = field(default_factory=dict, repr=False)  # RowKey -> ETag
    # A check that is posting its card right now (see shared/usecases/checking.py): which,
    # since when.
    announcing: SnapshotKey | None = None
    announcing_since: datetime | None = None


class Tables:
    """Hands out table clients; a table is created on first need, when a write finds it missing
    (not on every invocation: one request fewer per run, every run)."""

    def __init__(self, service: TableServiceClient, *, described: str) -> None:
        self._service = service
        self._described = described
        self._lock = threading.Lock()

    def get(self, name: str) -> TableClient:
        return self._service.get_table_client(name)

    def write(self, name: str, doing: str, operation: Callable[[TableClient], T]) -> T:
        """Run `operation` on table `name`, creating the table once if it does not exist yet."""
        table = self.get(name)
        with self.failures(doing):
            try:
                return operation(table)
            except HttpResponseError as exc:
                if not _table_missing(exc):
                    raise
            with self._lock:
                try:
                    self._service.create_table(name)
                    log.info("created table %s at %s", name, self._described)
                except ResourceExistsError:
                    pass  # another instance created it in the meantime
            return operation(table)

    @contextmanager
    def failures(self, doing: str) -> Iterator[None]:
        """Turn azure-core's errors into StorageErrors that say what to check."""
        try:
            yield
        except ResourceNotFoundError:
            raise  # the caller's business: "not there" is often an answer, not a failure
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


class AlertStore:
    """Alert states, written conditionally: a write based on a stale read fails with
    StateConflictError instead of overwriting what another instance wrote meanwhile."""

    def __init__(self, tables: Tables, table_name: str) -> None:
        self._tables = tables
        self._name = table_name

    def get_states(self, tenant_id: str) -> TenantStates:
        """The tenant's metric states, and the newest snapshot whose check completed."""
        table = self._tables.get(self._name)
        states: dict[str, AlertState] = {}
        versions: dict[str, str] = {}
        checked: SnapshotKey | None = None
        try:
            with self._tables.failures(f"read alert states from {self._name}"):
                entities = list(
                    table.query_entities("PartitionKey eq @pk", parameters={"pk": tenant_id})
                )
        except ResourceNotFoundError:  # the table is created by the first write
            entities = []
        announcing: SnapshotKey | None = None
        announcing_since: datetime | None = None
        for entity in entities:
            versions[entity["RowKey"]] = str(entity.metadata["etag"])
            if entity["RowKey"] == _CHECKED_ROW:
                if entity.get("SnapshotRowKey"):  # empty: claimed before any check completed
                    checked = SnapshotKey(tenant_id, entity["SnapshotRowKey"])
                if entity.get("AnnouncingRowKey") and entity.get("AnnouncingSince"):
                    announcing = SnapshotKey(tenant_id, entity["AnnouncingRowKey"])
                    announcing_since = _utc(entity["AnnouncingSince"])
            else:
                states[entity["RowKey"]] = _state_from(entity)
        return TenantStates(states, checked, versions, announcing, announcing_since)

    def save_states(
        self,
        tenant_id: str,
        prior: TenantStates,
        states: dict[str, AlertState],
        *,
        cleared: list[str] | None = None,
        checked: SnapshotKey | None,
        announcing: tuple[SnapshotKey, datetime] | None = None,
    ) -> TenantStates:
        """Store changed states, delete `cleared` ones and mark `checked` done, in one
        transaction that succeeds only if nothing read in `prior` changed meanwhile; with
        `announcing`, also mark that snapshot's card as being posted. Return the states as
        now stored, with their new versions, for a next conditional write."""
        operations: list[Any] = [
            _conditional(_state_entity(tenant_id, state), prior.versions.get(name))
            for name, state in states.items()
            if state != prior.states.get(name) or name not in prior.versions
        ]
        operations += [
            ("delete", {"PartitionKey": tenant_id, "RowKey": name}, _if_match(prior.versions[name]))
            for name in cleared or []
            if name in prior.versions
        ]
        # The marker is rewritten on every save, conditionally: it serializes a tenant's checks.
        marker = checked or prior.checked
        if marker is not None or announcing is not None:
            entity: dict[str, Any] = {"PartitionKey": tenant_id, "RowKey": _CHECKED_ROW}
            entity["SnapshotRowKey"] = marker.row_key if marker is not None else ""
            if announcing is not None:
                entity["AnnouncingRowKey"] = announcing[0].row_key
                entity["AnnouncingSince"] = announcing[1]
            operations.append(_conditional(entity, prior.versions.get(_CHECKED_ROW)))
        results = self._transact(operations, f"the alert states of tenant {tenant_id}")
        versions = {k: v for k, v in prior.versions.items() if k not in (cleared or [])}
        for operation, result in zip(operations, results, strict=True):
            if operation[0] != "delete" and result.get("etag"):
                versions[operation[1]["RowKey"]] = str(result["etag"])
        stored = {k: v for k, v in prior.states.items() if k not in (cleared or [])}
        stored.update(states)
        return TenantStates(
            stored,
            marker,
            versions,
            announcing[0] if announcing else None,
            announcing[1] if announcing else None,
        )

    def _transact(self, operations: list[Any], what: str) -> list[Mapping[str, Any]]:
        """Submit conditional operations; StateConflictError if another writer came first."""
        if not operations:
            return []

        def submit(table: TableClient) -> list[Mapping[str, Any]]:
            try:
                return list(table.submit_transaction(operations))
            except HttpResponseError as exc:
                if exc.status_code in _CONFLICT_STATUSES and not _table_missing(exc):
                    raise StateConflictError(
                        f"{what} changed while this run used them "
                        f"(HTTP {exc.status_code} {getattr(exc, 'error_code', None)})"
                    ) from exc
                raise

        return self._tables.write(self._name, f"save {what} in {self._name}", submit)

    def get_monitor(self) -> MonitorState:
        """The monitor's own state (fetch health, report source) in one request."""
        table = self._tables.get(self._name)
        try:
            with self._tables.failures(f"read the monitor's state from {self._name}"):
                rows = {
                    entity["RowKey"]: entity
                    for entity in table.query_entities(
                        "PartitionKey eq @pk", parameters={"pk": _MONITOR_PARTITION}
                    )
                }
        except ResourceNotFoundError:  # no table yet
            rows = {}
        health = rows.get(FETCH_HEALTH)
        switch = rows.get(_SOURCE_ROW)
        return MonitorState(
            fetch_health=_state_from(health) if health is not None else None,
            source_switch=switch.get("Reason", "") if switch is not None else None,
            fetch_health_version=str(health.metadata["etag"]) if health is not None else None,
        )

    def get_fetch_health(self) -> AlertState | None:
        return self.get_monitor().fetch_health

    def get_source_switch(self) -> str | None:
        """Why REPORT_SOURCE=auto reads the v1.0 source now; None: it still reads beta."""
        return self.get_monitor().source_switch

    def save_source_switch(self, reason: str, when: datetime) -> None:
        """Record that `auto` moved to the v1.0 source for good (announced once)."""
        entity: dict[str, Any] = {"PartitionKey": _MONITOR_PARTITION, "RowKey": _SOURCE_ROW}
        entity |= {"Reason": reason[:30_000], "Since": when}
        self._tables.write(
            self._name,
            f"save the report source in {self._name}",
            lambda table: table.upsert_entity(entity, mode=UpdateMode.REPLACE),
        )

    def save_fetch_health(self, state: AlertState, *, version: str | None) -> None:
        """Write the fetch health if it is still as read (`version`, its ETag; None: insert
        only), else StateConflictError: two fetches at once must not undo each other's news."""
        entity = _state_entity(_MONITOR_PARTITION, state)
        self._transact([_conditional(entity, version)], "the fetch health")

    def claim_digest(self, occurrence: str, now: datetime) -> bool:
        """Record that the digest of `occurrence` is being posted, insert-only: True for the
        one caller that inserted it, False when it was there already (a host retry after a
        post, or another instance)."""
        entity = {"PartitionKey": _DIGEST_PARTITION, "RowKey": occurrence, "ClaimedAt": now}

        def insert(table: TableClient) -> bool:
            # A transaction of one insert-only write (the helper the alert states use): unlike
            # create_entity, its error says when the table is missing, so Tables.write creates it.
            try:
                table.submit_transaction([_conditional(entity, None)])
            except HttpResponseError as exc:
                if exc.status_code in _CONFLICT_STATUSES and not _table_missing(exc):
                    return False  # the answer, not a failure: someone claimed it first
                raise
            return True

        return self._tables.write(self._name, f"record the weekly digest in {self._name}", insert)

    def release_digest(self, occurrence: str) -> None:
        """Forget a claim whose post failed, so that the host's retry posts the digest."""
        table = self._tables.get(self._name)
        with self._tables.failures(f"release the weekly digest in {self._name}"):
            table.delete_entity(_DIGEST_PARTITION, occurrence)


def _conditional(entity: dict[str, Any], etag: str | None) -> tuple[Any, ...]:
    """Replace the entity only if unchanged since read; insert it only if it is still absent."""
    if etag is None:
        return ("create", entity)
    return ("update", entity, {"mode": UpdateMode.REPLACE, **_if_match(etag)})


def _if_match(etag: str) -> dict[str, Any]:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def _table_missing(exc: HttpResponseError) -> bool:
    return exc.status_code == 404 and getattr(exc, "error_code", None) == "TableNotFound"


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
