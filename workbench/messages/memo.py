"""Bounded memos: what the messages code works out once per distinct input and keeps.

Keys come from data (names, links, texts, places), so every memo is bounded: when one is full it is
emptied and starts again, which keeps memory flat and costs one recomputation per key afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["heap_set_aside", "remember"]

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, limit: int) -> V:
    """Keep ``value`` under ``key`` in ``memo`` (emptied first when it holds ``limit`` entries); give it back."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value


@contextmanager
def heap_set_aside() -> Iterator[Callable[[], None]]:
    """Leave the objects alive on entry (the memos filled so far, the profiles, the libraries) out of the
    garbage collector's passes until the block ends (:func:`gc.freeze`); gives ``settle``, which sets
    aside what is alive when it is called too.

    Rendering and linting many customers makes millions of short-lived objects and keeps some in memos;
    each full collection they set off walks every object of the process, which in a notebook's kernel
    is most of it, and every collection walks the entries the memos kept since the last. Objects made
    inside the block are collected as usual, except that a reference cycle alive at a ``settle`` and
    dropped later waits for the block's end and the next full collection. A heap someone else has set
    aside is left as it is (``settle`` then does nothing).
    """
    if gc.get_freeze_count():
        yield _nothing
        return
    gc.freeze()
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def _nothing() -> None:
    return None
