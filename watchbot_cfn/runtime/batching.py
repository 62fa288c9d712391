"""Batches for SQS and SNS calls that take up to ten entries and a total payload size.

Standard library only, shared by the map-reduce helper (publishing parts) and
the dead-letter tool (moving messages back).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["BATCH_BYTES", "BATCH_ENTRIES", "size_batches"]

#: Entries in one SendMessageBatch / PublishBatch call.
BATCH_ENTRIES = 10
#: Total payload of one batch call, in bytes.
BATCH_BYTES = 256 * 1024

Item = TypeVar("Item")


def size_batches(items: Sequence[Item], size_of: Callable[[Item], int], byte_limit: int = BATCH_BYTES,
                 entry_limit: int = BATCH_ENTRIES) -> list[list[Item]]:
    """Consecutive batches of at most ``entry_limit`` items whose sizes add up to at most ``byte_limit``.

    An item larger than ``byte_limit`` goes alone in its batch (the call then says why it fails).
    """
    batches: list[list[Item]] = []
    current: list[Item] = []
    size = 0
    for item in items:
        length = size_of(item)
        if current and (len(current) == entry_limit or size + length > byte_limit):
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += length
    if current:
        batches.append(current)
    return batches
