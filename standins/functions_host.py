"""Runs a function app's functions through Microsoft's Python worker, as Azure does.

The worker is `azure-functions-runtime-v1`, the v1 programming model's worker that Azure loads
for Python 3.13+ apps. It is driven in-process with the protobuf messages shipped in its wheel,
the way its own tests drive it: one WorkerInitRequest per process, a FunctionLoadRequest per
function (the worker imports the folder and refuses an entry point whose parameters or
annotations do not match function.json's bindings), then an InvocationRequest per run (the
worker converts the trigger data into func.TimerRequest / func.QueueMessage, passes the retry
context, encodes the outputs and enforces the $return rules). What it answers is what the
Functions host would see: a status, output bindings, or an exception's type and text.

What the real host does and the worker does not, kept small here:

- function.json is read, and `%SETTING%` binding expressions resolved from the app settings;
  a missing setting fails the function's load, as in the host.
- A timer function runs once per scheduled occurrence; when it fails, its `retry` block
  (fixedDelay or exponentialBackoff, maxRetryCount) re-invokes it, passing the RetryContext.
  Delays go through `sleep`, which tests replace with their clock's, so nothing is waited.
- A queue output is delivered to the one function whose queueTrigger listens on that queue.
  A failed delivery is retried until host.json's `extensions.queues.maxDequeueCount`, then the
  message goes to `<queue>-poison` (recorded in `poison`). Queue triggers ignore `retry`.

    FunctionsHost(os.environ, sleep=clock.sleep).run_timer("FetchReport") -> Cycle
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import azure_functions_runtime_v1 as worker

ROOT = Path(__file__).resolve().parent.parent
_EXPRESSION = re.compile(r"%([^%]+)%")
# What the host's timer monitor reports for a schedule that has never run (.NET DateTime.MinValue).
_NEVER = "0001-01-01T00:00:00"
# The longest chain of queue messages one delivery may lead to (continuations): a loop guard.
MAX_CHAIN = 100


class FunctionLoadError(RuntimeError):
    """The host or the worker refused to load this function; the message says why."""


class InvocationFailed(RuntimeError):
    """A function failed, after the host's last retry or redelivery of this run.

    The worker reports a failure as an RpcException: `message` is its text, the exception's
    type name then its own message (`GraphError: Graph refused ...`), and `exception_type` that
    type name alone. The exception object itself stays inside the worker, as in Azure.
    """

    def __init__(
        self, function: str, message: str, *, stack_trace: str = "", attempts: int = 1
    ) -> None:
        self.function = function
        self.message = message
        self.exception_type = message.split(":", 1)[0] if ":" in message else ""
        self.stack_trace = stack_trace
        self.attempts = attempts
        tries = "once" if attempts == 1 else f"{attempts} times"
        super().__init__(f"{function} failed ({tries}): {message}")


@dataclass(frozen=True)
class RetryOptions:
    """function.json's `retry` block: how often, and after how long, the host invokes again."""

    strategy: str
    max_retry_count: int
    delay: timedelta = timedelta(0)
    minimum_interval: timedelta = timedelta(0)
    maximum_interval: timedelta = timedelta(0)

    def delay_before(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first retry)."""
        if self.strategy == "fixedDelay":
            return self.delay.total_seconds()
        # exponentialBackoff: minimum * 2^(n-1), capped at the maximum. The real host also adds
        # a random jitter; left out so that tests can state the delays exactly.
        seconds = self.minimum_interval.total_seconds() * 2 ** (retry - 1)
        return min(seconds, self.maximum_interval.total_seconds())


@dataclass
class Delivery:
    """What happened to one queue message."""

    queue: str
    message: str
    attempts: int = 0
    poisoned: bool = False
    errors: list[InvocationFailed] = field(default_factory=list)
    then: list[Delivery] = field(default_factory=list)  # what the function's outputs queued

    def flattened(self) -> list[Delivery]:
        """This delivery and, depth first, every one its outputs led to."""
        return [self, *(d for after in self.then for d in after.flattened())]


@dataclass
class Cycle:
    """One scheduled occurrence of a timer function and everything its queue messages triggered.

    `attempts` counts the timer function's invocations: 1, plus the host's retries.
    """

    outputs: dict[str, Any]
    deliveries: list[Delivery]
    attempts: int = 1
    errors: list[InvocationFailed] = field(default_factory=list)


@dataclass(frozen=True)
class _Loaded:
    function_id: str
    bindings: list[dict[str, Any]]
    retry: RetryOptions | None


class FunctionsHost:
    """The function app at `root`, run with the app settings `environ`.

    `sleep` takes the host's delays between retries (tests pass their clock's, which records
    them); `now` dates the timer's schedule status and the queue messages' metadata.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        root: Path = ROOT,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.environ = environ
        self.root = root
        self.sleep = sleep
        self.now = now
        host = json.loads((root / "host.json").read_text())
        self.max_dequeue_count = int(
            host.get("extensions", {}).get("queues", {}).get("maxDequeueCount", 5)
        )
        self.poison: dict[str, list[str]] = {}
        self._last_occurrence: dict[str, str] = {}

    # -- function.json, as the host reads it ------------------------------------------------

    def function_names(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob("*/function.json"))

    def spec(self, name: str) -> dict[str, Any]:
        spec: dict[str, Any] = json.loads((self.root / name / "function.json").read_text())
        return spec

    def bindings(self, name: str) -> list[dict[str, Any]]:
        """The function's bindings with `%SETTING%` expressions resolved from the settings."""
        return [self._resolve(name, b) for b in self.spec(name)["bindings"]]

    def retry_options(self, name: str) -> RetryOptions | None:
        """function.json's retry block, or None without one."""
        retry = self.spec(name).get("retry")
        if retry is None:
            return None
        return RetryOptions(
            strategy=retry["strategy"],
            max_retry_count=int(retry["maxRetryCount"]),
            delay=_timespan(retry.get("delayInterval", "00:00:00")),
            minimum_interval=_timespan(retry.get("minimumInterval", "00:00:00")),
            maximum_interval=_timespan(retry.get("maximumInterval", "00:00:00")),
        )

    # -- one invocation through the worker ----------------------------------------------------

    def load(self, name: str) -> None:
        """Send the worker a FunctionLoadRequest; raise FunctionLoadError with its refusal."""
        self._load(name)

    def invoke(
        self,
        name: str,
        trigger: Any = None,
        *,
        retry_count: int = 0,
        previous_error: InvocationFailed | None = None,
    ) -> dict[str, Any]:
        """One InvocationRequest, no retries: the output bindings' values by binding name.

        `trigger` is the trigger's payload (a queue message's body; for a timer, the JSON the
        host sends is built here unless given). `retry_count` and `previous_error` make the
        RetryContext the host passes on a retry. A failure raises InvocationFailed.
        """
        loaded = self._load(name)
        protos = _protos()
        (trigger_binding,) = [b for b in loaded.bindings if b["type"].endswith("Trigger")]
        data, metadata = self._trigger_data(name, trigger_binding, trigger)
        request = protos.InvocationRequest(
            invocation_id=str(uuid.uuid4()),
            function_id=loaded.function_id,
            input_data=[protos.ParameterBinding(name=trigger_binding["name"], data=data)],
            trigger_metadata=metadata,
            retry_context=protos.FunctionRpc_pb2.RetryContext(
                retry_count=retry_count,
                max_retry_count=loaded.retry.max_retry_count if loaded.retry else 0,
                exception=protos.RpcException(
                    message=previous_error.message, stack_trace=previous_error.stack_trace
                )
                if previous_error
                else None,
            ),
        )
        response = _call(
            worker.invocation_request, protos.StreamingMessage(invocation_request=request)
        )
        if response.result.status != protos.StatusResult.Success:
            raise InvocationFailed(
                name,
                response.result.exception.message,
                stack_trace=response.result.exception.stack_trace,
                attempts=retry_count + 1,
            )
        outputs = {p.name: _value(p.data) for p in response.output_data}
        if response.HasField("return_value"):
            outputs["$return"] = _value(response.return_value)
        return outputs

    def run(self, name: str, trigger: Any = None) -> dict[str, Any]:
        """One invocation without the host's retries (see `invoke`)."""
        return self.invoke(name, trigger)

    # -- what the host adds: schedules, retries, queues ---------------------------------------

    def run_timer(self, name: str, *, retries: bool = True) -> Cycle:
        """One scheduled occurrence of timer function `name`, then deliver its queue outputs.

        A failure is retried as function.json's `retry` block says (not with retries=False);
        after the last attempt InvocationFailed is raised, carrying the last error.
        """
        timer = self._timer_json(name)
        options = self.retry_options(name) if retries else None
        errors: list[InvocationFailed] = []
        while True:
            try:
                outputs = self.invoke(
                    name,
                    timer,
                    retry_count=len(errors),
                    previous_error=errors[-1] if errors else None,
                )
                break
            except InvocationFailed as failure:
                errors.append(failure)
                if options is None or len(errors) > options.max_retry_count:
                    raise
                self.sleep(options.delay_before(len(errors)))
        deliveries = [
            delivered
            for queue, message in self._queued(name, outputs)
            for delivered in self.deliver(queue, message).flattened()
        ]
        return Cycle(outputs, deliveries, attempts=len(errors) + 1, errors=errors)

    def _queued(self, name: str, outputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The messages `name`'s queue output bindings carry, as (queue, message). A list
        (`func.Out[List[str]]`, which the worker encodes as a JSON array of strings or of
        `{"id", "body"}` objects) is one message per item, as the host enqueues it."""
        return [
            (binding["queueName"], message)
            for binding in self.bindings(name)
            if binding["type"] == "queue" and (value := outputs.get(binding["name"])) is not None
            for item in (value if isinstance(value, list) else [value])
            for message in [item["body"] if isinstance(item, dict) else item]
        ]

    def deliver(self, queue: str, message: str, *, depth: int = 0) -> Delivery:
        """Run the function triggered by `queue`, redelivering on failure as the host does,
        then deliver what its own queue outputs carry (a chain is bounded, as a guard)."""
        if depth > MAX_CHAIN:
            raise RuntimeError(f"more than {MAX_CHAIN} messages queued in a chain: a loop?")
        # Only queue triggers are resolved: a function the host cannot index (a timer whose
        # %SCHEDULE% setting is empty) does not stop the others, as in the real host.
        listeners = [
            name
            for name in self.function_names()
            for b in self.spec(name)["bindings"]
            if b["type"] == "queueTrigger" and self._resolve(name, b)["queueName"] == queue
        ]
        if len(listeners) != 1:
            raise FunctionLoadError(f"queue {queue!r} has {len(listeners)} listeners, expected 1")
        delivery = Delivery(queue, message)
        message_id = str(uuid.uuid4())
        inserted = self.now()
        while delivery.attempts < self.max_dequeue_count:
            delivery.attempts += 1
            envelope = _QueueEnvelope(message, message_id, delivery.attempts, inserted)
            try:
                outputs = self.invoke(listeners[0], envelope)
            except InvocationFailed as failure:
                delivery.errors.append(failure)
                continue
            delivery.then = [
                self.deliver(next_queue, next_message, depth=depth + 1)
                for next_queue, next_message in self._queued(listeners[0], outputs)
            ]
            return delivery
        delivery.poisoned = True
        self.poison.setdefault(f"{queue}-poison", []).append(message)
        return delivery

    # -- internals ----------------------------------------------------------------------------

    def _load(self, name: str) -> _Loaded:
        protos = _protos()
        spec = self.spec(name)
        bindings = self.bindings(name)  # a missing %SETTING% fails here, before the worker
        for binding in bindings:
            if binding["type"] == "timerTrigger" and len(binding["schedule"].split()) != 6:
                raise FunctionLoadError(
                    f"{name}: schedule {binding['schedule']!r} is not a 6-field NCRONTAB "
                    "expression (second minute hour day month day-of-week)"
                )
        retry = self.retry_options(name)
        directory = self.root / name
        # One id per function folder: the worker loads a function once per process.
        function_id = str(uuid.uuid5(uuid.NAMESPACE_URL, directory.as_uri()))
        if str(self.root) not in sys.path:
            sys.path.append(str(self.root))  # the app root, as in Azure: `shared` lives there
        metadata = protos.RpcFunctionMetadata(
            name=name,
            directory=str(directory),
            script_file=str(directory / spec.get("scriptFile", "__init__.py")),
            entry_point=spec.get("entryPoint", ""),
            bindings={
                b["name"]: protos.BindingInfo(
                    type=b["type"],
                    direction=getattr(protos.BindingInfo, b.get("direction", "in")),
                    data_type=getattr(protos.BindingInfo, b.get("dataType", "undefined")),
                )
                for b in bindings
            },
            retry_options=protos.RpcRetryOptions(
                max_retry_count=retry.max_retry_count,
                retry_strategy=getattr(protos.RpcRetryOptions, _STRATEGIES[retry.strategy]),
            )
            if retry
            else None,
        )
        response = _call(
            worker.function_load_request,
            protos.StreamingMessage(
                function_load_request=protos.FunctionLoadRequest(
                    function_id=function_id, metadata=metadata
                )
            ),
        )
        if response.result.status != protos.StatusResult.Success:
            raise FunctionLoadError(response.result.exception.message)
        return _Loaded(function_id, bindings, retry)

    def _resolve(self, function: str, binding: dict[str, Any]) -> dict[str, Any]:
        def setting(match: re.Match[str]) -> str:
            value = self.environ.get(match.group(1))
            if not value:
                raise FunctionLoadError(
                    f"{function}: the binding expression {match.group(0)} needs the app "
                    f"setting {match.group(1)}, which is not set"
                )
            return value

        return {
            key: _EXPRESSION.sub(setting, value) if isinstance(value, str) else value
            for key, value in binding.items()
        }

    def _timer_json(self, name: str) -> str:
        """What the host sends a timer trigger: the schedule's status as stored before this run.

        `Next` is this occurrence (it is due now), `Last` the previous one this host ran.
        """
        occurrence = self.now().isoformat()
        last = self._last_occurrence.get(name, _NEVER)
        self._last_occurrence[name] = occurrence
        return json.dumps(
            {
                "Schedule": {"AdjustForDST": True},
                "ScheduleStatus": {"Last": last, "Next": occurrence, "LastUpdated": last},
                "IsPastDue": False,
            }
        )

    def _trigger_data(
        self, name: str, binding: dict[str, Any], trigger: Any
    ) -> tuple[Any, dict[str, Any]]:
        protos = _protos()
        kind = binding["type"]
        if kind == "timerTrigger":
            payload = trigger if isinstance(trigger, str) else self._timer_json(name)
            return protos.TypedData(json=payload), {}
        if kind == "queueTrigger":
            envelope = (
                trigger
                if isinstance(trigger, _QueueEnvelope)
                else _QueueEnvelope(str(trigger), str(uuid.uuid4()), 1, self.now())
            )
            metadata = {
                key: protos.TypedData(json=json.dumps(value))
                for key, value in envelope.metadata().items()
            }
            return protos.TypedData(string=envelope.body), metadata
        raise FunctionLoadError(f"{name}: this host does not know trigger {kind!r}")


@dataclass(frozen=True)
class _QueueEnvelope:
    """A queue message as the host hands it over: the body plus its trigger metadata."""

    body: str
    id: str
    dequeue_count: int
    inserted: datetime

    def metadata(self) -> dict[str, Any]:
        return {
            "DequeueCount": self.dequeue_count,
            "Id": self.id,
            "InsertionTime": self.inserted.isoformat(),
            "ExpirationTime": (self.inserted + timedelta(days=7)).isoformat(),
            "NextVisibleTime": (self.inserted + timedelta(minutes=2)).isoformat(),
            "PopReceipt": uuid.uuid5(uuid.NAMESPACE_OID, f"{self.id}/{self.dequeue_count}").hex,
        }


_STRATEGIES = {"fixedDelay": "fixed_delay", "exponentialBackoff": "exponential_backoff"}
_initialized = False


def _protos() -> ModuleType:
    """The worker's protobuf messages, shipped in its wheel as the package `tests.protos`."""
    try:
        return importlib.import_module("tests.protos")
    except ImportError as exc:
        raise FunctionLoadError(
            "the protobuf messages of azure-functions-runtime-v1 cannot be imported "
            f"({exc}); run scripts/install-tools"
        ) from exc


def _call(handler: Callable[[Any], Any], message: Any) -> Any:
    """Hand the worker one message as its proxy does: with the protos to answer in."""
    global _initialized
    protos = _protos()
    if not _initialized:
        init = protos.StreamingMessage(
            worker_init_request=protos.WorkerInitRequest(host_version="4.1052")
        )
        response = asyncio.run(worker.worker_init_request(_WorkerRequest(init, protos)))
        if response.result.status != protos.StatusResult.Success:
            raise FunctionLoadError(f"the worker refused to start: {response.result.exception}")
        worker.start_threadpool_executor()
        _initialized = True
    return asyncio.run(handler(_WorkerRequest(message, protos)))


class _WorkerRequest:
    """The envelope the worker's handlers read: `request` and `properties["protos"]`."""

    def __init__(self, message: Any, protos: ModuleType) -> None:
        self.name = message.WhichOneof("content")
        self.request = message
        self.properties = {"host": "standins.functions_host", "protos": protos}


def _value(data: Any) -> Any:
    """A TypedData's Python value."""
    kind = data.WhichOneof("data")
    if kind is None:
        return None
    value = getattr(data, kind)
    return json.loads(value) if kind == "json" else value


def _timespan(text: str) -> timedelta:
    """A .NET TimeSpan as function.json writes it: `hh:mm:ss` or `d.hh:mm:ss`."""
    days, clock = text.split(".", 1) if "." in text.split(":")[0] else ("0", text)
    hours, minutes, seconds = (float(part) for part in clock.split(":"))
    return timedelta(days=int(days), hours=hours, minutes=minutes, seconds=seconds)
