"""How charts display: interactive Vega in JupyterLab and in the HTML reports, static SVG where nothing runs.

Altair 6 writes Vega-Lite 6, which JupyterLab's built-in renderer does not know
(it draws Vega-Lite up to 5 and Vega 5), and its default renderer loads Vega
from a CDN, so offline it shows nothing. Here a chart is compiled to a Vega
spec on the kernel side (vl-convert, no network) and shown as
``application/vnd.vega.v5+json``, which JupyterLab draws with the Vega it
ships: tooltips, zoom and selections work with no network. For a report run
(``static=True``) the output also carries the chart as SVG; the HTML export
(:func:`workbench.reports.to_html`) turns each chart into a Vega view drawn by
the Vega libraries bundled in vl-convert and inlined once per page
(:func:`vega_bundle`), with the SVG as the fallback.

Also interaction helpers every chart module uses: :func:`zoom_x` (shift +
wheel zooms, drag pans, double-click resets, so scrolling the page still
scrolls) and :func:`legend_highlight` (click a legend entry to highlight it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import vl_convert as vlc

from ..vega import VEGA_MIME, spec_json, svg, vega_bundle
from ..vega import to_vega as _to_vega

__all__ = [
    "PAGE_WIDTH",
    "VEGA_MIME",
    "VegaChart",
    "chart_bundle",
    "legend_highlight",
    "renderer_mode",
    "spec_json",
    "to_vega",
    "use_renderer",
    "vega_bundle",
    "zoom_x",
]

#: The widest a chart may be, labels and legend included: a report page holds it without a scroll bar.
PAGE_WIDTH = 860
_MODES = ("interactive", "report", "svg", "png", "default")
_state = {"mode": "default"}


def to_vega(chart: alt.TopLevelMixin | Mapping[str, Any]) -> dict[str, Any]:
    """The chart (or a Vega-Lite spec) compiled to a Vega spec that Vega 5 and 6 both draw."""
    return _to_vega(chart.to_dict() if hasattr(chart, "to_dict") else chart)


def chart_bundle(chart: alt.TopLevelMixin | Mapping[str, Any], *, static: bool) -> dict[str, Any]:
    """The display bundle of a chart: the Vega spec, a text line, and with ``static`` the SVG as well."""
    spec = chart.to_dict() if hasattr(chart, "to_dict") else dict(chart)
    vega = to_vega(spec)
    title = _title(spec)
    bundle: dict[str, Any] = {VEGA_MIME: vega, "text/plain": f"<chart: {title}>" if title else "<chart>"}
    if static:
        bundle["image/svg+xml"] = svg(vega)
    return bundle


def _title(spec: Mapping[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return str(title or "")


def _interactive_renderer(spec: dict[str, Any], **_meta: Any) -> dict[str, Any]:
    return chart_bundle(spec, static=False)


def _report_renderer(spec: dict[str, Any], **_meta: Any) -> dict[str, Any]:
    return chart_bundle(spec, static=True)


_RENDERERS = {
    "interactive": ("workbench-interactive", _interactive_renderer),
    "report": ("workbench-report", _report_renderer),
}


def use_renderer(mode: str = "interactive", *, interactive: bool | None = None) -> None:
    """Choose how charts display (:func:`renderer_mode` tells which was chosen).

    ``interactive`` (JupyterLab: Vega drawn by Lab's own renderer, offline), ``report`` (the same plus
    a static SVG; the HTML report draws it interactively with bundled Vega), ``svg`` or ``png`` (static
    only) or ``default`` (Altair's own, which loads Vega from a CDN). ``interactive=True/False`` picks
    ``interactive`` or ``report``, so a notebook passes its ``interactive`` parameter straight through.
    """
    if interactive is not None:
        mode = "interactive" if interactive else "report"
    if mode not in _MODES:
        msg = f"chart renderer {mode!r}: use one of {', '.join(_MODES)} ('report' and 'svg' render offline)"
        raise ValueError(msg)
    if mode in _RENDERERS:
        name, renderer = _RENDERERS[mode]
        alt.renderers.register(name, renderer)
        alt.renderers.enable(name)
    else:
        alt.renderers.enable(mode)
    _state["mode"] = mode


def renderer_mode() -> str:
    """The mode last chosen with :func:`use_renderer` (``default`` before any)."""
    return _state["mode"]


def zoom_x(chart: Any) -> Any:
    """Zoom and pan along x: shift + wheel zooms, drag pans, double-click resets (page scrolling still works)."""
    return chart.add_params(
        alt.selection_interval(bind="scales", encodings=["x"], zoom="wheel![event.shiftKey]", name="zoom")
    )


def legend_highlight(chart: Any, field: str, *, name: str = "pick") -> Any:
    """Click a legend entry (or a mark) to highlight its series; the others fade. Double-click clears."""
    pick = alt.selection_point(fields=[field], bind="legend", name=name)
    return chart.add_params(pick).encode(opacity=alt.condition(pick, alt.value(1.0), alt.value(0.25)))


class VegaChart:
    """A chart written directly in Vega (for what Vega-Lite cannot draw, such as a journey's graph).

    Displays like an Altair chart under the mode of :func:`use_renderer`; ``to_dict()`` gives the spec.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = dict(spec)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.spec)

    def to_svg(self) -> str:
        """The chart as a static SVG (vl-convert, no network)."""
        return svg(to_vega(self.spec))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        mode = _state["mode"]
        if mode == "svg":
            return {"image/svg+xml": self.to_svg(), "text/plain": "<chart>"}
        if mode == "png":
            return {"image/png": vlc.vega_to_png(to_vega(self.spec)), "text/plain": "<chart>"}
        return chart_bundle(self.spec, static=mode == "report")
