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
from .spark import read_spark_tables, reads_with_spark
from .tables import load_dataset

__all__ = ["load_templates", "open_workspace"]

PathLike = str | os.PathLike[str]


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
    """
    strategy_path = Path(strategy or sample_strategy())
    source = data or sample_data()
    if engine == "spark" and reads_with_spark(source):  # Parquet folders and Spark tables: read by Spark
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
    return ws.with_lifecycle(lifecycle).with_overrides(max_sms_segments=max_sms_segments, policy=policy)
