"""The bulk path's shortcuts give every customer exactly what rendering and linting them alone gives.

Two shortcuts are checked against the straightforward path:

- parts rendered once per distinct set of values their template reads (``Renderer(cache_parts=True)``,
  one renderer shared by every customer) against a renderer that renders every part for every
  customer (``cache_parts=False``);
- the HTML rules read from the inlined layout with the values written in (``_LayoutFacts``) against
  :func:`lint_pair` reading the whole body.

The audiences are a synthetic dataset's profiles (many names, locales, amounts, dates and tiers), the
sample's, hand-picked awkward values and hypothesis-generated ones, rendered with the shipped library
and a copy whose templates put values where the shortcuts need care: after an ``&``, in a link and an
image's ``src`` (quoted in a finding), inside a tag's attribute list and into the subject.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.messages import Renderer, lint_audience, lint_pair
from workbench.messages.lint import _aggregate, _html_facts, _LayoutFacts, _LintMemo, _Needles, _read_email
from workbench.messages.render import customer_context
from workbench.models.errors import TemplateError

MOMENTS = ("cart_abandonment", "post_purchase_confirmation")
EDGY = ("cart_edgy",)
NAMES = [
    "Ana",
    "José",
    "Zoë",
    "王芳",
    None,
    "",
    "   ",
    "nan",
    "None",
    "Code",
    "Tom & Jerry",
    "amp;x",
    "&amp;",
    "&#39;",
    "&lt;b&gt;",
    "<b>Bo</b>",
    'Say "hi"',
    "O'Brien",
    "a>b",
    "x\u00a0y",
    "{{ oops }}",
    "http://x.example",
    "A" * 40,
    "Jean-Luc",
    "Ωmega",
    "\ue000",
    "\ue004",
    "\ue004x\ue005",
]


def _edgy_library(folder, root):
    """The shipped cart and order messages, and a cart whose templates put values in awkward places."""
    for name in ("_base", *MOMENTS):
        shutil.copytree(root / "templates" / name, folder / name)
    edgy = folder / "cart_edgy"
    shutil.copytree(root / "templates" / "cart_abandonment", edgy)
    html = (edgy / "email.html.j2").read_text(encoding="utf-8")
    extra = (
        "<p>Fish &{{ customer.first_name | first_name }} chips &amp{{ customer.loyalty_tier or 'x' }}</p>\n"
        '<p><a href="https://shop.example/n/{{ customer.first_name | first_name }}" data-cta="x">go</a></p>\n'
        '<img src="https://cdn.example/p.png?n={{ customer.first_name | first_name }}">\n'
        '<p title="{{ customer.first_name | first_name }}">Code {{ customer.loyalty_tier or "NONE" }}</p>\n'
    )
    (edgy / "email.html.j2").write_text(html.replace("{% endblock %}\n", extra + "{% endblock %}\n", 1))
    (edgy / "subject.txt.j2").write_text("{{ customer.first_name | first_name }}, {{ customer.orders_total }} left\n")
    # the customer's links written as they are (twice, in a loop) in the text, and read otherwise in the SMS
    text = (edgy / "email.txt.j2").read_text(encoding="utf-8")
    links = "{{ unsubscribe_link }} {{ unsubscribe_link }}\n{% for i in range(2) %}{{ preferences_link }}{% endfor %}\n"
    (edgy / "email.txt.j2").write_text(text + links)
    sms = (edgy / "sms.txt.j2").read_text(encoding="utf-8").rstrip("\n")
    (edgy / "sms.txt.j2").write_text(
        sms + '{% if "E1" in unsubscribe_link %} {{ preferences_link | upper }}{% endif %}\n'
    )
    return folder


@pytest.fixture(scope="module")
def library(tmp_path_factory, root):
    return _edgy_library(tmp_path_factory.mktemp("fast") / "templates", root)


@pytest.fixture(scope="module")
def synthetic(strategy):
    from workbench.application import Workspace
    from workbench.synth import synthesize

    workspace = Workspace.create(synthesize(400, seed=11), strategy, as_of="2026-10-31")
    return workspace.assigned


@pytest.fixture(scope="module")
def plain(strategy, library):
    """A renderer that renders every part for every customer."""
    return Renderer(strategy, templates_dir=library, cache_parts=False)


@pytest.fixture(scope="module")
def rows(synthetic):
    return synthetic.head(6).to_dict("records")


@pytest.fixture(scope="module")
def shared(strategy, library):
    """One fast renderer and one lint memo for every example: what one customer leaves, the next meets."""
    renderer = Renderer(strategy, templates_dir=library)
    return renderer, _LintMemo(strategy.brand, markets=strategy.policy.markets), {"fast": 0, "whole": 0}


def _parts(pair):
    return (
        pair.subject,
        pair.preheader,
        pair.html,
        pair.text,
        pair.sms,
        pair.headers,
        pair.sms_analysis,
        pair.locale,
        pair.currency,
        pair.market,
        pair.customer_id,
        pair.templates,
    )


def _check(renderer, memo, strategy, library, row, moments, seen, alone=None):
    """The fast path against a renderer with no part cache (this customer's own unless given), and lint_pair."""
    alone = alone or Renderer(strategy, templates_dir=library, cache_parts=False)
    customer = customer_context(row)
    for moment in moments:
        try:
            reference = alone.render_pair(moment, customer, clean=True)
        except TemplateError as exc:  # a value the template cannot write fails the same way on the fast path
            with pytest.raises(TemplateError) as fast:
                renderer.render_pair_layout(moment, customer, clean=True)
            assert str(fast.value) == str(exc)
            continue
        pair, layout = renderer.render_pair_layout(moment, customer, clean=True)
        assert _parts(pair) == _parts(reference), (moment, row)
        expected = lint_pair(reference, brand=strategy.brand, markets=strategy.policy.markets)
        if layout is not None and pair.html:  # the readings from the layout are those of the whole bodies
            layout_facts = _LayoutFacts(layout.segments)
            readable = layout_facts if layout_facts.readable(layout.values) else None
            own = memo._own(pair, readable, layout)
            assert own == _read_email(pair.html, pair.text, _Needles.of(strategy.brand)), (moment, row)
        assert memo.lint(pair, layout) == expected, (moment, row)
        if layout is not None:
            assert layout.html == pair.html
            facts = _LayoutFacts(layout.segments).facts(layout.values)
            seen["fast" if facts is not None else "whole"] += 1
            if facts is not None:
                assert facts == _html_facts(pair.html), (moment, row)


def test_a_synthetic_audience_renders_and_lints_the_same_on_the_fast_path(shared, strategy, library, synthetic):
    renderer, memo, _ = shared
    seen = {"fast": 0, "whole": 0}
    for row in synthetic.head(150).to_dict("records"):
        _check(renderer, memo, strategy, library, row, MOMENTS, seen)
    # the shortcuts were taken (a test of them that never took them would prove nothing)
    assert seen["fast"] >= 250 and seen["whole"] == 0, seen
    assert len(renderer._part_cache) < 2 * 150 * 2  # subjects, preheaders and most SMS were shared


def test_edgy_names_render_and_lint_the_same(shared, strategy, library, synthetic):
    renderer, memo, seen = shared
    base = synthetic.head(6).to_dict("records")
    for i, name in enumerate(NAMES):
        row = {**base[i % len(base)], "first_name": name, "customer_id": f"E{i}"}
        _check(renderer, memo, strategy, library, row, (*MOMENTS, *EDGY), seen)
    assert seen["fast"] and seen["whole"]  # both ways of reading the HTML were met


values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(NAMES),
    st.text(alphabet="&#;amplt<>\"' x0123\u00a0", max_size=10),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=values,
    tier=st.one_of(st.none(), st.sampled_from(["gold", "silver", "Platinum", "none"]), st.text(max_size=6)),
    orders=st.one_of(st.none(), st.integers(-2, 10**6), st.floats(-1e9, 1e9), st.just(float("nan")), st.just(-0.0)),
    revenue=st.one_of(st.none(), st.floats(-1e6, 1e6), st.integers(0, 10**5)),
    locale=st.sampled_from([None, "en-US", "fr-FR", "fr-CA", "de-DE", "it-IT", "en-GB"]),
    cid=st.one_of(st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True), st.text(max_size=6)),
    pick=st.integers(0, 5),
)
def test_generated_customers_render_and_lint_the_same(
    shared, plain, strategy, library, rows, name, tier, orders, revenue, locale, cid, pick
):
    renderer, memo, seen = shared
    row = {
        **rows[pick],
        "first_name": name,
        "loyalty_tier": tier,
        "orders_total": orders,
        "revenue_total": revenue,
        "locale": locale,
        "customer_id": cid,
    }
    _check(renderer, memo, strategy, library, row, (*MOMENTS, *EDGY), seen, plain)


