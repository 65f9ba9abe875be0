"""What a report shows first, and tables formatted for people.

Each report opens with :func:`header` (which strategy, which data, which date,
what differs from the strategy) and a headline of what matters for its
question (:func:`audience_headline`, :func:`value_summary`,
:func:`messages_headline`, :func:`cadence_headline`, :func:`journeys_headline`,
:func:`measure_headline`), then the detail. :func:`table` formats any frame for
a reader: no index, thousands separators, percentages, dates without
microseconds, integers as integers, files as links relative to the run folder,
long tables collapsed, and an empty table replaced by the reason it is empty.

Everything here returns a displayable value (HTML, Markdown, a chart, or a
:class:`Section` of several) and prints nothing.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown
from IPython.display import display as _show

from . import charts
from .application import Plan, Workspace
from .cadence import touches_per_customer_week
from .exporters import ExportResult, to_mermaid
from .journeys.diff import describe_trigger
from .models.journey import Journey

__all__ = [
    "Section",
    "Table",
    "audience_headline",
    "cadence_headline",
    "export_verdicts",
    "files_frame",
    "format_frame",
    "gallery_table",
    "header",
    "journey_diagrams",
    "journey_overview",
    "journeys_headline",
    "measure_headline",
    "messages_headline",
    "metrics_by_channel",
    "readout_header",
    "sms_cost_table",
    "table",
    "value_summary",
    "winning_arms",
]

_MISSING = "–"


def _label(value: Any) -> str:
    return html.escape(str(value))


# ---------------------------------------------------------------- sections


@dataclass
class Section:
    """Several outputs shown in order by one notebook cell (a headline, its tables and charts)."""

    parts: list[Any] = field(default_factory=list)

    def add(self, *parts: Any) -> Section:
        self.parts.extend(p for p in parts if p is not None)
        return self

    def _ipython_display_(self) -> None:
        for part in self.parts:
            _show(part)


def _cards(items: Sequence[tuple[str, str, str]]) -> str:
    """Key figures as cards: (figure, what it counts, its denominator or context)."""
    cells = "".join(
        '<div style="border:1px solid #d9e2ec;border-radius:6px;padding:.5rem .8rem;min-width:9rem;'
        'background:#f8fafc">'
        f'<div style="font-size:1.45rem;font-weight:600;color:#1f2933">{_label(figure)}</div>'
        f'<div style="font-size:.85rem;color:#334e68">{_label(what)}</div>'
        f'<div style="font-size:.75rem;color:#627d98">{_label(context)}</div></div>'
        for figure, what, context in items
    )
    return f'<div class="wb-cards" style="display:flex;flex-wrap:wrap;gap:.6rem;margin:.4rem 0 .8rem">{cells}</div>'


def _headline(title: str, cards: Sequence[tuple[str, str, str]], points: Iterable[str]) -> HTML:
    items = "".join(f"<li>{p}</li>" for p in points)
    body = f'<h2 class="wb-headline">{_label(title)}</h2>{_cards(cards)}'
    if items:
        body += f'<ul class="wb-points" style="margin-top:.2rem">{items}</ul>'
    return HTML(f'<section class="wb-summary">{body}</section>')


def _pct(part: float, whole: float, digits: int = 1) -> str:
    return f"{part / whole:.{digits}%}" if whole else _MISSING


# ---------------------------------------------------------------- tables for people

_PERCENT_SUFFIXES = ("_rate", "_share", "share", "rate", "p_alive")


def _is_percent(name: str, values: pd.Series) -> bool:
    lowered = name.lower()
    if not (lowered.endswith(_PERCENT_SUFFIXES) or lowered.startswith(("relative_", "share_")) or " (÷" in lowered):
        return False
    finite = values[np.isfinite(values)]
    return bool(len(finite)) and float(finite.abs().max()) <= 10


def _number(value: float) -> str:
    if not math.isfinite(value):
        return _MISSING
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:,.2f}"
    if size == 0:
        return "0"
    return f"{value:.3g}"


def _format_column(name: str, column: pd.Series, *, percent: set[str], links: set[str], base: Path | None) -> pd.Series:
    """One column as text (HTML-escaped, links as anchors)."""
    missing = column.isna()
    if name in links:
        return column.map(lambda v: _MISSING if _na(v) else _link(v, base))
    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(column):
        stamps = pd.to_datetime(column)
        clean = stamps.dropna()
        midnight = bool(len(clean)) and bool((clean == clean.dt.normalize()).all())
        fmt = "%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M"
        text = stamps.dt.strftime(fmt)
    elif pd.api.types.is_bool_dtype(column):
        text = column.map(lambda v: _MISSING if _na(v) else ("yes" if v else "no"))
    elif pd.api.types.is_numeric_dtype(column):
        values = pd.to_numeric(column, errors="coerce").astype("float64")
        finite = values[np.isfinite(values)]
        if name in percent or (not percent and _is_percent(name, values)):
            digits = 1 if not len(finite) or finite.abs().max() >= 0.01 else 2
            text = values.map(lambda v: _MISSING if not math.isfinite(v) else f"{v:.{digits}%}")
        elif len(finite) and bool((finite == finite.round()).all()) and finite.abs().max() < 1e15:
            text = values.map(lambda v: _MISSING if not math.isfinite(v) else f"{v:,.0f}")
        else:
            text = values.map(_number)
        return text.where(~missing, _MISSING)
    else:
        text = column.map(lambda v: _MISSING if _na(v) else _plain(v))
        return text.map(_label)
    return text.where(~missing, _MISSING).map(_label)


def _na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    return str(value)


def _relative(path: Any, base: Path | None) -> str:
    p = Path(str(path))
    if not p.is_absolute():
        return p.as_posix()
    root = (base or Path.cwd()).resolve()
    try:
        return p.resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(p.resolve(), root)).as_posix()


def _link(path: Any, base: Path | None) -> str:
    rel = _relative(path, base)
    return f'<a href="{html.escape(rel, quote=True)}" target="_blank">{html.escape(rel)}</a>'


def format_frame(
    frame: pd.DataFrame,
    *,
    percent: Iterable[str] = (),
    links: Iterable[str] | None = None,
    base: str | os.PathLike[str] | None = None,
    rename: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The frame as text for people (HTML-escaped): see :func:`table` for the rules."""
    percent_set = set(percent)
    link_set = set(links) if links is not None else {c for c in frame.columns if str(c) in ("file", "path")}
    root = Path(base) if base is not None else None
    flat = frame.reset_index(drop=True)
    out = pd.DataFrame(
        {str(c): _format_column(str(c), flat[c], percent=percent_set, links=link_set, base=root) for c in flat.columns}
    )
    header = {c: c for c in out.columns}
    for c in frame.columns:
        col = frame[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            header[str(c)] = f"{c} (UTC)"
    header.update(rename or {})
    return out.rename(columns=header)


class Table:
    """A table for people: see :func:`table`."""

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        caption: str | None = None,
        empty: str = "Nothing to show.",
        max_rows: int = 12,
        percent: Iterable[str] = (),
        links: Iterable[str] | None = None,
        base: str | os.PathLike[str] | None = None,
        rename: Mapping[str, str] | None = None,
    ) -> None:
        self.frame = frame
        self.caption = caption
        self.empty = empty
        self.max_rows = max_rows
        self.text = format_frame(frame, percent=percent, links=links, base=base, rename=rename)
        self.numeric = [
            pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns
        ]

    def _rows_html(self, rows: pd.DataFrame) -> str:
        return "".join(
            "<tr>"
            + "".join(
                f'<td style="text-align:{"right" if num else "left"}">{value}</td>'
                for value, num in zip(row, self.numeric, strict=True)
            )
            + "</tr>"
            for row in rows.itertuples(index=False)
        )

    def _table_html(self, rows: pd.DataFrame, *, caption: str | None) -> str:
        head = "".join(
            f'<th style="text-align:{"right" if num else "left"}">{_label(c)}</th>'
            for c, num in zip(self.text.columns, self.numeric, strict=True)
        )
        cap = f'<caption style="caption-side:top;text-align:left;color:#52606d">{caption}</caption>' if caption else ""
        return (
            f'<table class="wb-table">{cap}<thead><tr>{head}</tr></thead><tbody>{self._rows_html(rows)}</tbody></table>'
        )

    def _repr_html_(self) -> str:
        caption = _label(self.caption) if self.caption else None
        if self.frame.empty:
            lead = f"<b>{caption}</b>: " if caption else ""
            return f'<p class="wb-empty" style="color:#52606d;font-style:italic">{lead}{_label(self.empty)}</p>'
        if len(self.text) <= self.max_rows:
            return self._table_html(self.text, caption=caption)
        shown = self._table_html(self.text.head(self.max_rows), caption=caption)
        rest = self._table_html(self.text.iloc[self.max_rows :], caption=None)
        more = len(self.text) - self.max_rows
        return (
            f'<div class="wb-long">{shown}<details><summary style="cursor:pointer;color:#1d4ed8">'
            f"Show the other {more:,} of {len(self.text):,} rows</summary>{rest}</details></div>"
        )

    def __repr__(self) -> str:
        if self.frame.empty:
            return self.empty
        shown: str = self.text.head(self.max_rows).to_string(index=False)
        return shown


