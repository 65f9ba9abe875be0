"""Where a run writes when the user names no folder; where the bundled resources are (:mod:`workbench.resources`)."""

from __future__ import annotations

import os
from pathlib import Path

from ..resources import bundled, notebooks_dir, repository_root, sample_data, sample_strategy, templates_dir

__all__ = [
    "bundled",
    "default_output_root",
    "notebooks_dir",
    "repository_root",
    "resolve_output_dir",
    "sample_data",
    "sample_strategy",
    "templates_dir",
]


def default_output_root() -> Path:
    """Where runs go when no output folder is named: ``out/`` of the repository, else ``out/`` here."""
    root = repository_root()
    return (root if root is not None else Path.cwd()) / "out"


def resolve_output_dir(output_dir: str | os.PathLike[str] | None, name: str) -> Path:
    """The folder a notebook writes into: the one given, else ``out/notebooks/<name>``.

    Relative to the repository in a checkout, else to the working folder (:func:`default_output_root`).
    """
    if output_dir:
        return Path(output_dir)
    return default_output_root() / "notebooks" / name
