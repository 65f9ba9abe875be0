"""Writing outputs: atomically, only inside the output the user named, never over what the user gave.

Every file the workbench writes goes through this module:

- :func:`atomic_write` writes a temporary file in the target folder and renames
  it into place, so a crash never leaves half a file;
- :class:`OutputFolder` is the one writer of a run or a command: every path it
  writes is resolved (symbolic links included) and refused when it lands
  outside its folder, so a name taken from data (``../..``, ``/``) can never
  decide where a file goes; names built from data go through
  :func:`~workbench.models.names.safe_name`;
- :func:`staged_output` makes a command's outputs appear all at once: they are
  written into a hidden folder beside the target and moved into place at the
  end, so a failure leaves nothing behind and an existing output is replaced
  only with ``force``;
- CSV files meant for people are written with spreadsheet formulas defused
  (OWASP's CSV-injection guidance): a text cell that starts with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return gets a leading ``'``.

Tables are pandas DataFrames or Arrow tables (a dataset's tables as loading and
the generator hold them). An Arrow table's CSV text is the text pandas writes
for its DataFrame, made by Arrow and NumPy a block of rows at a time and put
into lines by Arrow's CSV writer (:mod:`workbench.io.csv_text`); its Parquet
file is written by Arrow directly.
``.csv.gz`` is compressed by ISA-L (``isal``, level 1) on a thread of its own
while the text is made, into a gzip stream whose header carries no name or
time, so the same table always gives the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ..models.errors import FileError, WorkbenchError
from ..models.names import safe_name
from ..models.tables import FORMULA_START
from .csv_text import csv_blocks

__all__ = [
    "OutputFolder",
    "atomic_write",
    "defuse_formulas",
    "file_sha256",
    "files_table",
    "new_run_dir",
    "refuse_inputs",
    "safe_name",
    "staged_output",
    "write_table",
    "write_text",
]

PathLike = str | os.PathLike[str]


def atomic_write(path: PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path`` in one step.

    The temporary file sits in the target folder (same file system), so the
    final rename is atomic: readers see the old file or the whole new one.
    """
    target = Path(path)
    if target.is_dir():
        msg = f"cannot write {target}: it is a folder. Fix: name a file inside it, or another path"
        raise FileError(msg)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except (FileExistsError, NotADirectoryError):
        blocker = _file_in_the_way(target.parent)
        msg = f"cannot write {target}: {blocker} is a file, not a folder. Fix: choose another path"
        raise FileError(msg) from None
    except OSError as exc:
        msg = f"cannot write {target}: {exc.strerror}. Fix: choose a folder you may write to, with free space"
        raise FileError(msg) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        msg = f"cannot write {target}: {exc.strerror}. Fix: choose a folder you may write to, with free space"
        raise FileError(msg) from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return target