def table(frame: pd.DataFrame | None, **options: Any) -> Table:
    """A frame formatted for people.

    No index; integers (and floats that are all whole) with thousands separators; columns named
    ``*rate``, ``*share``, ``relative_*`` or ``p_alive`` (or listed in ``percent``) as percentages;
    other numbers to 2 decimals or 3 significant digits; timestamps without seconds (dates alone when
    every time is midnight; UTC said in the header); ``yes``/``no`` for booleans; ``–`` for missing;
    the ``file`` and ``path`` columns (or those in ``links``) as links relative to ``base`` (default:
    the working folder, which is the run folder in a report run). Longer than ``max_rows`` (12), the
    rest is folded under "Show the other N rows". An empty frame shows ``empty``: say why it is empty.
    """
    return Table(frame if frame is not None else pd.DataFrame(), **options)


def files_frame(paths: Iterable[Any]) -> pd.DataFrame:
    """One row per file written: ``file`` (shown as a link) and ``size`` in kB."""
    rows = [
        {"file": str(p), "kB": round(Path(p).stat().st_size / 1000, 1) if Path(p).exists() else None} for p in paths
    ]
    return pd.DataFrame(rows, columns=["file", "kB"])


def gallery_table(gallery: pd.DataFrame, folder: str | os.PathLike[str], **options: Any) -> Table:
    """The preview gallery (one row per preview) with each file a link, subject and SMS kept whole."""
    frame = gallery.copy()
    if "file" in frame.columns:
        frame["file"] = [str(Path(folder) / f) for f in frame["file"]]
        frame = frame[["file", *[c for c in frame.columns if c != "file"]]]
    options.setdefault("caption", "Previews (segments: SMS segments for this customer; findings: lint rows)")
    options.setdefault("empty", "No preview: no moment was chosen or the library is empty.")
    options.setdefault("max_rows", 15)
    return table(frame, links=["file"], **options)


