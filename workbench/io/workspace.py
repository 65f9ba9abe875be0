"""Open a workspace from files: the dataset, the strategy and the template library the user named.

Every argument left out takes what ships with the package: the sample data,
the sample strategy and the bundled templates, so ``open_workspace()`` works
from an empty folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..application import Workspace
from ..messages.library import load_library
from ..models.errors import TemplateError
from .files import load_strategy
from .resources import sample_data, sample_strategy, templates_dir
from .spark import SPARK_PREFIX, read_spark_tables, reads_with_spark
from .tables import load_dataset

__all__ = ["load_templates", "open_workspace"]

PathLike = str | os.PathLike[str]

# The workspaces opened last, by the signature of their files (path, size, modification time): a
# kernel that runs several reports on the same files loads the data and builds the profiles once.
# A workspace is immutable, so sharing it is safe; a changed file changes the signature.
_RECENT: dict[tuple[Any, ...], Workspace] = {}
_KEEP = 2


def _signature(path: Path | str) -> tuple[Any, ...]:
    """What says a file or folder is unchanged: every file with its size and time (a database URL: nothing)."""
    if isinstance(path, str):
        return (path,)
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    return tuple((str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.exists())


def load_templates(folder: PathLike | None = None) -> tuple[Path, Mapping[str, Any]]:
    """The template folder (default: the bundled library) and its manifests by moment.

    A folder without a single moment is refused: checks over no templates would check nothing.
    """
    root = Path(folder) if folder else templates_dir()
    library = load_library(root)
    if not library:
        msg = (
            f"template folder {root} holds no moment (a folder with manifest.yaml and its parts). "
            "Fix: pass the folder of the template library, e.g. templates/"
        )
        raise TemplateError(msg)
    return root, library


def open_workspace(
    data: PathLike | None = None,
    strategy: PathLike | None = None,
    *,
    as_of: object = None,
    templates: PathLike | None = None,
    lifecycle: Mapping[str, int | None] | None = None,
    max_sms_segments: int | None = None,
    policy: Mapping[str, Any] | None = None,
    engine: str = "duckdb",
    master: str | None = None,
    partitions: int | None = None,
) -> Workspace:
    """Read and validate the data and the strategy, load the template library, and return the workspace.

    Parameters
    ----------
    data, strategy, templates
        Paths; None (or empty) means the bundled sample data, sample strategy and templates.
    as_of
        Profile date; None means the day of the latest order (:func:`workbench.application.default_as_of`).
    lifecycle, max_sms_segments, policy
        Overrides of the strategy (None values are ignored); the workspace records them for the report.
    engine, master, partitions
        Where the work runs (``duckdb`` or ``spark``) and the Spark master (:class:`~workbench.application.Workspace`).
        On the Spark engine a folder of Parquet tables and a schema of Spark's catalog (``spark:shop``)
        are read by Spark (:func:`~workbench.io.read_spark_tables`); other sources are loaded here and
        handed to Spark.

    The same files (unchanged since) give the same workspace, with what it computed already, so
    reports run one after the other in a kernel share the loaded data and the profiles.
    """
    strategy_path = Path(strategy or sample_strategy())
    given = str(data) if data else ""
    named = "://" in given or given.startswith(SPARK_PREFIX)  # a database URL or a schema of Spark's catalog
    source: Path | str = given if named else Path(data or sample_data())
    templates_path = Path(templates) if templates else templates_dir()
    key = (
        *(_signature(p) for p in (source, strategy_path, templates_path)),
        str(source),
        str(strategy_path),
        str(as_of),
        engine,
        master,
        partitions,
    )
    by_spark = engine == "spark" and reads_with_spark(source)
    ws = _RECENT.get(key) if not (named or by_spark) else None  # a database or Spark table may change under a name
    if ws is None:
        if by_spark:  # Parquet folders and Spark tables: read by Spark
            from ..engines.spark import session

            dataset: Any = read_spark_tables(session(master), source)
        else:
            dataset = load_dataset(source)
        loaded = load_strategy(strategy_path)
        root, library = load_templates(templates)
        ws = Workspace.create(
            dataset,
            loaded,
            as_of=as_of,
            library=library,
            templates_dir=root,
            engine=engine,
            master=master,
            partitions=partitions,
            strategy_source=strategy_path,
        )
        _RECENT[key] = ws
        while len(_RECENT) > _KEEP:
            _RECENT.pop(next(iter(_RECENT)))
    return ws.with_lifecycle(lifecycle).with_overrides(max_sms_segments=max_sms_segments, policy=policy)
