"""Accepts JSON work items; anything else fails, naming the message's queue metadata."""

from __future__ import annotations

import json

import azure.functions as func


def main(msg: func.QueueMessage) -> None:
    body = msg.get_body().decode("utf-8")
    try:
        json.loads(body)
    except ValueError:
        raise ValueError(
            f"not a work item: {body!r} (dequeue_count={msg.dequeue_count}, id={msg.id}, "
            f"inserted={msg.insertion_time.isoformat() if msg.insertion_time else None}, "
            f"pop_receipt={bool(msg.pop_receipt)})"
        ) from None
