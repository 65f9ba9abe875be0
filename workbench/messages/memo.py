"""Bounded memos: what the messages code works out once per distinct input and keeps.

Keys come from data (names, links, texts, places), so every memo is bounded: when one is full it is
emptied and starts again, which keeps memory flat and costs one recomputation per key afterwards.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["remember"]

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, limit: int) -> V:
    """Keep ``value`` under ``key`` in ``memo`` (emptied first when it holds ``limit`` entries); give it back."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value
