"""The audience explorer: move a lifecycle threshold or pick a segment and every number follows.

The explorer holds a :class:`~workbench.application.Workspace`. Moving a
threshold makes a new workspace with those thresholds
(:meth:`~workbench.application.Workspace.with_lifecycle`), so every segment
that depends on them (the lifecycle stages and the strategy's rule segments
that read ``lifecycle_stage``) is recomputed by the same code as the
command line, the simulator and the exporters. What the explorer ends on can
be written into a copy of the strategy file, a diff the analyst can review.
"""

from __future__ import annotations

import difflib
import html
import os
from pathlib import Path

import ipywidgets as w
from IPython.display import HTML, display

from .. import charts
from ..application import Workspace
from ..io import read_text, write_text
from ..models.strategy import LifecycleThresholds, with_lifecycle_text

__all__ = ["AudienceExplorer"]

_NAMES = ("new_days", "active_days", "at_risk_days", "lapsed_days")


class AudienceExplorer:
    """Sliders (with number boxes) for the lifecycle thresholds and a segment picker over a workspace.

    ``workspace`` always holds what is on screen; ``assigned`` and ``sizes``
    are its assigned profiles (filtered to the picked segment) and segment
    sizes, so a notebook can save them.

    Examples
    --------
    >>> explorer = AudienceExplorer(ws)      # doctest: +SKIP
    >>> explorer.widget                      # doctest: +SKIP
    """

    def __init__(self, workspace: Workspace) -> None:
        self._base = workspace
        self.workspace = workspace
        t = workspace.strategy.lifecycle
        style = {"description_width": "110px"}
        layout = w.Layout(width="420px")
        self.sliders = {
            name: w.BoundedIntText(
                value=getattr(t, name),
                min=1,
                max=1095,
                step=1,
                description=name,
                style=style,
                layout=w.Layout(width="200px"),
            )
            for name in _NAMES
        }
        self.tracks = {
            name: w.IntSlider(
                value=getattr(t, name),
                min=1,
                max=730 if name != "new_days" else 180,
                step=1,
                readout=False,
                continuous_update=False,
                layout=layout,
            )
            for name in _NAMES
        }
        for name in _NAMES:
            w.jslink((self.sliders[name], "value"), (self.tracks[name], "value"))
        options = ["(all customers)", *self._segment_names(workspace)]
        self.segment_picker = w.Dropdown(options=options, value=options[0], description="segment", style=style)
        self.message = w.HTML()
        self.counts = w.HTML()
        self.save_button = w.Button(description="Save thresholds to a strategy copy", layout=w.Layout(width="260px"))
        self.save_button.on_click(lambda _b: self.save())
        self.saved = w.HTML()
        self.output = w.Output()
        for control in (*self.sliders.values(), self.segment_picker):
            control.observe(self._changed, names="value")
        rows = [w.HBox([self.sliders[n], self.tracks[n]]) for n in _NAMES]
        self.widget = w.VBox(
            [
                w.HBox([w.VBox(rows), w.VBox([self.segment_picker, self.message, self.counts])]),
                w.HBox([self.save_button, self.saved]),
                self.output,
            ]
        )
        self.thresholds = t
        self.segment: str | None = None
        self._refresh()

    @staticmethod
    def _segment_names(workspace: Workspace) -> list[str]:
        return [s.name for s in workspace.strategy.segments]

    def _changed(self, _change: object = None) -> None:
        values = {name: s.value for name, s in self.sliders.items()}
        try:
            thresholds = LifecycleThresholds(**values)
        except ValueError:
            self.message.value = "<b style='color:#b00'>Thresholds must grow: active &lt; at risk &lt; lapsed.</b>"
            return
        picked = self.segment_picker.value
        self.segment = None if picked.startswith("(") else picked
        if thresholds != self.thresholds:
            self.thresholds = thresholds
            self.workspace = self._base.with_lifecycle(thresholds)
        self._refresh()

    def _refresh(self) -> None:
        ws = self.workspace
        assigned = ws.assigned
        if self.segment is not None:
            assigned = assigned[ws.membership(self.segment)]
        self.assigned = assigned
        self.sizes = ws.segment_sizes
        self.message.value = f"<b>{len(assigned):,}</b> customers shown"
        rules = self.sizes[self.sizes["kind"] == "rule"].set_index("segment")["customers"]
        lines = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{v:,}</td></tr>" for k, v in rules.items())
        self.counts.value = f"<table><tr><th>segment</th><th>customers</th></tr>{lines}</table>"
        self.output.clear_output(wait=True)
        with self.output:
            display(charts.lifecycle_by_reach_chart(charts.lifecycle_by_reach(assigned)))
            display(charts.segment_sizes_chart(self.sizes, kind="rule"))

    def strategy_diff(self, strategy_path: str | os.PathLike[str]) -> tuple[str, str]:
        """The strategy file's text with the explorer's thresholds, and a unified diff against the original."""
        original = read_text(strategy_path, what="strategy file")
        edited = with_lifecycle_text(original, self.thresholds)
        diff = "".join(
            difflib.unified_diff(
                original.splitlines(keepends=True),
                edited.splitlines(keepends=True),
                fromfile=str(strategy_path),
                tofile=f"{Path(strategy_path).stem}.edited.yaml",
            )
        )
        return edited, diff

    def save(
        self, strategy_path: str | os.PathLike[str] | None = None, folder: str | os.PathLike[str] | None = None
    ) -> Path | None:
        """Write the strategy with the explorer's thresholds next to the output (``<stem>.edited.yaml``).

        The original file is never changed; the diff is shown under the button.
        """
        source = strategy_path or self._base.strategy_source
        if source is None:
            self.saved.value = "<i>No strategy file to copy: open the workspace from a file.</i>"
            return None
        edited, diff = self.strategy_diff(source)
        target = Path(folder or Path(source).parent) / f"{Path(source).stem}.edited.yaml"
        if target.resolve() == Path(source).resolve():
            msg = f"{target} is the strategy file itself. Fix: save the copy into another folder"
            raise ValueError(msg)
        write_text(target, edited)
        self.saved.value = f"wrote <code>{html.escape(str(target))}</code><pre>{html.escape(diff) or 'no change'}</pre>"
        return target

    def _ipython_display_(self) -> None:
        display(self.widget)

    @classmethod
    def show(cls, workspace: Workspace, *, enabled: bool = True) -> AudienceExplorer | HTML:
        """The explorer when ``enabled`` (JupyterLab), else a note: a static report has no live controls."""
        if not enabled:
            return HTML(
                '<p class="wb-note" style="color:#52606d">The audience explorer (sliders for the lifecycle '
                "thresholds, a segment picker) needs a live kernel: open <code>notebooks/01_explore_audiences.ipynb"
                "</code> in JupyterLab (<code>make lab</code>) to use it.</p>"
            )
        return cls(workspace)
