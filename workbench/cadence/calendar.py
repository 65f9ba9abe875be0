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
    # ((day + 3) % 7) * 1440 + minute of the day, in one step: (local + 3 days) modulo a week
    return (local + _EPOCH_WEEKDAY * 1440) % MINUTES_PER_WEEK


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
        self._flat = off.ravel()
        self.n = n
        # for each zone and slot, the UTC minute the next offset begins (NEVER: none in the table)
        following = np.full(off.shape, n, dtype=np.int64)
        for i, row in enumerate(off):
            starts = np.flatnonzero(np.diff(row) != 0) + 1  # slots where a new offset begins
            following[i] = np.append(starts, n)[np.searchsorted(starts, np.arange(n), side="right")]
        self._change_at = np.where(following >= n, NEVER, self.t0 + following * SLOT).ravel()

    def local_and_change(self, t: np.ndarray, zone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`local` of ``t``, and the UTC minutes from ``t`` to the next change of the zone's offset (at
        least 1; about ``NEVER`` when the table has none), from one look-up of the slot.

        Within that span local minutes and UTC minutes advance together, so a wait counted on the local clock
        is a wait in UTC only up to there (a clock that springs forward or falls back breaks the equality).
        """
        at = self._at(t, zone)
        return t + self._flat[at], self._change_at[at] - t

    def local(self, t: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Local wall-clock minutes since the epoch of UTC minutes ``t`` in zone indices ``zone``."""
        out: np.ndarray = t + self._flat[self._at(t, zone)]
        return out

    def _at(self, t: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Where each (zone, UTC minute) is in the flattened tables (times outside the table take its ends)."""
        at: np.ndarray = zone * self.n + np.minimum(np.maximum((t - self.t0) // SLOT, 0), self.n - 1)
        return at


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
        out: np.ndarray = self.masks.ravel()[mask_id * MINUTES_PER_WEEK + mow]
        return out

    def wait(self, mow: np.ndarray, mask_id: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.waits.ravel()[mask_id * MINUTES_PER_WEEK + mow]
        return out


def _other_zone(zones: np.ndarray, k: int) -> np.ndarray | None:
    """The rows whose ``k``-th zone is not their first (None: every row).

    A customer's zones are padded to the width of the table by repeating the first, and a zone that is
    the first again gives the first zone's answer: only these rows need the ``k``-th zone looked at.
    """
    if k == 0:
        return None
    return np.flatnonzero(zones[:, k] != zones[:, 0])


def allowed_all(zt: ZoneTable, ms: MaskSet, t: np.ndarray, zones: np.ndarray, mask_id: np.ndarray) -> np.ndarray:
    """True where ``t`` is allowed by ``mask_id`` in every zone of the row of ``zones`` (shape n x Z)."""
    ok = np.ones(len(t), dtype=bool)
    for k in range(zones.shape[1]):
        rows = _other_zone(zones, k)
        if rows is None:
            ok &= ms.allowed(minute_of_week(zt.local(t, zones[:, 0])), mask_id)
        elif rows.size:
            ok[rows] &= ms.allowed(minute_of_week(zt.local(t[rows], zones[rows, k])), mask_id[rows])
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
        zs = zones[todo]
        ids = mask_id[todo]
        for k in range(zones.shape[1]):
            rows = _other_zone(zs, k)
            # a local wait that crosses a change of offset stops at the change and is counted again from there
            # (the span to the change is at least a minute: a wait of 0 or a negative "never" stays as it is)
            if rows is None:
                local, until = zt.local_and_change(tt, zs[:, 0])
                w = np.minimum(ms.wait(minute_of_week(local), ids), until)
                never |= w < 0
                step = np.maximum(step, w)
            elif rows.size:
                local, until = zt.local_and_change(tt[rows], zs[rows, k])
                w = np.minimum(ms.wait(minute_of_week(local), ids[rows]), until)
                never[rows] |= w < 0
                step[rows] = np.maximum(step[rows], w)
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
