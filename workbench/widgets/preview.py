"""An ipywidgets previewer of paired messages: pick a moment, a customer and a variant, see the pair side by side.

The widget only wires controls to :func:`workbench.messages.preview`; rendering and lint live there.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import pandas as pd

from ..messages import get_renderer, lint_sample, preview
from ..models.errors import WorkbenchError
from ..models.strategy import Strategy

__all__ = ["message_previewer"]


def message_previewer(
    profiles: pd.DataFrame,
    *,
    strategy: Strategy,
    moments: Sequence[str] | None = None,
    customers: int = 30,
    max_sms_segments: int = 2,
    templates_dir: str | None = None,
) -> widgets.VBox:
    """A JupyterLab previewer: moment, customer and variant dropdowns above the side-by-side preview.

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
            out.value = item._repr_html_()
        except WorkbenchError as exc:
            out.value = f"<pre style='color:#a61b1b;white-space:pre-wrap'>{exc}</pre>"

    def on_moment(change: dict) -> None:
        options = renderer.manifest(change["new"]).variants
        variant.unobserve(refresh, "value")
        variant.options = options
        variant.value = options[0]
        variant.observe(refresh, "value")
        refresh()

    moment.observe(on_moment, "value")
    customer.observe(refresh, "value")
    variant.observe(refresh, "value")
    refresh()
    return widgets.VBox([widgets.HBox([moment, customer, variant]), out])
