"""Claim, then post, then record what was told: the one rule every post goes through.

Coverage checks, fetch health, the source switch and the weekly digest each keep what they
last told in a record (shared/stores/records.py) that a store writes only if it is unchanged
since read (an ETag, or insert-only). To post, a run:

1. decides on the record as read (`decide`: nothing, a write, or a message to post);
2. claims it: writes the state it is about to tell, not yet told, with a claim (who, since
   when), conditionally. Whoever's write wins posts; the others fail the condition, read
   again and decide again, so two runs never post the same news. A run that finds someone
   else's live claim waits a little and reads again (a post takes seconds), and gives up with
   ClaimHeldError after a few tries (a check's queue redelivers it). A claim older than the
   lease is ignored: a run that died while posting must not block the others for good;
3. posts, then records the state as told and clears the claim. A post that fails releases
   the claim at once (the state stays "not told", so the retry or the next run says it) and
   raises.

A claim that cannot be released after a failed post (storage failing too) is logged and lapses
after its lease; the post's error is raised either way. Every claim has a finite lease: the
weekly digest's is an hour (shared/usecases/digest.py), so that such a claim does not hold
its occurrence forever (`lease=None`, a claim that never lapses, is for callers that would
rather lose a notice than risk posting it twice).

`announce_source_switch` is that rule for REPORT_SOURCE=auto's move to the v1.0 source, as the
`announce(reason, now)` callable the composition root hands the report source.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from shared.errors import ClaimHeldError, MonitorError, NotificationError, StateConflictError
from shared.messages.health import source_switch_message
from shared.messages.model import Message
from shared.notify.teams import Notifier
from shared.stores.monitor import MonitorStore, SourceSwitch
from shared.stores.records import Claim, Record

log = logging.getLogger(__name__)

# A claim holds its record for at most this long (a post takes seconds).
LEASE = timedelta(minutes=5)
# Seconds to wait, times the try, before reading a claimed record again.
WAIT = 2.0
# Reading and deciding again after a conflict or a claim: more than a handful means trouble.
MAX_DECISIONS = 5

S = TypeVar("S")
P = TypeVar("P", bound="Plan[Any]")


class Ledger(Protocol[S]):
    """Where what was told is recorded: a store's record, written only if unchanged."""

    def read(self) -> Record[S]: ...

    def write(self, prior: Record[S], state: S, *, claim: Claim | None) -> Record[S]:
        """Store `state` and `claim` if nothing changed since `prior` was read, else raise
        StateConflictError."""
        ...


@dataclass(frozen=True)
class Plan(Generic[S]):
    """What a decision asks for. Without a message, `state` is stored at once. With one,
    `state` is held under the claim while posting (and kept if the post fails), and `told`
    is stored once the message was posted."""

    state: S
    told: S
    message: Message | None = None


@dataclass(frozen=True)
class Announced(Generic[P]):
    plan: P | None  # None: the decision was to write nothing
    posted: bool


def announce(
    ledger: Ledger[S],
    decide: Callable[[S], P | None],
    *,
    post: Callable[[Message], None],
    owner: str,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    lease: timedelta | None = LEASE,
    busy: Callable[[Claim], ClaimHeldError] | None = None,
    known: Record[S] | None = None,
    attempts: int = MAX_DECISIONS,
) -> Announced[P]:
    """Decide on `ledger`'s record and apply the plan under a claim (see the module's doc).

    `owner` names this run: a claim of its own (a retry of the same check) is no obstacle.
    `lease` None: a claim never expires (at most once). `known`: the record as read already,
    a first guess only: a decision on it to write nothing is made again on a fresh read.
    Raises StateConflictError or ClaimHeldError after `attempts` decisions, or the post's
    error once the claim is released.
    """
    record = known if known is not None else ledger.read()
    for attempt in range(1, attempts + 1):
        try:
            outcome = _apply(ledger, record, decide, post, owner, clock(), lease, busy)
            if outcome.plan is None and record is known:
                # "Nothing to do" on a first guess writes nothing, so no condition can refuse
                # it: decide once more on the record as stored, which may have changed.
                record = ledger.read()
                return _apply(ledger, record, decide, post, owner, clock(), lease, busy)
            return outcome
        except (StateConflictError, ClaimHeldError) as exc:
            if attempt == attempts:
                raise
            log.info("%s; deciding again (attempt %d)", exc, attempt + 1)
            if isinstance(exc, ClaimHeldError):
                sleep(WAIT * attempt)  # it posts within seconds, then writes
            record = ledger.read()
    raise AssertionError("unreachable")  # the loop returns or raises


def _apply(
    ledger: Ledger[S],
    record: Record[S],
    decide: Callable[[S], P | None],
    post: Callable[[Message], None],
    owner: str,
    now: datetime,
    lease: timedelta | None,
    busy: Callable[[Claim], ClaimHeldError] | None,
) -> Announced[P]:
    held = record.claim
    if held is not None and held.owner != owner and (lease is None or now - held.since < lease):
        raise busy(held) if busy else ClaimHeldError(f"run {held.owner} is posting this notice")
    plan = decide(record.state)
    if plan is None:
        return Announced(None, posted=False)
    if plan.message is None:
        if plan.state != record.state or held is not None:
            ledger.write(record, plan.state, claim=None)
        return Announced(plan, posted=False)
    claimed = ledger.write(record, plan.state, claim=Claim(owner, now))
    try:
        post(plan.message)
    except BaseException:
        # Whatever stopped the post, give the claim back at once: the retry (or the next run,
        # or another check) must not wait out the lease for a notice nobody is posting.
        _release(ledger, claimed, plan.state)
        raise
    try:
        ledger.write(claimed, plan.told, claim=None)
    except StateConflictError as exc:
        # Posted, but someone took the record after the lease ran out: not decided again,
        # which would post it twice; their write stands.
        log.warning("posted, but the record changed meanwhile and keeps their state: %s", exc)
    return Announced(plan, posted=True)


def _release(ledger: Ledger[S], claimed: Record[S], state: S) -> None:
    try:
        ledger.write(claimed, state, claim=None)
    except MonitorError as exc:
        log.error(
            "the post failed and its claim could not be released (it lapses after its lease): %s",
            exc,
        )


def announce_source_switch(
    monitor: MonitorStore,
    notifier: Notifier,
    *,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
) -> Callable[[str, datetime], bool]:
    """The `announce(reason, now)` a report source calls when REPORT_SOURCE=auto moves to the
    v1.0 source for good: says so once in Teams and records the switch; True once it is
    recorded (by this run or another). A post that fails is logged, not raised (the fetch goes
    on), and answers False: the switch is then not recorded, so the next run tries beta again,
    finds it gone, and says it again."""

    def announce_switch(reason: str, now: datetime) -> bool:
        def decide(told: SourceSwitch | None) -> Plan[SourceSwitch | None] | None:
            if told is not None:
                return None  # said already, by another run
            message = source_switch_message(reason, now)
            return Plan(state=None, told=SourceSwitch(reason, now), message=message)

        try:
            announce(
                monitor.source_switch(),
                decide,
                post=notifier.post_message,
                owner=uuid.uuid4().hex[:12],
                clock=clock,
                sleep=sleep,
            )
        except NotificationError as exc:
            log.error("could not announce the move to the v1.0 source in Teams: %s", exc)
            return False
        except (StateConflictError, ClaimHeldError) as exc:
            log.warning("another run is announcing the move to the v1.0 source: %s", exc)
            return False
        return True

    return announce_switch
