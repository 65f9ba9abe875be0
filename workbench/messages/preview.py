"""Side-by-side preview of a paired message: the email at desktop and mobile widths, the SMS as phone bubbles.

The preview is one self-contained HTML document (no script, no web font, no network): the email sits
in sandboxed iframes (``sandbox=""``: no script, no navigation, no same-origin access), the SMS in a
phone with its encoding and segment counter, and the lint findings under both. In a notebook a
:class:`Preview` displays inline; :func:`build_gallery` makes a whole gallery as data, which
:func:`workbench.io.write_gallery` writes.
"""

from __future__ import annotations

import html as html_lib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..models.names import safe_name
from ..models.strategy import Strategy
from .library import TemplateManifest
from .lint import (
    FINDING_COLUMNS,
    _accepted_ucs2,
    _aggregate,
    _ucs2_message,
    lint_library,
    lint_manifest,
    lint_pair,
    lint_sample,
    target_locales,
)
from .render import PairedMessage, Renderer, get_renderer

__all__ = [
    "Gallery",
    "Preview",
    "build_gallery",
    "library_table",
    "preview",
    "preview_html",
]

_esc = html_lib.escape
_URL = re.compile(r"https?://[^\s<>\"']+")

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1f2933;
  font:15px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
header.top{padding:16px 24px;background:#102a43;color:#fff}
header.top h1{margin:0 0 4px 0;font-size:20px;font-weight:650}
header.top p{margin:0;color:#bcccdc;font-size:13px}
.chip{display:inline-block;padding:1px 8px;margin-right:6px;border-radius:10px;background:#243b53;
  color:#d9e2ec;font-size:12px}
.chip.draft{background:#f0b429;color:#3b2a00}
.chip.approved{background:#3ebd93;color:#01382a}
main.panes{display:flex;flex-wrap:wrap;gap:20px;padding:20px 24px;align-items:flex-start}
.pane{background:#fff;border:1px solid #d9e2ec;border-radius:10px;padding:16px}
.pane h2{margin:0 0 10px 0;font-size:16px;color:#102a43}
.email-pane{flex:1 1 600px;min-width:0}
.sms-pane{flex:0 1 320px;min-width:0}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 12px 0;font-size:13px}
dl.meta dt{color:#627d98}
dl.meta dd{margin:0;overflow-wrap:anywhere}
.frames{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure{margin:0;max-width:100%}
figcaption{font-size:12px;color:#627d98;margin-bottom:4px}
.frame-box{overflow:hidden;border:1px solid #d9e2ec;border-radius:6px;background:#eef1f4;--s:1}
.frame-box.desktop{--s:.7;width:calc(640px * var(--s));height:calc(1100px * var(--s))}
.frame-box.mobile{width:calc(375px * var(--s));height:calc(1100px * var(--s))}
.frame-box iframe{transform:scale(var(--s));transform-origin:0 0}
iframe{display:block;border:0;background:#fff}
iframe.desktop{width:640px;height:1100px}
iframe.mobile{width:375px;height:1100px}
.phone{width:100%;max-width:330px;margin:0 auto;border:10px solid #1f2933;border-radius:34px;
  background:#fff;overflow:hidden}
.phone .bar{padding:10px 14px;border-bottom:1px solid #e4e7eb;text-align:center;font-size:13px;
  font-weight:650;color:#334e68;background:#f7f9fb}
.phone .thread{padding:14px 12px 18px 12px;min-height:260px}
.bubble{max-width:88%;padding:9px 12px;margin:0 0 6px 0;border-radius:16px 16px 16px 4px;
  background:#e4e7eb;color:#102a43;white-space:pre-wrap;overflow-wrap:anywhere;font-size:14px}
.bubble .link{color:#0b5563;text-decoration:underline;word-break:break-all}
.bubble mark{background:#ffe3e3;color:#a61b1b;border-radius:3px}
.counter{margin:12px 0 0 0;font-size:13px}
.counter b{font-variant-numeric:tabular-nums}
.seg{display:inline-block;padding:1px 7px;margin:2px 4px 0 0;border-radius:8px;background:#e6f6ff;
  color:#035388;font-size:12px}
.enc{display:inline-block;padding:1px 7px;border-radius:8px;font-size:12px;font-weight:650}
.enc.gsm{background:#e3f9e5;color:#0e5814}
.enc.ucs{background:#fff3c4;color:#8d2b0b}
.warn{margin:8px 0 0 0;font-size:13px;color:#8d2b0b}
section.findings{margin:0 24px 28px 24px;background:#fff;border:1px solid #d9e2ec;border-radius:10px;
  padding:16px;overflow-x:auto}
section.findings h2{margin:0 0 10px 0;font-size:16px;color:#102a43}
table.lint{border-collapse:collapse;width:100%;font-size:13px}
table.lint th,table.lint td{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e7eb;
  vertical-align:top}
table.lint th{color:#627d98;font-weight:600}
.sev{display:inline-block;padding:1px 8px;border-radius:8px;font-size:12px;font-weight:650}
.sev.error{background:#ffe3e3;color:#a61b1b}
.sev.warning{background:#fff3c4;color:#8d2b0b}
.sev.info{background:#e6f6ff;color:#035388}
.chip.locale{background:#d9e2ec;color:#102a43}
.chip.fallback{background:#ffe3e3;color:#a61b1b}
.ok{color:#0e5814;margin:0}
@media (max-width:720px){
 header.top{padding:12px 14px}
 main.panes{padding:12px;gap:12px}
 .pane{padding:12px}
 .email-pane,.sms-pane{flex:1 1 100%}
 .frame-box.desktop{--s:.5}
 .frame-box.mobile{--s:.8}
 .frames{gap:10px}
 section.findings{margin:0 12px 20px 12px}
}
"""


@dataclass(frozen=True)
class Preview:
    """A rendered pair with its lint findings, shown inline in a notebook and savable as HTML."""

    pair: PairedMessage
    findings: pd.DataFrame
    html: str

    def _repr_html_(self) -> str:
        doc = _esc(self.html, quote=True)
        return (
            f'<iframe sandbox="" srcdoc="{doc}" title="paired message preview" '
            'style="width:100%;height:1250px;border:1px solid #d9e2ec;border-radius:8px"></iframe>'
        )


def _sms_bubble(text: str, non_gsm: Sequence[str]) -> str:
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_mark(text[pos : m.start()], non_gsm))
        out.append(f'<span class="link">{_esc(m.group(0))}</span>')
        pos = m.end()
    out.append(_mark(text[pos:], non_gsm))
    return "".join(out)


def _mark(text: str, non_gsm: Sequence[str]) -> str:
    if not non_gsm:
        return _esc(text)
    chars = set(non_gsm)
    return "".join(f"<mark>{_esc(c)}</mark>" if c in chars else _esc(c) for c in text)


def _findings_table(findings: pd.DataFrame) -> str:
    if findings is None or findings.empty:
        return '<p class="ok">No findings: this pair passes every rule.</p>'
    rows = []
    for r in findings.itertuples(index=False):
        rows.append(
            f'<tr><td><span class="sev {_esc(str(r.severity))}">{_esc(str(r.severity))}</span></td>'
            f"<td><code>{_esc(str(r.rule))}</code></td><td>{_esc(str(r.channel))}</td>"
            f"<td>{_esc(str(r.message))}</td><td>{_esc(str(r.fix))}</td></tr>"
        )
    return (
        '<table class="lint"><thead><tr><th>Severity</th><th>Rule</th><th>Channel</th><th>Finding</th>'
        "<th>Suggested fix</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def preview_html(
    pair: PairedMessage, *, findings: pd.DataFrame | None = None, brand_name: str = "", customer_label: str = ""
) -> str:
    """The standalone preview document of one pair (no script, no network).

    Parameters
    ----------
    pair
        The rendered pair.
    findings
        Lint findings of this pair (columns of :data:`~workbench.messages.lint.FINDING_COLUMNS`).
    brand_name
        Shown as the SMS sender.
    customer_label
        How to name the customer in the heading (default: the customer id).

    Returns
    -------
    str
    """
    m = pair.manifest
    title = f"{m.moment.replace('_', ' ').capitalize()} · variant {pair.variant}"
    who = customer_label or pair.customer_id
    loc = pair.locale
    entry = m.locales.get(pair.content_locale) if loc is not None else None
    if entry is None and loc is not None:
        entry = m.locales.get((pair.content_locale or "").split("-")[0])
    approval = entry.approval if entry is not None else m.approval
    version = entry.version if entry is not None else m.version
    approver = (entry.approved_by if entry is not None else m.approved_by) or m.owner
    chips = (
        f'<span class="chip {approval}">{_esc(approval)}</span>'
        f'<span class="chip">v{version}</span><span class="chip">{_esc(approver)}</span>'
        + ('<span class="chip">transactional</span>' if m.transactional else "")
    )
    lang = "en"
    locale_meta = ""
    if loc is not None:
        lang = (pair.content_locale or "en").split("-")[0]
        kind = "fallback" if loc.fallback else "locale"
        chips += (
            f'<span class="chip {kind}" data-locale="{_esc(loc.locale)}">{_esc(loc.path)}</span>'
            + (f'<span class="chip">market {_esc(pair.market)}</span>' if pair.market else "")
            + (f'<span class="chip">{_esc(pair.currency)}</span>' if pair.currency else "")
        )
        files = ", ".join(f"{p}: {t or 'root'}" for p, t in loc.files.items())
        note = " (no translation in the customer's language)" if loc.fallback else ""
        locale_meta = (
            f"<dt>Locale</dt><dd>{_esc(loc.locale)} → written in {_esc(pair.content_locale)}{note}; "
            f"amounts and dates in {_esc(loc.format_locale)}</dd><dt>Fallback chain</dt><dd>"
            f"{_esc(' → '.join(loc.chain))}</dd><dt>Files</dt><dd>{_esc(files)}</dd>"
        )
    email = ""
    if pair.html:
        doc = _esc(pair.html, quote=True)
        headers = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in pair.headers.items())
        email = f"""
<section class="pane email-pane" aria-label="Email">
<h2>Email</h2>
<dl class="meta">{locale_meta}<dt>Subject</dt><dd>{_esc(pair.subject)} <small>({len(pair.subject)} chars)</small></dd>
<dt>Preheader</dt><dd>{_esc(pair.preheader)} <small>({len(pair.preheader)} chars)</small></dd>
{headers}<dt>Size</dt><dd>{pair.html_bytes / 1024:.1f} KB HTML</dd></dl>
<div class="frames">
<figure><figcaption>Desktop (640 px, shown smaller)</figcaption><div class="frame-box desktop">
<iframe class="desktop" sandbox="" title="email at desktop width" srcdoc="{doc}"></iframe></div></figure>
<figure><figcaption>Mobile (375 px)</figcaption><div class="frame-box mobile">
<iframe class="mobile" sandbox="" title="email at mobile width" srcdoc="{doc}"></iframe></div></figure>
</div>
</section>"""
    sms = ""
    if pair.sms is not None and pair.sms_analysis is not None:
        a = pair.sms_analysis
        enc_class = "gsm" if a.encoding == "GSM-7" else "ucs"
        unit = "septets" if a.encoding == "GSM-7" else "UTF-16 units"
        limit = a.single_limit if a.segments <= 1 else a.part_limit * a.segments
        segs = "".join(f'<span class="seg">part {i + 1}: {u} {unit}</span>' for i, u in enumerate(a.part_units))
        bubbles = f'<div class="bubble">{_sms_bubble(a.text, a.non_gsm)}</div>'
        warn = ""
        if a.non_gsm:
            sugg = ", ".join(f"{_esc(c)} → {_esc(a.replacements.get(c, '?'))}" for c in a.non_gsm)
            accepted = _accepted_ucs2(m, pair.content_locale)
            why = f" Accepted for {_esc(pair.content_locale)}: {_esc(accepted)}" if accepted else ""
            warn = (
                f'<p class="warn">Forces UCS-2: {sugg}.</p><p class="warn" data-ucs2-cost>'
                f"{_esc(_ucs2_message(a))}.{why}</p>"
            )
        sms = f"""
<section class="pane sms-pane" aria-label="SMS">
<h2>SMS</h2>
<div class="phone"><div class="bar">{_esc(brand_name or "SMS")}</div>
<div class="thread">{bubbles}</div></div>
<p class="counter"><span class="enc {enc_class}">{a.encoding}</span> <b>{a.units}</b> {unit} of {limit} ·
<b>{a.segments}</b> segment{"s" if a.segments != 1 else ""} · {a.characters} characters</p>
<div>{segs}</div>{warn}
</section>"""
    return f"""<!DOCTYPE html>
<html lang="{_esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)} · {_esc(who)}</title>
<style>{_CSS}</style>
</head>
<body>
<header class="top"><h1>{_esc(title)}</h1>
<p>Customer {_esc(who)} · {chips} · objective: {_esc(m.objective)}</p></header>
<main class="panes">{email}{sms}
</main>
<section class="findings" aria-label="Lint findings"><h2>Lint findings</h2>{_findings_table(findings)}</section>
</body>
</html>
"""


def preview(
    moment: str,
    customer: Mapping[str, Any],
    *,
    strategy: Strategy,
    variant: str | None = None,
    promotion: str | None = None,
    templates_dir: str | os.PathLike[str] | None = None,
    max_sms_segments: int = 2,
    renderer: Renderer | None = None,
) -> Preview:
    """Render one customer's pair for a moment, lint it and build its side-by-side preview.

    Returns
    -------
    Preview
        ``.pair``, ``.findings`` (DataFrame) and ``.html``; displays inline in a notebook.
    """
    renderer = renderer or get_renderer(strategy, templates_dir=templates_dir)
    pair = renderer.render_pair(moment, customer, variant=variant, promotion=promotion)
    found = lint_manifest(pair.manifest) + lint_pair(
        pair, brand=strategy.brand, max_sms_segments=max_sms_segments, markets=strategy.policy.markets
    )
    findings = _aggregate(found)
    name = customer.get("first_name") if hasattr(customer, "get") else None
    label = pair.customer_id + (f" ({name})" if isinstance(name, str) and name.strip() else "")
    doc = preview_html(pair, findings=findings, brand_name=strategy.brand.name, customer_label=label)
    return Preview(pair=pair, findings=findings, html=doc)


def library_table(library: Mapping[str, TemplateManifest]) -> pd.DataFrame:
    """One row per template: moment, objective, call to action, offer, owner, version, approval, variants."""
    rows = [
        {
            "moment": m.moment,
            "objective": m.objective,
            "primary_cta": m.primary_cta,
            "default_offer": m.default_offer,
            "owner": m.owner,
            "version": m.version,
            "approval": m.approval,
            "variants": ",".join(m.variants),
            "channels": ",".join(m.channels),
        }
        for m in library.values()
    ]
    return pd.DataFrame(rows)


def _gallery_index(rows: list[dict[str, Any]], templates: pd.DataFrame, lint: pd.DataFrame) -> str:
    cards = []
    for r in rows:
        cards.append(
            f'<tr><td><a href="{_esc(r["file"])}">{_esc(r["moment"])}</a></td><td>{_esc(r["variant"])}</td>'
            f"<td>{_esc(r['customer_id'])}</td><td>{_esc(r['locale'])} → {_esc(r['content_locale'])}</td>"
            f"<td>{_esc(r['subject'])}</td>"
            f"<td>{_esc(r['encoding'] or '')} · {r['segments']}</td><td>{r['findings']}</td>"
            f'<td><span class="chip {_esc(r["approval"])}">{_esc(r["approval"])}</span></td></tr>'
        )
    drafts = templates[templates["approval"] != "approved"]["moment"].tolist() if len(templates) else []
    state = (
        f"Contains draft templates: {', '.join(drafts)}" if drafts else "Every template in this gallery is approved."
    )
    errors = int((lint["severity"] == "error").sum()) if len(lint) else 0
    warnings = int((lint["severity"] == "warning").sum()) if len(lint) else 0
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Paired message previews</title><style>{_CSS}
table.lint td a{{color:#0b5563}}</style></head>
<body><header class="top"><h1>Paired message previews</h1>
<p>{len(rows)} previews · lint: {errors} error rows, {warnings} warning rows · {_esc(state)}</p></header>
<section class="findings" style="margin-top:20px"><h2>Previews</h2>
<table class="lint"><thead><tr><th>Moment</th><th>Variant</th><th>Customer</th><th>Locale</th><th>Subject</th>
<th>SMS</th><th>Findings</th><th>Approval</th></tr></thead><tbody>{"".join(cards)}</tbody></table></section>
<section class="findings"><h2>Library lint (sampled customers)</h2>{_findings_table(lint)}</section>
</body></html>
"""


@dataclass(frozen=True)
class Gallery:
    """A preview gallery as data: one preview page per moment, variant and customer, the lint and an index.

    ``rows`` has one row per preview (moment, variant, customer_id, subject, encoding, segments, findings,
    approval, file); ``pages`` maps each file (relative to the gallery folder) to its HTML; ``lint`` is
    :func:`~workbench.messages.lint.lint_library` on the lint sample; ``templates`` the version and approval
    of each template; ``index`` the gallery's ``index.html``.
    """

    rows: pd.DataFrame
    pages: Mapping[str, str]
    lint: pd.DataFrame
    templates: pd.DataFrame
    index: str


def build_gallery(
    profiles: pd.DataFrame,
    *,
    strategy: Strategy,
    moments: Sequence[str] | None = None,
    sample_customers: int = 3,
    seed: int = 0,
    templates_dir: str | os.PathLike[str] | None = None,
    lint_customers: int = 24,
    max_sms_segments: int = 2,
) -> Gallery:
    """Render the previews of a sample of customers (edge cases first) and lint the library, as a :class:`Gallery`.

    File names are ``previews/<moment>__<variant>__<n>.html``, numbered per sampled customer, so that no
    customer id ever becomes part of a path (moment and variant names pass through ``safe_name``).
    """
    renderer = Renderer(strategy, templates_dir=templates_dir)
    wanted = list(moments) if moments else list(renderer.library)
    for moment in wanted:
        renderer.manifest(moment)
    customers = lint_sample(profiles, n=sample_customers, seed=seed)
    if "locale" in profiles.columns:  # at least one real customer per locale the library is checked in
        have = set(customers["locale"].dropna()) if "locale" in customers.columns else set()
        extra = [
            profiles[(profiles["locale"] == tag).fillna(False).astype(bool)].head(1)
            for tag in target_locales(profiles, renderer)
            if tag not in have
        ]
        customers = pd.concat([customers, *extra]) if extra else customers
    rows: list[dict[str, Any]] = []
    pages: dict[str, str] = {}
    for moment in wanted:
        for variant in renderer.manifest(moment).variants:
            for number, customer in enumerate(customers.to_dict("records"), start=1):
                item = preview(
                    moment,
                    customer,
                    strategy=strategy,
                    variant=variant,
                    renderer=renderer,
                    max_sms_segments=max_sms_segments,
                )
                name = f"previews/{safe_name(moment)}__{safe_name(variant)}__{number}.html"
                pages[name] = item.html
                a = item.pair.sms_analysis
                rows.append(
                    {
                        "moment": moment,
                        "variant": variant,
                        "locale": item.pair.locale.locale if item.pair.locale else "",
                        "content_locale": item.pair.content_locale,
                        "customer_id": item.pair.customer_id,
                        "subject": item.pair.subject,
                        "encoding": a.encoding if a else None,
                        "segments": a.segments if a else 0,
                        "findings": len(item.findings),
                        "approval": item.pair.manifest.approval,
                        "file": name,
                    }
                )
    lint = lint_library(
        profiles,
        strategy=strategy,
        moments=wanted,
        sample_customers=lint_customers,
        seed=seed,
        max_sms_segments=max_sms_segments,
        renderer=renderer,
    )
    templates = library_table({m: renderer.manifest(m) for m in wanted})
    frame = pd.DataFrame(rows)
    frame.attrs["lint"] = lint
    return Gallery(
        rows=frame,
        pages=pages,
        lint=lint.reindex(columns=FINDING_COLUMNS),
        templates=templates,
        index=_gallery_index(rows, templates, lint),
    )