# ---------------------------------------------------------------- header


def header(ws: Workspace, title: str) -> Markdown:
    """The report's opening lines: strategy, data, profile date (and why), and every override of the strategy."""
    lines = [
        f"**{_label(title)}** for strategy *{_label(ws.strategy.name)}*",
        "",
        f"- data: `{_label(ws.data_source or 'in memory')}` ({len(ws.dataset.customers):,} customers, "
        f"{len(ws.dataset.orders):,} orders)",
        f"- strategy file: `{_label(ws.strategy_source or 'in memory')}`",
        f"- profiles as of **{ws.as_of_label}** ({_label(ws.as_of_source)})",
    ]
    if ws.overrides:
        lines.append("- overrides of the strategy (parameters given to this report):")
        for name, value in ws.overrides.items():
            lines.append(f"  - `{_label(name)}` = **{_label(value)}** (strategy file: {_label(ws.replaced.get(name))})")
    else:
        lines.append("- every setting comes from the strategy file (no overrides)")
    return Markdown("\n".join(lines))


def readout_header(
    readout: Any, *, dataset: str, data_path: str | None = None, strategy_path: str | None = None
) -> Markdown:
    """The results report's opening lines: which data, which settings, what is compared against what."""
    lines = [
        f"**Measure results** for *{_label(dataset)}*",
        "",
        f"- data: `{_label(data_path or 'the bundled sample')}`",
        f"- strategy file (attribution windows, health thresholds): `{_label(strategy_path or 'the bundled sample')}`",
        f"- arms compared on `{_label(readout.arm)}` against the control **{_label(readout.control)}**; metrics: "
        f"{_label(', '.join(readout.metrics_compared))}",
    ]
    notes = "".join(f"<li>{_label(n)}</li>" for n in readout.notes)
    lines.append(
        f"\n<details><summary>How it was measured ({len(readout.notes)} notes)</summary><ul>{notes}</ul></details>"
    )
    return Markdown("\n".join(lines))