def test_links_in_any_id_are_written_as_rendering_each_customer_writes_them(shared, strategy, library, rows):
    renderer, memo, seen = shared
    for cid in ("\ue004", "a\ue004b\ue005", "x&y", "E1", "<b>", " ", "Ω"):
        row = {**rows[0], "customer_id": cid, "first_name": "Ana"}
        _check(renderer, memo, strategy, library, row, (*MOMENTS, *EDGY), seen)
        # a name shaped like a stand-in (with another number: each renderer draws its own) is written as a name
        name = renderer._stand_ins[0].replace(renderer._stand_ins[0][1:17], "0123456789abcdef")
        _check(renderer, memo, strategy, library, {**row, "first_name": name}, EDGY, seen)


def test_parts_that_write_the_links_as_they_are_are_kept_once_for_every_customer(strategy, library, synthetic):
    renderer = Renderer(strategy, templates_dir=library)
    rows = synthetic.head(60).to_dict("records")
    for k, row in enumerate(rows):
        customer = customer_context({**row, "first_name": "Ana", "customer_id": f"K{k}"})
        pair = renderer.render_pair("cart_abandonment", customer)
        assert f"c=K{k}" in pair.headers["List-Unsubscribe"] and f"c=K{k}" in pair.text
    kept = [key for key in renderer._part_cache if key[0] in ("_base/headers.txt.j2", "cart_abandonment/email.txt.j2")]
    locales = {(r.get("locale"), r.get("currency")) for r in rows}
    assert 0 < len(kept) <= 2 * len(locales) < len(rows)


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ("{{ unsubscribe_link }}", True),
        ("a {{ unsubscribe_link }} b {% for i in range(3) %}{{ preferences_link }}{% endfor %}", True),
        ("{% if x %}{{ unsubscribe_link }}{% endif %}", True),
        ("{{ unsubscribe_link | upper }}", False),
        ("{{ unsubscribe_link ~ '' }}", False),
        ("{% if unsubscribe_link %}x{% endif %}", False),
        ("{% set unsubscribe_link = 'x' %}{{ unsubscribe_link }}", False),
        ("{% filter upper %}{{ unsubscribe_link }}{% endfilter %}", False),
        ("{% set t %}{{ unsubscribe_link }}{% endset %}{{ t }}", False),
        ("{% macro m() %}{{ unsubscribe_link }}{% endmacro %}{{ m() }}", False),
        ("{{ brand.name }}", True),
    ],
)
def test_links_are_kept_out_of_a_part_only_where_they_are_written_as_they_are(source, kept):
    import jinja2

    from workbench.messages.render import _PER_CUSTOMER, _written_as_they_are

    assert _written_as_they_are(jinja2.Environment().parse(source), _PER_CUSTOMER) is kept


