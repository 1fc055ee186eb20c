"""Runs the app's functions the way the Azure Functions host does, without Core Tools.

For each function folder it reads `function.json`, resolves `%SETTING%` expressions from the
environment (a missing one fails, as in the host), imports the folder as a module, checks that
every binding name matches a parameter of the entry point and every parameter a binding (the
Python worker refuses to load the function otherwise), builds the trigger and output bindings,
and calls the entry point. Queue outputs are delivered to the function whose queueTrigger
listens on that queue, with the host's redelivery rule: a failed run is retried until
host.json's `extensions.queues.maxDequeueCount`, then the message is poison.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions.timer import TimerRequest

ROOT = Path(__file__).resolve().parent.parent
_EXPRESSION = re.compile(r"%([^%]+)%")


class FunctionLoadError(RuntimeError):
    """The host would refuse to load this function."""


class _Out(func.Out[Any]):
    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


@dataclass
class Delivery:
    """What happened to one queue message."""

    queue: str
    message: str
    attempts: int = 0
    poisoned: bool = False
    errors: list[BaseException] = field(default_factory=list)


@dataclass
class Cycle:
    """One timer run and everything its queue messages triggered."""

    outputs: dict[str, Any]
    deliveries: list[Delivery]


class FunctionsHost:
    def __init__(self, environ: Mapping[str, str], root: Path = ROOT) -> None:
        self.environ = environ
        self.root = root
        host = json.loads((root / "host.json").read_text())
        self.max_dequeue_count = int(
            host.get("extensions", {}).get("queues", {}).get("maxDequeueCount", 5)
        )

    def function_names(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob("*/function.json"))

    def bindings(self, name: str) -> list[dict[str, Any]]:
        spec = json.loads((self.root / name / "function.json").read_text())
        return [self._resolve(name, b) for b in spec["bindings"]]

    def run(self, name: str, trigger_value: Any = None) -> dict[str, Any]:
        """Invoke `name` once; return its output bindings' values by binding name."""
        spec = json.loads((self.root / name / "function.json").read_text())
        bindings = self.bindings(name)
        module = importlib.import_module(name)
        entry = getattr(module, spec.get("entryPoint", "main"))
        self._check_signature(name, entry, bindings)
        kwargs: dict[str, Any] = {}
        outs: dict[str, _Out] = {}
        for binding in bindings:
            if binding["name"] == "$return":
                continue
            if binding["direction"] == "in":
                kwargs[binding["name"]] = self._trigger(name, binding, trigger_value)
            else:
                outs[binding["name"]] = kwargs[binding["name"]] = _Out()
        if "context" in inspect.signature(entry).parameters:
            kwargs["context"] = None  # no retry context: every run is its own last try
        result = entry(**kwargs)
        outputs = {binding_name: out.get() for binding_name, out in outs.items()}
        if any(b["name"] == "$return" for b in bindings):
            outputs["$return"] = result
        return outputs

    def run_timer(self, name: str) -> Cycle:
        """Run a timer function, then deliver each queue message it output."""
        outputs = self.run(name, TimerRequest(past_due=False))
        deliveries = []
        for binding in self.bindings(name):
            value = outputs.get(binding["name"])
            if binding["type"] == "queue" and value is not None:
                deliveries.append(self.deliver(binding["queueName"], value))
        return Cycle(outputs, deliveries)

    def deliver(self, queue: str, message: str) -> Delivery:
        """Run the function triggered by `queue`, redelivering on failure as the host does."""
        listeners = [
            name
            for name in self.function_names()
            for b in self.bindings(name)
            if b["type"] == "queueTrigger" and b["queueName"] == queue
        ]
        if len(listeners) != 1:
            raise FunctionLoadError(f"queue {queue!r} has {len(listeners)} listeners, expected 1")
        delivery = Delivery(queue, message)
        while delivery.attempts < self.max_dequeue_count:
            delivery.attempts += 1
            try:
                self.run(listeners[0], message)
                return delivery
            except Exception as exc:  # the host catches everything a function raises
                delivery.errors.append(exc)
        delivery.poisoned = True  # the host moves it to `<queue>-poison`
        return delivery

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

    def _check_signature(self, name: str, entry: Any, bindings: list[dict[str, Any]]) -> None:
        parameters = set(inspect.signature(entry).parameters) - {"context"}
        names = {b["name"] for b in bindings} - {"$return"}
        if parameters != names:
            raise FunctionLoadError(
                f"{name}: function.json binds {sorted(names)} but main() takes {sorted(parameters)}"
            )

    def _trigger(self, name: str, binding: dict[str, Any], value: Any) -> Any:
        kind = binding["type"]
        if kind == "timerTrigger":
            if len(binding["schedule"].split()) != 6:
                raise FunctionLoadError(
                    f"{name}: schedule {binding['schedule']!r} is not a 6-field NCRONTAB "
                    "expression (second minute hour day month day-of-week)"
                )
            return value if value is not None else TimerRequest(past_due=False)
        if kind == "queueTrigger":
            return func.QueueMessage(id=str(uuid.uuid4()), body=value)
        raise FunctionLoadError(f"{name}: this stand-in host does not know trigger {kind!r}")