# ---------------------------------------------------------------- audience


def _strategy_defaults(ws: Workspace) -> Workspace | None:
    """The same workspace with the strategy file's lifecycle thresholds, when the report overrides them."""
    before = {k.split(".", 1)[1]: v for k, v in ws.replaced.items() if k.startswith("lifecycle.")}
    if not before:
        return None
    return ws.with_lifecycle(before)


def audience_headline(ws: Workspace) -> Section:
    """Who can be reached, by which channel, the largest segments, and what the overrides changed."""
    sizes = ws.segment_sizes
    total = len(ws.assigned)
    reach = sizes[sizes["kind"] == "reach"].set_index("segment")["customers"]
    both = int(reach.get("email_and_sms", 0))
    email = both + int(reach.get("email_only", 0))
    sms = both + int(reach.get("sms_only", 0))
    neither = int(reach.get("neither", 0))
    buyers = int(ws.assigned["orders_total"].gt(0).sum()) if "orders_total" in ws.assigned else total
    cards = [
        (f"{total:,}", "customers", f"profiles as of {ws.as_of_label}"),
        (f"{email:,}", "reachable by email", f"{_pct(email, total)} of customers"),
        (f"{sms:,}", "reachable by SMS", f"{_pct(sms, total)} of customers"),
        (f"{both:,}", "reachable by both", f"{_pct(both, total)} of customers"),
        (f"{neither:,}", "reachable by neither", f"{_pct(neither, total)} of customers"),
    ]
    rules = sizes[sizes["kind"] == "rule"].sort_values("customers", ascending=False)
    points = [
        f"{buyers:,} customers ({_pct(buyers, total)}) have ordered at least once; reach means consent on record "
        "and a valid address or number at the profile date."
    ]
    if len(rules):
        top = rules.head(3)
        named = ", ".join(f"<b>{_label(r.segment)}</b> {r.customers:,} ({r.share:.1%})" for r in top.itertuples())
        points.append(f"Largest segments of the strategy (share of all customers): {named}.")
        empty = rules[rules["customers"] == 0]["segment"].tolist()
        if empty:
            points.append(f"Empty segments: {_label(', '.join(empty))}: their rules match no customer at this date.")
    section = Section([_headline("Audience at a glance", cards, points)])
    section.add(_changes_vs_strategy(ws))
    return section


def _changes_vs_strategy(ws: Workspace) -> HTML | Table:
    base = _strategy_defaults(ws)
    if base is None:
        text = (
            "Every segment uses the strategy file's own settings (no overrides were given to this report)."
            if not ws.overrides
            else "The overrides of this report do not change any segment (they apply to plans or lint)."
        )
        return HTML(f'<p class="wb-empty" style="color:#52606d">{_label(text)}</p>')
    now = ws.segment_sizes.set_index(["kind", "segment"])["customers"]
    then = base.segment_sizes.set_index(["kind", "segment"])["customers"]
    both = pd.DataFrame({"strategy file": then, "this report": now}).fillna(0).astype(int)
    both["change"] = both["this report"] - both["strategy file"]
    changed = both[both["change"] != 0].reset_index()
    return table(
        changed,
        caption="Segments whose size changed against the strategy file's thresholds (customers)",
        empty="No segment changed size: the overridden thresholds move no customer at this date.",
    )


def value_summary(ws: Workspace, *, holdout_days: int = 180) -> Section:
    """The predicted-value models: fitted parameters, their notes, and the calibration/holdout check."""
    cv = ws.customer_value
    params = cv.parameters()
    section = Section()
    section.add(
        table(
            params,
            caption="Fitted parameters (BG/NBD: r, alpha, a, b; Gamma-Gamma: p, q, v), with standard errors",
            empty="No model could be fitted on this data (see the notes).",
            max_rows=20,
        )
    )
    if cv.notes:
        section.add(Markdown("\n".join(f"- {n}" for n in cv.notes)))
    check = ws.value_check(holdout_days=holdout_days)
    if isinstance(check, str):
        section.add(HTML(f'<p class="wb-empty" style="color:#52606d;font-style:italic">{_label(check)}</p>'))
    else:
        section.add(charts.calibration_chart(check))
    return section


