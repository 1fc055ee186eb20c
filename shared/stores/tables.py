"""Table plumbing: clients, tables created on first need, errors translated, conditional writes.

The azure-data-tables types stay inside shared/stores/. Every failure leaves it as a
StorageError that says which table and what to check; azure-core's own retry policy (tuned by
the composition root) has already retried transient failures by then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
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
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from shared.core.alerting import AlertState
from shared.errors import StateConflictError, StorageError
from shared.stores.records import Claim

log = logging.getLogger(__name__)

# What Table Storage answers when a conditional write finds the entity changed, already there,
# or gone: someone else wrote first.
_CONFLICT_STATUSES = (404, 409, 412)

T = TypeVar("T")
Operation = tuple[Any, ...]  # one operation of a table transaction


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

    def transact(
        self, name: str, operations: list[Operation], what: str
    ) -> list[Mapping[str, Any]]:
        """Submit conditional operations in one transaction (one partition); StateConflictError
        if another writer came first. Returns each operation's result (its new ETag)."""
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

        return self.write(name, f"save {what} in {name}", submit)

    def query(self, name: str, doing: str, query: str, **parameters: str) -> list[Any]:
        """Every entity `query` finds; none if the table does not exist yet."""
        table = self.get(name)
        try:
            with self.failures(f"{doing} from {name}"):
                return list(table.query_entities(query, parameters=parameters))
        except ResourceNotFoundError:  # the table is created by the first write
            return []

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


def conditional(entity: dict[str, Any], etag: str | None) -> Operation:
    """Replace the entity only if unchanged since read; insert it only if it is still absent."""
    if etag is None:
        return ("create", entity)
    return ("update", entity, {"mode": UpdateMode.REPLACE, **if_match(etag)})


def conditional_delete(partition: str, row: str, etag: str) -> Operation:
    return ("delete", {"PartitionKey": partition, "RowKey": row}, if_match(etag))


def if_match(etag: str) -> dict[str, Any]:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def etag_of(entity: Any) -> str:
    return str(entity.metadata["etag"])


def _table_missing(exc: HttpResponseError) -> bool:
    return exc.status_code == 404 and getattr(exc, "error_code", None) == "TableNotFound"


def state_properties(state: AlertState) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Firing": state.firing,
        "ToldFiring": state.told_firing,
        "Detail": state.detail[:30_000],  # a string property holds at most 32K characters
    }
    # Table Storage has no null: an absent time is an absent property.
    if state.since is not None:
        properties["Since"] = state.since
    if state.last_told is not None:
        properties["LastTold"] = state.last_told
    return properties


def state_from(entity: Any) -> AlertState:
    return AlertState(
        name=entity["RowKey"],
        firing=bool(entity.get("Firing", False)),
        since=utc(entity["Since"]) if entity.get("Since") else None,
        told_firing=bool(entity.get("ToldFiring", False)),
        last_told=utc(entity["LastTold"]) if entity.get("LastTold") else None,
        detail=entity.get("Detail", ""),
    )


def claim_properties(claim: Claim | None, *, owner: str, since: str) -> dict[str, Any]:
    """A claim as two properties of the row it guards (named `owner` and `since`)."""
    return {} if claim is None else {owner: claim.owner, since: claim.since}


def claim_from(entity: Any, *, owner: str, since: str) -> Claim | None:
    if not entity.get(owner) or not entity.get(since):
        return None
    return Claim(str(entity[owner]), utc(entity[since]))


def utc(value: datetime) -> datetime:
    # The SDK returns its own datetime subclass; make it a plain, aware datetime.
    return datetime.fromtimestamp(value.timestamp(), tz=timezone.utc)
