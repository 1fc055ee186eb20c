"""Fails its first FIXTURE_FAILURES attempts, then queues what the worker passed it."""

from __future__ import annotations

import json
import os

import azure.functions as func


def main(timer: func.TimerRequest, context: func.Context, item: func.Out[str]) -> None:
    retry = context.retry_context
    if retry.retry_count < int(os.environ.get("FIXTURE_FAILURES", "0")):
        raise RuntimeError(
            f"attempt with retry_count={retry.retry_count} max_retry_count={retry.max_retry_count}"
        )
    item.set(
        json.dumps(
            {
                "retry_count": retry.retry_count,
                "max_retry_count": retry.max_retry_count,
                "previous_error": retry.rpc_exception.message,
                "past_due": timer.past_due,
                "schedule_status": timer.schedule_status,
            }
        )
    )