# ---------------------------------------------------------------- messages


def sms_cost_table(lint: pd.DataFrame) -> Table:
    """The SMS cost of each template and variant, in segments per 1,000 sends (``lint.attrs["sms_cost"]``)."""
    cost = lint.attrs.get("sms_cost") if lint is not None else None
    frame = cost if isinstance(cost, pd.DataFrame) else pd.DataFrame()
    if not frame.empty:
        frame = frame.sort_values("segments_per_1000", ascending=False)
    return table(
        frame,
        caption="SMS cost: segments billed per 1,000 sends, and the share of customers whose text fits one segment",
        empty="No SMS template in this library, so no SMS cost.",
        rename={
            "one_segment_share": "fits one segment (share of customers)",
            "customers": "customers sampled",
            "segments_per_1000": "segments per 1,000 sends",
        },
    )


def messages_headline(lint: pd.DataFrame, *, previews: pd.DataFrame | None = None) -> Section:
    """The lint verdict (may the library be exported?) and what the SMS cost in segments."""
    errors = int((lint["severity"] == "error").sum()) if len(lint) else 0
    warnings = int((lint["severity"] == "warning").sum()) if len(lint) else 0
    cost = lint.attrs.get("sms_cost")
    cost = cost if isinstance(cost, pd.DataFrame) else pd.DataFrame()
    verdict = "ready to export" if not errors else "export blocked"
    cards = [
        (verdict, "lint verdict", f"{errors:,} error rows, {warnings:,} warning rows"),
    ]
    points = []
    if len(cost):
        mean = float(cost["segments_per_1000"].mean())
        worst = cost.sort_values("segments_per_1000", ascending=False).iloc[0]
        context = f"mean over {len(cost)} SMS templates and variants"
        cards.append((f"{mean:,.0f}", "SMS segments per 1,000 sends", context))
        cards.append(
            (
                f"{worst['segments_per_1000']:,.0f}",
                "most expensive SMS",
                f"{worst['moment']} ({worst['variant']}), segments per 1,000 sends",
            )
        )
        points.append(
            "An SMS over 160 GSM-7 characters (70 when one character needs Unicode) is billed as several "
            "segments: 1,000 segments per 1,000 sends is the floor."
        )
    if previews is not None and len(previews):
        cards.append((f"{len(previews):,}", "previews written", "one per moment, variant and sampled customer"))
    if errors:
        rules = ", ".join(sorted(set(lint.loc[lint["severity"] == "error", "rule"].astype(str))))
        points.insert(0, f"Errors stop the export until fixed: {_label(rules)}.")
    elif warnings:
        points.insert(0, "No error: the library may be exported; the warnings below are worth a look.")
    else:
        points.insert(0, "No finding: every template passed every lint rule for the sampled customers.")
    return Section([_headline("Messages at a glance", cards, points), sms_cost_table(lint)])


# ---------------------------------------------------------------- cadence


