"""An ipywidgets previewer of paired messages: pick a moment, a customer and a variant, see the pair side by side.

The widget only wires controls to :func:`workbench.messages.preview`; rendering and lint live there.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd
from IPython.display import HTML

from ..messages import get_renderer, lint_sample, preview
from ..models.errors import WorkbenchError
from ..models.strategy import Strategy

__all__ = ["message_previewer", "show_previewer"]

# Which email widths the preview shows: CSS added to the preview page (both by default).
_VIEWS = {
    "desktop and mobile": "",
    "desktop": "figure:has(.frame-box.mobile){display:none}",
    "mobile": "figure:has(.frame-box.desktop){display:none}",
}


def message_previewer(
    profiles: pd.DataFrame,
    *,
    strategy: Strategy,
    moments: Sequence[str] | None = None,
    customers: int = 30,
    max_sms_segments: int = 2,
    templates_dir: str | None = None,
) -> widgets.VBox:
    """A JupyterLab previewer: moment, variant, customer and width controls above the side-by-side preview.

    Parameters
    ----------
    profiles
        Profiles to pick customers from; the dropdown lists ``customers`` of them, edge cases first
        (see :func:`workbench.messages.lint_sample`).
    strategy
        The strategy whose brand facts the templates use.
    moments
        Moments to offer (default: the whole library).
    customers
        How many customers the customer dropdown offers.
    max_sms_segments
        The policy's SMS segment limit for the lint findings.
    templates_dir
        Another template library.

    Returns
    -------
    ipywidgets.VBox
    """
    renderer = get_renderer(strategy, templates_dir=templates_dir)
    names = list(moments) if moments else list(renderer.library)
    sample = lint_sample(profiles, n=customers)
    labels = [
        (f"{r['customer_id']} · {r['first_name'] if isinstance(r.get('first_name'), str) else '(no name)'}", i)
        for i, r in enumerate(sample.to_dict("records"))
    ]
    moment = widgets.Dropdown(options=names, value=names[0], description="Moment")
    customer = widgets.Dropdown(options=labels, value=0, description="Customer")
    variant = widgets.Dropdown(options=renderer.manifest(names[0]).variants, description="Variant")
    view = widgets.ToggleButtons(options=list(_VIEWS), value="desktop and mobile", description="Email at")
    out = widgets.HTML()

    def refresh(*_: object) -> None:
        try:
            item = preview(
                moment.value,
                sample.iloc[customer.value].to_dict(),
                strategy=strategy,
                variant=variant.value,
                renderer=renderer,
                max_sms_segments=max_sms_segments,
            )
            page = item.html.replace("</style>", _VIEWS[view.value] + "</style>", 1)
            out.value = _framed(page)
        except WorkbenchError as exc:
            out.value = f"<pre style='color:#a61b1b;white-space:pre-wrap'>{exc}</pre>"

    def on_moment(change: dict[str, Any]) -> None:
        options = renderer.manifest(change["new"]).variants
        variant.unobserve(refresh, "value")
        variant.options = options
        variant.value = options[0]
        variant.observe(refresh, "value")
        refresh()

    moment.observe(on_moment, "value")
    customer.observe(refresh, "value")
    variant.observe(refresh, "value")
    view.observe(refresh, "value")
    refresh()
    return widgets.VBox([widgets.HBox([moment, variant, customer]), view, out])


def _framed(page: str) -> str:
    return (
        f'<iframe sandbox="" title="message preview" srcdoc="{html.escape(page, quote=True)}" '
        'style="width:100%;height:1250px;border:1px solid #d9e2ec;border-radius:8px"></iframe>'
    )


def show_previewer(ws: Any, *, enabled: bool = True, moments: Sequence[str] | None = None) -> widgets.VBox | HTML:
    """The previewer over a workspace's customers in JupyterLab; in a static report, the first moment's pair.

    ``ws`` is a :class:`workbench.application.Workspace` (its assigned profiles, strategy, templates and
    SMS limit).
    """
    if enabled:
        return message_previewer(
            ws.assigned,
            strategy=ws.strategy,
            moments=moments or None,
            max_sms_segments=ws.max_sms_segments,
            templates_dir=str(ws.templates_dir) if ws.templates_dir else None,
        )
    names = list(moments) if moments else list(ws.library or [])
    renderer = get_renderer(ws.strategy, templates_dir=str(ws.templates_dir) if ws.templates_dir else None)
    names = names or list(renderer.library)
    item = preview(
        names[0], ws.assigned.iloc[0], strategy=ws.strategy, renderer=renderer, max_sms_segments=ws.max_sms_segments
    )
    note = (
        '<p class="wb-note" style="color:#52606d">One pair shown; the previewer (moment, variant, customer, '
        "desktop or mobile width) needs a live kernel: open the notebook in JupyterLab. Every preview of the "
        "gallery is linked in the gallery table below.</p>"
    )
    return HTML(note + _framed(item.html))
