"""A tenant's alert states: one row per thresholded metric, plus a marker row (`_checked`) that
records the newest snapshot whose check completed and the claim of a check posting its card,
and a row (`_series`) holding the tenant's daily series for the trends (stores/series.py), read
in the same query as the states.

Written conditionally (ETags, in one transaction): a write based on a stale read fails with
StateConflictError instead of overwriting what another instance wrote meanwhile. The marker is
rewritten on every save, so it serializes a tenant's checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from shared.core.alerting import AlertState
from shared.core.snapshot import SnapshotKey
from shared.core.trends import DailySeries
from shared.stores.records import Claim, Record
from shared.stores.series import decode_series, encode_series
from shared.stores.tables import (
    Operation,
    Tables,
    claim_from,
    claim_properties,
    conditional,
    conditional_delete,
    etag_of,
    state_from,
    state_properties,
)

_CHECKED_ROW = "_checked"  # marks the newest snapshot a tenant's check has completed
_SERIES_ROW = "_series"  # the daily series the trends are drawn from
_SERIES_PROPERTY = "Series"  # then Series1, Series2...: one chunk each (stores/series.py)
# The claim's properties on the marker: the snapshot whose check is posting, since when.
_CLAIM = {"owner": "AnnouncingRowKey", "since": "AnnouncingSince"}


@dataclass(frozen=True)
class TenantAlerts:
    """What a tenant's checks have decided and told: each metric's state, and the newest
    snapshot whose check completed."""

    states: Mapping[str, AlertState] = field(default_factory=dict)
    checked: SnapshotKey | None = None
    # None: not stored yet (a tenant checked by an older version), or unreadable.
    series: DailySeries | None = None


class AlertStore:
    def __init__(self, tables: Tables, table_name: str) -> None:
        self._tables = tables
        self._name = table_name

    def get_states(self, tenant_id: str) -> Record[TenantAlerts]:
        """The tenant's alert states, with the claim on them and their versions (ETags)."""
        entities = self._tables.query(
            self._name, "read alert states", "PartitionKey eq @pk", pk=tenant_id
        )
        states: dict[str, AlertState] = {}
        versions: dict[str, str] = {}
        checked: SnapshotKey | None = None
        claim: Claim | None = None
        series: DailySeries | None = None
        for entity in entities:
            versions[entity["RowKey"]] = etag_of(entity)
            if entity["RowKey"] == _SERIES_ROW:
                row = f"{self._name}/{tenant_id}/{_SERIES_ROW}"
                series = decode_series(_series_chunks(entity), row=row)
            elif entity["RowKey"] == _CHECKED_ROW:
                if entity.get("SnapshotRowKey"):  # empty: claimed before any check completed
                    checked = SnapshotKey(tenant_id, entity["SnapshotRowKey"])
                claim = claim_from(entity, **_CLAIM)
            else:
                states[entity["RowKey"]] = state_from(entity)
        return Record(TenantAlerts(states, checked, series), claim, versions)

    def save_states(
        self,
        tenant_id: str,
        prior: Record[TenantAlerts],
        alerts: TenantAlerts,
        *,
        claim: Claim | None,
    ) -> Record[TenantAlerts]:
        """Make the tenant's states exactly `alerts` (changed rows written, rows it no longer
        holds deleted) and the claim `claim`, in one transaction that succeeds only if nothing
        read in `prior` changed meanwhile. Returns the record as now stored."""
        versions = dict(cast(Mapping[str, str], prior.version or {}))
        before = prior.state.states
        operations: list[Operation] = [
            conditional(_state_entity(tenant_id, state), versions.get(name))
            for name, state in alerts.states.items()
            if state != before.get(name) or name not in versions
        ]
        gone = [name for name in before if name not in alerts.states and name in versions]
        operations += [conditional_delete(tenant_id, name, versions[name]) for name in gone]
        if alerts.series is not None and (
            alerts.series != prior.state.series or _SERIES_ROW not in versions
        ):
            row: dict[str, Any] = {"PartitionKey": tenant_id, "RowKey": _SERIES_ROW}
            chunks = encode_series(alerts.series)
            row |= {_SERIES_PROPERTY + (str(i) if i else ""): c for i, c in enumerate(chunks)}
            operations.append(conditional(row, versions.get(_SERIES_ROW)))
        if alerts.checked is not None or claim is not None or _CHECKED_ROW in versions:
            marker: dict[str, Any] = {"PartitionKey": tenant_id, "RowKey": _CHECKED_ROW}
            marker["SnapshotRowKey"] = alerts.checked.row_key if alerts.checked else ""
            marker |= claim_properties(claim, **_CLAIM)
            operations.append(conditional(marker, versions.get(_CHECKED_ROW)))
        results = self._tables.transact(
            self._name, operations, f"the alert states of tenant {tenant_id}"
        )
        for name in gone:
            del versions[name]
        for operation, result in zip(operations, results, strict=True):
            if operation[0] != "delete" and result.get("etag"):
                versions[operation[1]["RowKey"]] = str(result["etag"])
        return Record(alerts, claim, versions)

    def ledger(self, tenant_id: str) -> TenantLedger:
        """The tenant's states as the claim helper (shared/usecases/announcing.py) uses them."""
        return TenantLedger(self, tenant_id)


@dataclass(frozen=True)
class TenantLedger:
    store: AlertStore
    tenant_id: str

    def read(self) -> Record[TenantAlerts]:
        return self.store.get_states(self.tenant_id)

    def write(
        self, prior: Record[TenantAlerts], state: TenantAlerts, *, claim: Claim | None
    ) -> Record[TenantAlerts]:
        return self.store.save_states(self.tenant_id, prior, state, claim=claim)


def _series_chunks(entity: Mapping[str, Any]) -> list[str]:
    chunks, index = [], 0
    while (name := _SERIES_PROPERTY + (str(index) if index else "")) in entity:
        chunks.append(str(entity[name]))
        index += 1
    return chunks


def _state_entity(partition: str, state: AlertState) -> dict[str, Any]:
    return {"PartitionKey": partition, "RowKey": state.name, **state_properties(state)}
