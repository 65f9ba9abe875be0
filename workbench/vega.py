"""Vega specs as the reports and notebooks show them: compiled, drawn to SVG, and the script that draws them.

Light on purpose (no Altair): the process that runs the notebooks and writes the HTML reports needs
these and nothing else of the charts. vl-convert does every conversion locally (no network).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import vl_convert as vlc

__all__ = ["VEGA_MIME", "spec_json", "svg", "to_vega", "vega_bundle"]

#: The mime type JupyterLab's built-in Vega renderer draws (it ships Vega 5).
VEGA_MIME = "application/vnd.vega.v5+json"
_V5_SCHEMA = "https://vega.github.io/schema/vega/v5.json"


def to_vega(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A Vega-Lite (or Vega) spec compiled to a Vega spec that Vega 5 and 6 both draw."""
    is_vega = str(spec.get("$schema", "")).split("/")[-2:-1] == ["vega"]
    vega = dict(spec) if is_vega else vlc.vegalite_to_vega(dict(spec))
    vega["$schema"] = _V5_SCHEMA
    return vega


def svg(vega: Mapping[str, Any]) -> str:
    """A Vega spec drawn as SVG. The same spec is drawn once per process (a report shows a chart in
    the notebook and again in its own HTML page); the most recent drawings are kept."""
    return _svg(json.dumps(vega, sort_keys=True, separators=(",", ":")))


@functools.lru_cache(maxsize=64)
def _svg(spec: str) -> str:
    return str(vlc.vega_to_svg(json.loads(spec)))


@functools.cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script (from vl-convert, no network), built once per process."""
    # the stub makes snippet required; vl-convert's function defaults it (snippet=None: its own snippet)
    return vlc.javascript_bundle()  # type: ignore[call-arg]


def spec_json(spec: Mapping[str, Any]) -> str:
    """A spec as JSON safe inside ``<script>`` (no ``</`` can close the tag)."""
    return json.dumps(spec, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")
