"""Local time in bulk: UTC offsets per (zone, 15-minute slot) over the horizon, and weekly window checks.

Times are integer minutes since the Unix epoch (UTC). A zone's offset is looked
up in a table computed once per zone over the horizon, not per touch, so a
check over millions of touches is a few array gathers. Every real zone changes
its offset on a 15-minute boundary, so the table is exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..policy import MINUTES_PER_WEEK, weekly_wait

__all__ = ["SLOT", "MaskSet", "ZoneTable", "minute_of_week", "to_minutes"]

SLOT = 15
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
NEVER = np.iinfo(np.int64).max // 4


def to_minutes(ts: object) -> int:
    """Minutes since the epoch of a tz-aware timestamp (floored to the minute)."""
    t = pd.Timestamp(ts)
    if t.tzinfo is None:
        t = t.tz_localize("UTC")
    return int(t.value // 60_000_000_000)


def minute_of_week(local: np.ndarray) -> np.ndarray:
    """Minute of the week (Monday 00:00 = 0) of local wall-clock minutes since the epoch."""
    day = local // 1440
    return ((day + _EPOCH_WEEKDAY) % 7) * 1440 + (local - day * 1440)


class ZoneTable:
    """UTC offsets (minutes) of some zones for every 15-minute slot between ``t0`` and ``t1``."""

    def __init__(self, zones: Sequence[str], t0: int, t1: int) -> None:
        self.zones = list(dict.fromkeys(zones))
        self.index = {z: i for i, z in enumerate(self.zones)}
        self.t0 = (t0 // SLOT) * SLOT
        n = max((t1 - self.t0) // SLOT + 2, 2)
        utc = pd.date_range(pd.Timestamp(self.t0 * 60, unit="s", tz="UTC"), periods=n, freq=f"{SLOT}min")
        naive = utc.tz_localize(None).as_unit("s").asi8
        off = np.zeros((max(len(self.zones), 1), n), dtype=np.int16)
        for i, zone in enumerate(self.zones):
            local = utc.tz_convert(zone).tz_localize(None).as_unit("s").asi8
            off[i] = ((local - naive) // 60).astype(np.int16)
        self.offsets = off
        self.n = n

    def local(self, t: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Local wall-clock minutes since the epoch of UTC minutes ``t`` in zone indices ``zone``."""
        slot = np.clip((t - self.t0) // SLOT, 0, self.n - 1)
        return t + self.offsets[zone, slot]


class MaskSet:
    """Weekly allowed-minute masks (and the wait to the next allowed minute), registered once each."""

    def __init__(self) -> None:
        self._keys: dict[bytes, int] = {}
        self._masks: list[np.ndarray] = []
        self.masks = np.ones((0, MINUTES_PER_WEEK), dtype=bool)
        self.waits = np.zeros((0, MINUTES_PER_WEEK), dtype=np.int32)

    def add(self, mask: np.ndarray) -> int:
        key = np.packbits(mask).tobytes()
        if key not in self._keys:
            self._keys[key] = len(self._masks)
            self._masks.append(np.asarray(mask, dtype=bool))
            self.masks = np.stack(self._masks)
            self.waits = np.stack([weekly_wait(m) for m in self._masks])
        return self._keys[key]

    def allowed(self, mow: np.ndarray, mask_id: np.ndarray) -> np.ndarray:
        return self.masks[mask_id, mow]

    def wait(self, mow: np.ndarray, mask_id: np.ndarray) -> np.ndarray:
        return self.waits[mask_id, mow]


def allowed_all(zt: ZoneTable, ms: MaskSet, t: np.ndarray, zones: np.ndarray, mask_id: np.ndarray) -> np.ndarray:
    """True where ``t`` is allowed by ``mask_id`` in every zone of the row of ``zones`` (shape n x Z)."""
    ok = np.ones(len(t), dtype=bool)
    for k in range(zones.shape[1]):
        ok &= ms.allowed(minute_of_week(zt.local(t, zones[:, k])), mask_id)
    return ok


def next_allowed_all(
    zt: ZoneTable,
    ms: MaskSet,
    t: np.ndarray,
    zones: np.ndarray,
    mask_id: np.ndarray,
    limit: np.ndarray,
    *,
    rounds: int = 24,
) -> np.ndarray:
    """The first minute >= ``t`` allowed in every zone; ``NEVER`` when none is found at or before ``limit``."""
    t = t.copy()
    todo = np.arange(len(t))
    for _ in range(rounds):
        if todo.size == 0:
            break
        tt = t[todo]
        step = np.zeros(todo.size, dtype=np.int64)
        never = np.zeros(todo.size, dtype=bool)
        for k in range(zones.shape[1]):
            w = ms.wait(minute_of_week(zt.local(tt, zones[todo, k])), mask_id[todo])
            never |= w < 0
            step = np.maximum(step, w)
        done = step == 0
        t[todo[never]] = NEVER
        tt = tt + step
        over = tt > limit[todo]
        t[todo[over & ~never]] = NEVER
        move = ~done & ~never & ~over
        t[todo[move]] = tt[move]
        todo = todo[move]
    t[todo] = NEVER
    return t