def _file_in_the_way(folder: Path) -> Path:
    for parent in (folder, *folder.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return folder


def defuse_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell a spreadsheet would run as a formula starts with ``'`` (OWASP).

    Numbers are left alone (``-5`` stays a number); only text columns change.
    """
    out = df.copy(deep=False)
    for col in out.columns:
        values = out[col]
        if not (pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)):
            continue
        text = values.astype("string")
        risky = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
        if risky.any():
            out[col] = values.where(~risky, "'" + text)
    return out


def write_table(df: pd.DataFrame | pa.Table, path: PathLike, *, for_people: bool = False) -> Path:
    """Write a table as CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``), atomically.

    ``df`` is a pandas DataFrame or an Arrow table; an Arrow table is written as its DataFrame would be
    (the same CSV text), without making the DataFrame. ``for_people`` defuses spreadsheet formulas in CSV
    text cells (:func:`defuse_formulas`); data files meant to be read back (a dataset, Parquet) are written
    as they are.
    """
    target = Path(path)
    name = target.name
    if name.endswith(".parquet"):
        if isinstance(df, pa.Table):
            return atomic_write(target, lambda p: _write_parquet(df, p))
        return atomic_write(target, lambda p: df.to_parquet(p, index=False))
    if not name.endswith((".csv", ".csv.gz")):
        msg = f"cannot write {target}: use a .csv, .csv.gz or .parquet file name"
        raise FileError(msg)
    table = df
    if for_people:
        table = defuse_formulas(df if isinstance(df, pd.DataFrame) else df.to_pandas())

    def blocks() -> Iterator[bytes | memoryview]:
        if isinstance(table, pa.Table):
            yield from csv_blocks(table)
        else:
            yield table.to_csv(index=False).encode()

    if name.endswith(".csv.gz"):
        return atomic_write(target, lambda p: _write_gzip(p, blocks()))
    return atomic_write(target, lambda p: _write_plain(p, blocks()))


#: ISA-L's compression level (0-3): 1 is about as fast as 0 and packs tighter; 2 and 3 are slower.
GZIP_LEVEL = 1


def _write_gzip(path: Path, blocks: Iterator[bytes | memoryview]) -> None:
    """gzip with ISA-L, compressing on a thread of its own (blocks of 1 MiB, each with the 32 KiB before it
    as its dictionary: the bytes depend only on the text)."""
    from isal import igzip_threaded

    with (
        open(path, "wb") as raw,
        igzip_threaded.open(raw, "wb", compresslevel=GZIP_LEVEL, threads=1) as fh,  # type: ignore[no-untyped-call]
    ):
        for block in blocks:
            fh.write(block)


def _write_plain(path: Path, blocks: Iterator[bytes | memoryview]) -> None:
    with open(path, "wb") as fh:
        for block in blocks:
            fh.write(block)


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Arrow's Parquet writer; dictionary pages only for the columns that are dictionary-encoded already
    (text of few values), not tried and given up on for ids, times and amounts.

    The file holds Parquet's own types only (no Arrow schema beside them): a column of few values reads
    back as the text it is, as from a file written from pandas, whatever reads it (DuckDB, Spark, Arrow).
    """
    import pyarrow.parquet as pq

    coded = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    pq.write_table(table, path, use_dictionary=coded or False, store_schema=False)


