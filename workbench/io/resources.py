"""What ships inside the package: the templates, the notebooks, the sample data and the sample strategy.

Found with :mod:`importlib.resources`, so an installed wheel works from any
folder, with nothing beside it. In a checkout of the repository the same
names point at the repository's ``templates/``, ``notebooks/`` and
``data/`` (the package's ``bundled/`` folder links to them).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

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


def bundled(name: str) -> Path:
    """A file or folder under the package's ``bundled/`` resources, as a path on disk."""
    path = Path(str(resources.files("workbench") / "bundled" / name))
    return path.resolve()


def templates_dir() -> Path:
    """The template library: ``$WORKBENCH_TEMPLATES`` when set, else the bundled templates."""
    env = os.environ.get("WORKBENCH_TEMPLATES")
    return Path(env) if env else bundled("templates")


def notebooks_dir() -> Path:
    """The report notebooks: ``$WORKBENCH_NOTEBOOKS`` when set, else the bundled notebooks."""
    env = os.environ.get("WORKBENCH_NOTEBOOKS")
    return Path(env) if env else bundled("notebooks")


def sample_data() -> Path:
    """The bundled sample dataset (5,000 synthetic customers)."""
    return bundled("sample")


def sample_strategy() -> Path:
    """The bundled sample strategy file."""
    return bundled("strategy.yaml")


def repository_root() -> Path | None:
    """The repository the package runs from (a checkout with ``pyproject.toml``), or None for an installed wheel."""
    here = Path(str(resources.files("workbench"))).resolve().parent
    return here if (here / "pyproject.toml").exists() and (here / "workbench").is_dir() else None


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
