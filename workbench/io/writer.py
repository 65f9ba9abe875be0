"""Writing outputs: atomically, into the folder the user named, never over what the user gave.

Writing goes to a temporary file in the target folder that is renamed into
place, so a crash never leaves half a file, and a run writes into a new folder
so that nothing a user had is overwritten.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..models.errors import FileError

__all__ = ["atomic_write", "file_sha256", "files_table", "new_run_dir", "write_table", "write_text"]


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path`` in one step.

    The temporary file sits in the target folder (same file system), so the
    final rename is atomic: readers see the old file or the whole new one.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return target


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a DataFrame as CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``), atomically."""
    target = Path(path)
    name = target.name
    if name.endswith(".parquet"):
        return atomic_write(target, lambda p: df.to_parquet(p, index=False))
    if name.endswith(".csv.gz"):
        # gzip without a name or time in its header, so the same table always gives the same bytes
        return atomic_write(target, lambda p: p.write_bytes(gzip.compress(df.to_csv(index=False).encode(), mtime=0)))
    if name.endswith(".csv"):
        return atomic_write(target, lambda p: df.to_csv(p, index=False))
    raise FileError(f"cannot write {target}: use a .csv, .csv.gz or .parquet file name")


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write a text file (UTF-8), atomically."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def files_table(paths: list[Path] | list[str]) -> pd.DataFrame:
    """What a notebook wrote: one row per file with its size, for display."""
    rows = [{"file": str(p), "bytes": Path(p).stat().st_size} for p in paths]
    return pd.DataFrame(rows, columns=["file", "bytes"])


def new_run_dir(root: str | os.PathLike[str], *, prefix: str = "") -> Path:
    """Create a fresh, empty folder ``root/<run-id>`` (UTC time plus a random suffix); returns its absolute path."""
    base = Path(root).resolve()
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    while True:
        run = base / f"{prefix}{stamp}-{secrets.token_hex(3)}"
        try:
            run.mkdir()
            return run
        except FileExistsError:  # pragma: no cover - 16M suffixes a second
            continue


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