def write_text(path: PathLike, text: str) -> Path:
    """Write a text file (UTF-8), atomically."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


class OutputFolder:
    """The one writer of a run or a command: every file it writes stays inside ``root``.

    Paths are given relative to the folder (``"audiences/vip.csv"``); a path that
    is absolute, climbs out with ``..``, or passes through a symbolic link that
    leads outside, is refused with a :class:`FileError` before anything is
    written. ``written`` lists every file written, in order.
    """

    def __init__(self, root: PathLike) -> None:
        self.root = Path(root).resolve()
        if self.root.exists() and not self.root.is_dir():
            msg = f"{self.root} is a file, not a folder. Fix: name a new or empty folder for the outputs"
            raise FileError(msg)
        self.written: list[Path] = []

    def path(self, relative: PathLike) -> Path:
        """The absolute path of ``relative`` inside the folder, or :class:`FileError` when it would leave it."""
        rel = Path(relative)
        if rel.is_absolute() or not str(relative).strip():
            msg = f"refused to write {relative!s}: outputs are named relative to {self.root}"
            raise FileError(msg)
        target = (self.root / rel).resolve()
        if target != self.root and self.root not in target.parents:
            msg = (
                f"refused to write {relative!s}: it resolves to {target}, outside the output folder {self.root}. "
                "Names built from data are encoded with safe_name; check the names and symbolic links in the folder"
            )
            raise FileError(msg)
        return target

    def write_text(self, relative: PathLike, text: str) -> Path:
        """Write a UTF-8 text file inside the folder, atomically."""
        return self._done(write_text(self.path(relative), text))

    def write_bytes(self, relative: PathLike, data: bytes) -> Path:
        """Write a binary file inside the folder, atomically."""
        return self._done(atomic_write(self.path(relative), lambda p: p.write_bytes(data)))

    def write_table(self, relative: PathLike, df: pd.DataFrame, *, for_people: bool = True) -> Path:
        """Write a table inside the folder (CSV text cells defused for spreadsheets unless ``for_people=False``)."""
        return self._done(write_table(df, self.path(relative), for_people=for_people))

    def _done(self, path: Path) -> Path:
        self.written.append(path)
        return path


def refuse_inputs(output: PathLike, inputs: Iterable[PathLike | None]) -> None:
    """Refuse an output that is, or is inside, or contains, a file or folder the same command reads."""
    out = Path(output).resolve()
    for given in inputs:
        if given is None:
            continue
        source = Path(given).resolve()
        if out == source or source in out.parents or out in source.parents:
            msg = (
                f"the output {output} would overwrite or sit inside the input {given}. "
                "Fix: write the output somewhere else; inputs are never modified"
            )
            raise FileError(msg)


@contextlib.contextmanager
def staged_output(target: PathLike, *, force: bool = False, what: str = "files") -> Iterator[OutputFolder]:
    """A command's output folder, written all at once.

    The outputs are written into a hidden folder beside ``target`` and moved
    into place when the block ends; when it raises, they are removed and
    ``target`` is left as it was. A non-empty ``target`` is refused unless
    ``force`` (then it is replaced as a whole, only after the new outputs are
    complete).
    """
    final = Path(target)
    if final.exists() and not final.is_dir():
        msg = f"{final} is a file, not a folder. Fix: name a new or empty folder for the {what}"
        raise FileError(msg)
    if final.is_dir() and any(final.iterdir()) and not force:
        msg = f"{final} is not empty. Fix: choose a new folder, or pass --force to replace its {what}"
        raise WorkbenchError(msg)  # a refusal to overwrite, not a failure to write
    parent = final.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=parent))
    except (FileExistsError, NotADirectoryError):
        msg = f"cannot create {final}: {_file_in_the_way(parent)} is a file, not a folder. Fix: choose another path"
        raise FileError(msg) from None
    except OSError as exc:
        msg = f"cannot create {final}: {exc.strerror}. Fix: choose a folder you may write to"
        raise FileError(msg) from None
    try:
        yield OutputFolder(stage)
        old = None
        if final.exists():
            old = parent / f".{final.name}.replaced-{secrets.token_hex(4)}"
            final.rename(old)
        stage.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def files_table(paths: Iterable[PathLike]) -> pd.DataFrame:
    """What a notebook wrote: one row per file with its size, for display."""
    rows = [{"file": str(p), "bytes": Path(p).stat().st_size} for p in paths]
    return pd.DataFrame(rows, columns=["file", "bytes"])


def new_run_dir(root: PathLike, *, prefix: str = "") -> Path:
    """Create a fresh, empty folder ``root/<run-id>`` (UTC time plus a random suffix); returns its absolute path."""
    base = Path(root).resolve()
    if base.exists() and not base.is_dir():
        msg = f"{root} is a file, not a folder. Fix: pass --out with a folder for the runs"
        raise FileError(msg)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        msg = f"cannot create {root}: {_file_in_the_way(base)} is a file, not a folder. Fix: choose another --out"
        raise FileError(msg) from None
    except OSError as exc:
        msg = f"cannot create {root}: {exc.strerror}. Fix: choose a folder you may write to"
        raise FileError(msg) from None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    while True:
        run = base / f"{prefix}{stamp}-{secrets.token_hex(3)}"
        try:
            run.mkdir()
            return run
        except FileExistsError:  # pragma: no cover - 16M suffixes a second
            continue
        except OSError as exc:
            msg = f"cannot create a run folder in {base}: {exc.strerror}. Fix: choose a folder you may write to"
            raise FileError(msg) from None


def file_sha256(path: PathLike) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
