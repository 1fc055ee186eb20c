"""The monitor's own state, in ALERT_TABLE: one row each, written only if unchanged since read.

    monitor/fetch      the fetch health (an AlertState; no tenant is known when a fetch fails)
    fetch/<tenant>     TENANTS: each customer tenant's fetch health (its tenant is known)
    monitor/_source    REPORT_SOURCE=auto: why it reads the v1.0 source now (absent: beta)
    digest/<when>      one row per weekly digest posted, keyed by its occurrence

Each row carries the claim of a run posting its notice (`ClaimedBy`, `ClaimedSince`); a row
that holds only a claim says nothing was told yet. The rule is shared/usecases/announcing.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from azure.core.exceptions import ResourceNotFoundError

from shared.core.alerting import FETCH_HEALTH, AlertState
from shared.stores.records import Claim, Record
from shared.stores.tables import (
    Tables,
    claim_from,
    claim_properties,
    conditional,
    conditional_delete,
    etag_of,
    state_from,
    state_properties,
    utc,
)

_MONITOR_PARTITION = "monitor"
_SOURCE_ROW = "_source"
_DIGEST_PARTITION = "digest"
_TENANT_FETCH_PARTITION = "fetch"
_CLAIM = {"owner": "ClaimedBy", "since": "ClaimedSince"}

S = TypeVar("S")


@dataclass(frozen=True)
class SourceSwitch:
    """`auto` moved to the v1.0 source for good: why, and when it was said."""

    reason: str
    since: datetime


@dataclass(frozen=True)
class MonitorState:
    fetch_health: Record[AlertState | None]
    source_switch: Record[SourceSwitch | None]

    @property
    def switched(self) -> str | None:
        """Why `auto` reads the v1.0 source now; None: it reads beta."""
        told = self.source_switch.state
        return told.reason if told is not None else None


class MonitorStore:
    def __init__(self, tables: Tables, table_name: str) -> None:
        self._tables = tables
        self._name = table_name

    def get_monitor(self) -> MonitorState:
        """The fetch health and the source switch in one request."""
        rows = {
            entity["RowKey"]: entity
            for entity in self._tables.query(
                self._name, "read the monitor's state", "PartitionKey eq @pk", pk=_MONITOR_PARTITION
            )
        }
        return MonitorState(
            self.fetch_health().record(rows.get(FETCH_HEALTH)),
            self.source_switch().record(rows.get(_SOURCE_ROW)),
        )

    def get_source_switch(self) -> str | None:
        """Why REPORT_SOURCE=auto reads the v1.0 source now; None: it still reads beta."""
        return self.get_monitor().switched

    def tenants_fetch_health(self) -> dict[str, AlertState]:
        """Every customer tenant's fetch health (TENANTS), by tenant id, in one query."""
        rows = self._tables.query(
            self._name,
            "read the tenants' fetch health",
            "PartitionKey eq @pk",
            pk=_TENANT_FETCH_PARTITION,
        )
        return {row["RowKey"]: state_from(row) for row in rows if "Firing" in row}

    def fetch_health(self, tenant_id: str | None = None) -> RowLedger[AlertState | None]:
        """The fetch health: the app's own, or (TENANTS) one customer tenant's."""
        key = (
            (_TENANT_FETCH_PARTITION, tenant_id)
            if tenant_id
            else (_MONITOR_PARTITION, FETCH_HEALTH)
        )
        return RowLedger(
            self._tables,
            self._name,
            key,
            f"the fetch health of tenant {tenant_id}" if tenant_id else "the fetch health",
            absent=None,
            encode=lambda state: None if state is None else state_properties(state),
            decode=lambda entity: state_from(entity) if "Firing" in entity else None,
        )

    def source_switch(self) -> RowLedger[SourceSwitch | None]:
        return RowLedger(
            self._tables,
            self._name,
            (_MONITOR_PARTITION, _SOURCE_ROW),
            "the report source",
            absent=None,
            encode=lambda told: (
                None if told is None else {"Reason": told.reason[:30_000], "Since": told.since}
            ),
            decode=lambda entity: (
                SourceSwitch(entity["Reason"], utc(entity["Since"]))
                if "Reason" in entity and entity.get("Since")
                else None
            ),
        )

    def digest(self, occurrence: str) -> RowLedger[bool]:
        """Whether the digest of `occurrence` was posted. A row from before claims carried an
        owner (`ClaimedAt` only) counts as posted."""
        return RowLedger(
            self._tables,
            self._name,
            (_DIGEST_PARTITION, occurrence),
            "the weekly digest",
            absent=False,
            encode=lambda posted: {"Posted": True} if posted else None,
            decode=lambda entity: bool(entity.get("Posted")) or not entity.get(_CLAIM["owner"]),
        )


class RowLedger(Generic[S]):
    """One row as a claimable record: `absent` is the state of no row, `encode` gives a
    state's properties (None: no row), `decode` reads them back from an entity."""

    def __init__(
        self,
        tables: Tables,
        table_name: str,
        key: tuple[str, str],
        what: str,
        *,
        absent: S,
        encode: Callable[[S], dict[str, Any] | None],
        decode: Callable[[Any], S],
    ) -> None:
        self._tables = tables
        self._name = table_name
        self._partition, self._row = key
        self._what = what
        self._encode = encode
        self._decode = decode
        self._absent = absent

    def record(self, entity: Any | None) -> Record[S]:
        if entity is None:
            return Record(self._absent)
        return Record(self._decode(entity), claim_from(entity, **_CLAIM), etag_of(entity))

    def read(self) -> Record[S]:
        table = self._tables.get(self._name)
        try:
            with self._tables.failures(f"read {self._what} from {self._name}"):
                entity = table.get_entity(self._partition, self._row)
        except ResourceNotFoundError:  # not there (or no table yet): never written
            return Record(self._absent)
        return self.record(entity)

    def write(self, prior: Record[S], state: S, *, claim: Claim | None) -> Record[S]:
        """Store `state` and `claim` if the row is still as `prior` read it (absent: insert
        only), else StateConflictError. A state without a row and no claim deletes the row."""
        etag = prior.version if isinstance(prior.version, str) else None
        properties = self._encode(state)
        if properties is None and claim is None:
            if etag is None:
                return Record(state)
            operation = conditional_delete(self._partition, self._row, etag)
        else:
            entity = {"PartitionKey": self._partition, "RowKey": self._row}
            entity |= (properties or {}) | claim_properties(claim, **_CLAIM)
            operation = conditional(entity, etag)
        (result,) = self._tables.transact(self._name, [operation], self._what)
        return Record(state, claim, str(result["etag"]) if result.get("etag") else None)
