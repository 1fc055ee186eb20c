"""Always fails, saying what retry context a function without a retry block receives."""

from __future__ import annotations

import azure.functions as func


def main(timer: func.TimerRequest, context: func.Context) -> None:
    retry = context.retry_context
    raise ValueError(
        f"attempt with retry_count={retry.retry_count} max_retry_count={retry.max_retry_count}"
    )