def test_equal_values_written_differently_are_not_shared(strategy, library, synthetic):
    """``1``, ``1.0`` and ``True`` and ``0.0`` and ``-0.0`` are equal in Python but written differently."""
    renderer = Renderer(strategy, templates_dir=library)
    row = synthetic.head(1).to_dict("records")[0]
    subjects = []
    for total in (1, 1.0, True, 0.0, -0.0):
        pair = renderer.render_pair("cart_edgy", {**row, "first_name": "Ana", "orders_total": total})
        subjects.append(pair.subject)
    assert subjects == ["Ana, 1 left", "Ana, 1.0 left", "Ana, True left", "Ana, 0.0 left", "Ana, -0.0 left"]


def test_the_audience_lint_is_lint_pair_on_each_customer_alone(strategy, synthetic):
    profiles = synthetic.head(120)
    findings = []
    for row in profiles.to_dict("records"):
        renderer = Renderer(strategy, cache_parts=False)
        for moment in MOMENTS:
            pair = renderer.render_pair(moment, customer_context(row))
            findings += lint_pair(pair, brand=strategy.brand, markets=strategy.policy.markets)
    expected = _aggregate(findings)
    got = lint_audience(profiles, strategy=strategy, moments=list(MOMENTS), chunk_size=50)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["rendered"] == 2 * len(profiles)


_INSTANTS = st.sampled_from(["2026-10-31 23:59:59.999999999", "2026-10-31", "1970-01-01 00:00:00.5"])
_ZONES = st.sampled_from([None, "UTC", "Europe/Paris", "America/Toronto", "+00:00", "-05:00"])


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(_INSTANTS, _ZONES, st.sampled_from(["s", "ms", "us", "ns"])), min_size=2, max_size=2))
def test_timestamps_share_a_key_only_when_written_the_same(pairs):
    import datetime as dt

    from workbench.messages.render import _canon

    stamps = []
    for text, zone, unit in pairs:
        ts = pd.Timestamp(text).as_unit(unit)
        if zone is not None and zone.startswith(("+", "-")):
            hours = int(zone[:3])
            ts = ts.tz_localize(dt.timezone(dt.timedelta(hours=hours)))
        elif zone is not None:
            ts = ts.tz_localize(zone)
        stamps.append(ts)
    a, b = stamps
    if _canon(a) == _canon(b):
        assert repr(a) == repr(b) and str(a) == str(b)
    assert _canon(a) == _canon(pd.Timestamp(a))  # a copy shares the key