def cadence_headline(plan: Plan) -> Section:
    """Touches per customer per week, suppressions by rule and the peak day of a send plan."""
    frame = plan.plan
    per = touches_per_customer_week(frame, plan.audience, days=plan.days)
    planned = len(frame)
    kept = int(frame["status"].isin(["kept", "deferred"]).sum()) if planned else 0
    suppressed = planned - kept
    mean = float(per["per_week"].mean()) if len(per) else 0.0
    p90 = float(per["per_week"].quantile(0.9)) if len(per) else 0.0
    top = float(per["per_week"].max()) if len(per) else 0.0
    end = plan.start + pd.Timedelta(days=plan.days - 1)
    cards = [
        (f"{mean:.2f}", "touches per customer per week", f"mean over {len(per):,} customers in the audience"),
        (f"{p90:.2f}", "touches per week, 90th percentile", f"highest: {top:.2f}"),
        (f"{kept:,}", "touches that go out", f"{_pct(kept, planned)} of {planned:,} planned"),
        (f"{suppressed:,}", "touches suppressed", f"{_pct(suppressed, planned)} of {planned:,} planned"),
    ]
    points = [f"Horizon: {plan.days} days from {plan.start:%Y-%m-%d} to {end:%Y-%m-%d} (UTC), seed {plan.seed}."]
    if planned:
        sent = frame[frame["status"].isin(["kept", "deferred"])]
        if len(sent):
            by_day = sent.groupby(sent["scheduled_at"].dt.floor("D"))["channel"].value_counts().unstack(fill_value=0)
            totals = by_day.sum(axis=1)
            day = totals.idxmax()
            split = ", ".join(f"{int(n):,} {ch}" for ch, n in by_day.loc[day].items() if n)
            cards.append((f"{day:%a %d %b}", "peak day", f"{int(totals.max()):,} touches ({split})"))
    moved = frame[frame["status"] != "kept"]
    if len(moved):
        reasons = (
            moved.groupby([moved["status"].astype(str), moved["reason"].astype(str)])
            .size()
            .sort_values(ascending=False)
            .rename("touches")
            .reset_index()
        )
        reasons["planned_share"] = reasons["touches"] / planned
        listed = "; ".join(f"{r.reason} ({r.status}) {r.touches:,}" for r in reasons.head(3).itertuples())
        points.append(f"Most frequent rules holding touches back: {_label(listed)}.")
        detail: Any = table(
            reasons,
            caption="Touches deferred or suppressed by rule (share of all planned touches)",
            max_rows=8,
        )
    else:
        detail = HTML(
            '<p class="wb-empty">Every planned touch goes out on time: no rule deferred or suppressed one.</p>'
        )
    return Section([_headline("Cadence at a glance", cards, points), detail])


# ---------------------------------------------------------------- journeys


def journey_overview(journeys: Sequence[Journey]) -> pd.DataFrame:
    """One row per journey: id, name, moment, trigger, audience, emails, SMS, holdout share and nodes."""
    rows = []
    for j in journeys:
        sends = [n for n in j.nodes if n.type in ("send_email", "send_sms")]
        holdout = sum(
            b.share for n in j.nodes if n.type == "random_split" for b in n.branches if getattr(b, "holdout", False)
        )
        rows.append(
            {
                "journey": j.id,
                "name": j.name,
                "moment": j.moment,
                "trigger": describe_trigger(j.trigger),
                "audience": j.audience or "everyone the trigger admits",
                "emails": sum(n.type == "send_email" for n in sends),
                "sms": sum(n.type == "send_sms" for n in sends),
                "holdout %": holdout,
                "nodes": len(j.nodes),
            }
        )
    return pd.DataFrame(rows)


def journey_diagrams(journeys: Sequence[Journey], *, skip: int = 0) -> Section:
    """Every journey's diagram (after the first ``skip``, drawn above), offline (Vega), with its Mermaid text."""
    shown = list(journeys)[skip:]
    if not shown:
        text = "Every journey is drawn above." if journeys else "No journey selected: the strategy enables none."
        return Section([HTML(f'<p class="wb-empty">{text}</p>')])
    section = Section()
    for j in shown:
        section.add(*_diagram(j))
    return section


def _diagram(journey: Journey) -> tuple[HTML, Any, HTML]:
    """A journey's title, its diagram, and its Mermaid text folded under it."""
    mermaid = html.escape(to_mermaid(journey).strip())
    return (
        HTML(f"<h4>{_label(journey.name)} (<code>{_label(journey.id)}</code>)</h4>"),
        charts.journey_chart(journey),
        HTML(f"<details><summary>Mermaid text (for documentation tools)</summary><pre>{mermaid}</pre></details>"),
    )


_VERDICT = {
    "mapped": "carried natively",
    "emulated": "emulated",
    "not_carried": "not carried",
    "to_create": "to create first",
    "missing": "inputs missing",
    "written": "written",
}


