"""The audience explorer: move a lifecycle threshold or pick a segment and the charts follow."""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
from IPython.display import display

from .. import charts
from ..segments import audience, lifecycle_stage, segment_columns, segment_sizes
from ..strategy import LifecycleThresholds

__all__ = ["AudienceExplorer"]


class AudienceExplorer:
    """Sliders for the lifecycle thresholds and a segment picker over assigned profiles.

    Every number comes from :mod:`workbench.segments`; the explorer only keeps
    the current choice (``thresholds``, ``segment``) and redraws. ``assigned``
    and ``sizes`` always hold what is on screen, so a notebook can save them.

    Examples
    --------
    >>> explorer = AudienceExplorer(assigned, thresholds=strategy.lifecycle)   # doctest: +SKIP
    >>> explorer.widget                                                         # doctest: +SKIP
    """

    def __init__(self, assigned: pd.DataFrame, *, thresholds: LifecycleThresholds | None = None) -> None:
        self._base = assigned
        t = thresholds or LifecycleThresholds()
        style = {"description_width": "110px"}
        self.sliders = {
            name: w.IntSlider(
                value=getattr(t, name), min=7, max=730, step=1, description=name, style=style, continuous_update=False
            )
            for name in ("new_days", "active_days", "at_risk_days", "lapsed_days")
        }
        options = ["(all customers)", *segment_columns(assigned)]
        self.segment_picker = w.Dropdown(options=options, value=options[0], description="segment", style=style)
        self.message = w.HTML()
        self.output = w.Output()
        for control in (*self.sliders.values(), self.segment_picker):
            control.observe(self._changed, names="value")
        self.widget = w.VBox(
            [
                w.HBox([w.VBox(list(self.sliders.values())), w.VBox([self.segment_picker, self.message])]),
                self.output,
            ]
        )
        self.thresholds = t
        self.segment: str | None = None
        self._refresh()

    def _changed(self, _change: object = None) -> None:
        values = {name: s.value for name, s in self.sliders.items()}
        try:
            self.thresholds = LifecycleThresholds(**values)
        except ValueError:
            self.message.value = "<b style='color:#b00'>Thresholds must grow: active &lt; at risk &lt; lapsed.</b>"
            return
        picked = self.segment_picker.value
        self.segment = None if picked.startswith("(") else picked
        self._refresh()

    def _refresh(self) -> None:
        staged = lifecycle_stage(self._base, thresholds=self.thresholds)
        if self.segment is not None:
            ids = set(audience(staged, self.segment)["customer_id"])
            staged = staged[staged["customer_id"].isin(ids)]
        self.assigned = staged
        self.sizes = segment_sizes(staged)
        self.message.value = f"<b>{len(staged):,}</b> customers shown"
        self.output.clear_output(wait=True)
        with self.output:
            display(charts.lifecycle_by_reach_chart(charts.lifecycle_by_reach(staged)))
            display(charts.segment_sizes_chart(self.sizes, kind="rfm"))

    def _ipython_display_(self) -> None:
        display(self.widget)

    @classmethod
    def show(
        cls, assigned: pd.DataFrame, *, thresholds: LifecycleThresholds | None = None, enabled: bool = True
    ) -> AudienceExplorer | str:
        """The explorer when ``enabled`` (JupyterLab), else a note: a static report has no live controls."""
        if not enabled:
            return "The audience explorer is off in this report (set interactive = True in JupyterLab)."
        return cls(assigned, thresholds=thresholds)
