"""Reading YAML that other people wrote, with bounds: no document can make the workbench do unbounded work.

A small YAML file can expand into millions of nodes through nested aliases
(``a: &a [x, x, x]``, ``b: &b [*a, *a, *a]`` ...). :func:`load_yaml` composes
the document (aliases stay shared, nothing is expanded yet), counts the nodes
it would expand to, and refuses it past :data:`MAX_NODES` before building
anything; text longer than :data:`MAX_CHARS` is refused before parsing.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import WorkbenchError

__all__ = ["MAX_CHARS", "MAX_NODES", "load_yaml"]

#: The longest document read (characters); a strategy file is a few kilobytes.
MAX_CHARS = 2_000_000
#: The most nodes a document may expand to, aliases counted every time they are used.
MAX_NODES = 200_000


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes the document expands to, counting each alias use; stops counting past ``limit``."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > 200:
            return limit + 1
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
                if total > limit:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item, depth + 1)
                if total > limit:
                    break
        sizes[key] = total
        return total

    return size(root, 0)


def load_yaml(text: str, *, source: str, error: type[WorkbenchError] = WorkbenchError) -> Any:
    """Parse YAML text safely and within bounds; a problem raises ``error`` naming ``source``, the line and a fix."""
    if len(text) > MAX_CHARS:
        msg = f"{source}: {len(text):,} characters, more than the {MAX_CHARS:,} read. Fix: split or shorten the file"
        raise error(msg)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source} line {mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", exc)
        msg = f"{where}: not valid YAML ({problem}). Fix: check indentation and quoting on that line"
        raise error(msg) from None
    if root is None:
        return None
    nodes = _expanded_size(root, MAX_NODES)
    if nodes > MAX_NODES:
        msg = (
            f"{source}: the document expands to more than {MAX_NODES:,} values (aliases repeated inside aliases, "
            "or nesting deeper than 200). Fix: write the values out instead of nesting aliases"
        )
        raise error(msg)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:  # pragma: no cover - compose accepted it
        msg = f"{source}: not valid YAML ({exc}). Fix: check indentation and quoting"
        raise error(msg) from None
    except RecursionError:
        msg = f"{source}: the document nests too deeply. Fix: flatten it"
        raise error(msg) from None