def export_verdicts(exports: Mapping[str, ExportResult]) -> pd.DataFrame:
    """One row per export target: what it carried, emulated or could not carry, and a verdict in words."""
    rows = []
    for target, result in exports.items():
        report = result.report_dict()
        counts = report["summary"]
        todo = (
            f"; {counts['to_create']} object(s) to create first (workbench deploy)" if counts.get("to_create") else ""
        )
        if counts.get("not_carried"):
            verdict = f"carries the journeys except {counts['not_carried']} item(s): enforce those elsewhere"
        elif counts.get("missing"):
            verdict = f"{counts['missing']} companion file(s) not written: an input was missing"
        elif counts.get("emulated"):
            verdict = "carries everything; some parts are emulated (close to, not exactly, the journey)"
        else:
            verdict = "carries everything natively"
        verdict += todo
        if report["unapproved_templates"]:
            verdict += f"; {len(report['unapproved_templates'])} template(s) not approved"
        row: dict[str, Any] = {"target": target, "files": len(report["files"]), "verdict": verdict}
        row.update({label: int(counts.get(status, 0)) for status, label in _VERDICT.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        frame = frame.loc[:, (frame != 0).any(axis=0)]
    return frame


def journeys_headline(
    journeys: Sequence[Journey], exports: Mapping[str, ExportResult], *, problems: int = 0
) -> Section:
    """The journeys at a glance: how many, one diagram (the first), and the export verdict of each target."""
    emails = sum(n.type == "send_email" for j in journeys for n in j.nodes)
    sms = sum(n.type == "send_sms" for j in journeys for n in j.nodes)
    cards = [
        (f"{len(journeys):,}", "journeys", "built and validated" if not problems else f"{problems} with problems"),
        (f"{emails:,}", "email steps", "across the journeys"),
        (f"{sms:,}", "SMS steps", "each behind an SMS-consent check"),
        (f"{len(exports):,}", "export targets", ", ".join(exports) or "none"),
    ]
    points = ["Every journey below passed validation: no cycle, no unreachable node, every SMS guarded by consent."]
    section = Section([_headline("Journeys at a glance", cards, points)])
    if journeys:
        section.add(*_diagram(journeys[0]))
    section.add(
        table(
            export_verdicts(exports),
            caption="Export verdict per target (counts of report items by status)",
            empty="No export target was chosen (parameter targets is empty).",
        )
    )
    return section


# ---------------------------------------------------------------- measurement


def winning_arms(results: pd.DataFrame) -> pd.DataFrame:
    """Arms that beat their control with significance after correction, best lift first, with intervals."""
    if results is None or results.empty or "significant" not in results.columns:
        return pd.DataFrame()
    keys = [c for c in ("journey_id", "step_id") if c in results.columns]
    won = results[(results["test"] != "control") & results["significant"].eq(True) & (results["lift_vs_control"] > 0)]
    cols = [*keys, "arm", "metric", "n", "lift_vs_control", "ci_low", "ci_high", "relative_lift", "p_adjusted"]
    return won.sort_values("relative_lift", ascending=False)[[c for c in cols if c in won.columns]].reset_index(
        drop=True
    )


def channel_return(channel_summary: pd.DataFrame, *, cost_per_1000: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Attributed revenue per channel and per 1,000 delivered messages; ROI where a cost per 1,000 is given.

    ROI = (attributed revenue − cost) ÷ cost, with cost = sent ÷ 1,000 × cost per 1,000 (last touch).
    ``currency`` names the currency of the revenue (and of the cost per 1,000, which must be in it).
    """
    if channel_summary is None or channel_summary.empty:
        return pd.DataFrame()
    wide = channel_summary.pivot_table(index="channel", columns="metric", values="value", aggfunc="first")
    money = channel_summary[channel_summary["metric"] == "revenue_per_recipient"].set_index("channel")
    revenue = money["numerator"]
    out = pd.DataFrame(
        {
            "sent": wide.get("sent"),
            "delivered": wide.get("delivered"),
            "attributed revenue": revenue,
        }
    )
    if "currency" in money.columns:
        out["currency"] = money["currency"]
    out["revenue per 1,000 delivered"] = out["attributed revenue"] / out["delivered"] * 1000
    costs = dict(cost_per_1000 or {})
    if costs:
        out["cost"] = [out.loc[ch, "sent"] / 1000 * costs[ch] if ch in costs else np.nan for ch in out.index]
        out["ROI"] = (out["attributed revenue"] - out["cost"]) / out["cost"]
    return out.reset_index()


def metrics_by_channel(channel_summary: pd.DataFrame) -> Table:
    """The cross-channel metrics with one row per metric (named with its denominator) and one column per channel."""
    if channel_summary is None or channel_summary.empty:
        return table(pd.DataFrame(), empty="No message history: cross-channel metrics need a messages table.")
    data = channel_summary.copy()
    named = data["denominator_name"].fillna("").astype(str)
    code = (
        data["currency"].astype("string").fillna("") if "currency" in data.columns else pd.Series("", index=data.index)
    )
    data["metric"] = data["metric"].where(code == "", data["metric"] + " in " + code)
    data["metric"] = data["metric"].where(named == "", data["metric"] + " (÷ " + named + ")")
    order = list(dict.fromkeys(data["metric"]))
    wide = data.pivot_table(index="metric", columns="channel", values="value", aggfunc="first").reindex(order)
    per_unit = ("revenue", "clicks_per", "site_visits")  # amounts per recipient, not shares
    rates = {m for m in order if "(÷" in m and not m.startswith(per_unit)}
    text = {}
    for channel in wide.columns:
        column = wide[channel]
        text[channel] = [
            _MISSING if not math.isfinite(v) else (f"{v:.1%}" if m in rates else _number(v)) for m, v in column.items()
        ]
    frame = pd.DataFrame({"metric": order, **text})
    return table(frame, caption="By channel (each metric names its denominator)", max_rows=30)


def measure_headline(readout: Any, *, cost_per_1000: Mapping[str, float] | None = None) -> Section:
    """Winning arms with intervals, the return of each channel, and the incremental predicted value per arm."""
    won = winning_arms(readout.results)
    tested = int((readout.results["test"] != "control").sum()) if len(readout.results) else 0
    cards = [(f"{len(won):,}", "winning arms", f"of {tested:,} arm × metric comparisons, after correction")]
    points = []
    ret = channel_return(readout.channel_summary, cost_per_1000=cost_per_1000)
    code = (
        str(ret["currency"].dropna().iloc[0])
        if len(ret) and "currency" in ret and ret["currency"].notna().any()
        else ""
    )
    unit = f" ({code})" if code else ""
    if len(ret):
        for row in ret.to_dict("records"):
            per = float(row["revenue per 1,000 delivered"])
            roi = row.get("ROI")
            context = f"ROI {roi:+.0%}" if roi is not None and math.isfinite(roi) else "last-touch attributed revenue"
            cards.append(
                (
                    f"{per:,.0f}" if math.isfinite(per) else _MISSING,
                    f"{row['channel']}: revenue per 1,000 delivered{unit}",
                    context,
                )
            )
        if "ROI" not in ret.columns:
            points.append(
                "ROI needs a cost per 1,000 messages by channel (parameter <code>cost_per_1000</code>); "
                "without it the return is revenue per 1,000 delivered messages."
            )
    if len(won):
        best = won.iloc[0]
        where = " · ".join(str(best[c]) for c in ("journey_id", "step_id") if c in won.columns)
        points.insert(
            0,
            f"Best: <b>{_label(where + ' · ' if where else '')}{_label(best['arm'])}</b> on {_label(best['metric'])}, "
            f"{best['relative_lift']:+.1%} against the control (interval {best['ci_low']:+.4g} to "
            f"{best['ci_high']:+.4g} in absolute lift).",
        )
    else:
        points.insert(0, "No arm beats its control with significance after the correction for multiple comparisons.")
    section = Section([_headline("Results at a glance", cards, points)])
    section.add(
        table(
            won,
            caption="Winning arms: lift against the control (arm − control) with its interval",
            empty="No winning arm: no lift is significant after correction.",
            percent=("relative_lift",),
        )
    )
    section.add(
        table(
            ret,
            caption=f"Return by channel (attributed revenue{' in ' + code if code else ''}, last touch; "
            "per 1,000 delivered messages)",
            empty="No message history: channel return needs a messages table.",
            percent=("ROI",),
        )
    )
    clv = readout.incremental_clv
    clv_shown = clv[clv["test"] != "control"] if len(clv) and "test" in clv.columns else clv
    keep = [
        c
        for c in (
            "journey_id",
            "step_id",
            "arm",
            "n",
            "mean",
            "control_value",
            "incremental_clv",
            "incremental_ci_low",
            "incremental_ci_high",
            "p_adjusted",
        )
        if c in clv_shown.columns
    ]
    section.add(
        table(
            clv_shown[keep] if keep else clv_shown,
            caption="Incremental predicted 365-day CLV of each arm against its control (per arm: lift × units"
            + (f"; in {code}" if code else "")
            + ")",
            empty="No incremental CLV: it needs a message history and an order history to predict value from.",
            rename={"mean": "mean CLV", "control_value": "control mean CLV"},
        )
    )
    return section
