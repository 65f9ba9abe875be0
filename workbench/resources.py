"""Where what ships inside the package is: the templates, the notebooks, the sample data and strategy.

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
    "notebooks_dir",
    "repository_root",
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
