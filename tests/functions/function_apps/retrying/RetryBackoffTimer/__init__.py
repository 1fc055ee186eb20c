"""Always fails, saying which attempt this was."""

from __future__ import annotations

import azure.functions as func


def main(timer: func.TimerRequest, context: func.Context) -> None:
    raise ValueError(f"attempt with retry_count={context.retry_context.retry_count}")
