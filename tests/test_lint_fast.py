"""The lint's and the filters' shortcuts give what the plain computations give, on any input.

Each test holds one shortcut against the straightforward code it replaces (written out here as the
reference): links found only where ``://`` is, placeholders looked for only in texts that hold what
one needs, similarity scores kept per SMS and cleaned email, the sender's name looked for without
lowering the whole email, links read once per distinct URL, and the renderer's memo of dates, numbers
and plural forms.
"""

from __future__ import annotations

import datetime as dt
import decimal
import html as html_lib
import math
import re
import shutil
from functools import partial
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import StrictUndefined

from workbench.messages import lint as L
from workbench.messages.formatting import local_date, number, plural
from workbench.messages.render import _FilterMemo

# Characters that make links, greetings, boilerplate, case rules and words interesting.
URLISH = [*"httpsHTTPSſK:/.?=&<>\"' \t\n,!xy0é", "://", "http://", "https://", "HtTpS://", "hi ", "Reply STOP "]
texts = st.lists(st.sampled_from(URLISH), max_size=40).map("".join) | st.text(max_size=60)


@settings(max_examples=600, deadline=None)
@given(text=texts)
def test_links_are_blanked_exactly_as_the_pattern_does(text):
    assert L._strip_urls(text) == L._URL.sub(" ", text)


def _reference_similarity(sms: str, email_text: str, brand_name: str = "") -> float:
    """The score computed from scratch (no memo), as the lint always defined it."""
    cleaned = L._BOILERPLATE.sub(" ", L._URL.sub(" ", sms))
    if brand_name:
        cleaned = cleaned.replace(brand_name + ":", " ")
    grams = L._trigrams(cleaned)
    if not grams:
        return 0.0
    return len(grams & L._trigrams(L._BOILERPLATE.sub(" ", L._URL.sub(" ", email_text)))) / len(grams)


WORDS = [
    "your",
    "cart",
    "is",
    "waiting",
    "Code",
    "CART10",
    "Hi",
    "Ana,",
    "Reply",
    "STOP",
    "to",
    "opt",
    "out",
    "Northwind:",
    "https://n.example/c?x=1",
    "Wählen",
    "ΣΟΦΙΑΣ",
    "et",
    "votre",
    "panier",
]
sentences = st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join)


# Pieces of placeholders, the words that end one and the characters around them.
PLACEHOLDERISH = [*"{}#%*|[]<>NATnaeoudfiz_ x", "NaT", "nan", "None", "undefined", "<NA>", "{{", "%%", "*|", "[["]
placeholder_texts = st.lists(st.sampled_from(PLACEHOLDERISH), max_size=30).map("".join) | st.text(max_size=40)


@settings(max_examples=800, deadline=None)
@given(text=placeholder_texts)
def test_a_placeholder_is_found_where_the_pattern_finds_it(text):
    found, expected = L._find_placeholder(text), L._PLACEHOLDER.search(text)
    assert (found and (found.span(), found.group(0))) == (expected and (expected.span(), expected.group(0)))


@settings(max_examples=400, deadline=None)
@given(
    pairs=st.lists(st.tuples(sentences | texts, sentences | texts), min_size=1, max_size=6),
    brand=st.sampled_from(["", "Northwind", "Σ"]),
)
def test_similarity_is_the_score_from_scratch_in_any_order(pairs, brand):
    for sms, email in pairs + pairs[::-1]:  # the second pass reads the memo
        assert L.similarity(sms, email, brand_name=brand) == _reference_similarity(sms, email, brand)


@settings(max_examples=500, deadline=None)
@given(
    pairs=st.lists(st.tuples(sentences | texts, sentences | texts), min_size=1, max_size=6),
    brand=st.sampled_from(["", "Northwind"]),
    threshold=st.sampled_from([0.0, 0.1, 0.34, 0.5, 0.51, 1.0, 1.5, float("nan")]),
)
def test_a_repeat_is_scored_exactly_unless_its_score_is_sure_to_be_under_the_threshold(pairs, brand, threshold):
    for sms, email in pairs + pairs[::-1]:
        expected = _reference_similarity(sms, email, brand)
        got = L._repeat_score(sms, email, brand, threshold)
        if got is None:
            assert expected < threshold
        else:
            assert got == expected


NAMEISH = [*"NorthwindΣσςİiI\n .é", "Northwind", "NORTHWIND", "ΟΔΟΣ", "Σ\n"]
names = st.lists(st.sampled_from(NAMEISH), max_size=5).map("".join)
bodies = st.lists(st.sampled_from([*NAMEISH, "x", "Σa", "aΣ", "'Σ"]), max_size=20).map("".join)


@settings(max_examples=800, deadline=None)
@given(name=names, visible=bodies, text=bodies)
def test_the_sender_is_found_as_in_the_lowered_joined_email(name, visible, text):
    body = visible + "\n" + text
    assert L._in_body(name, (visible, text)) == (name in body)
    assert L._names(name, (visible, text)) == (name.lower() in body.lower())


@settings(max_examples=300, deadline=None)
@given(urls=st.lists(texts, min_size=1, max_size=5))
def test_links_read_once_per_url_point_where_they_always_did(urls):
    for url in urls + urls:
        parts = urlsplit(html_lib.unescape(url.rstrip(".,;:!?)")))
        assert L._url_key(url) == (parts.netloc.lower(), parts.path.rstrip("/") or "/")


# ---------------------------------------------------------------- the renderer's memo of filters

LOCALES = ["en-US", "fr-CA", "fr", "de", "en-GB", "es-US", "xx"]
ZONES = [
    None,
    "UTC",
    "America/New_York",
    "Australia/Sydney",
    "Pacific/Kiritimati",
    "Nowhere/Else",
    "America/Toronto|X",
    1.5,
]
STYLES = ["short", "medium", "long", "full", "numeric", "other"]
moments = st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2150, 1, 1))
stamps = st.one_of(
    moments.map(pd.Timestamp),
    moments.map(lambda d: pd.Timestamp(d, tz="UTC")),
    moments.map(lambda d: pd.Timestamp(d, tz="Asia/Kolkata")),
    moments,
    moments.map(lambda d: d.replace(tzinfo=dt.UTC)),
    moments.map(lambda d: d.date()),
    st.tuples(moments, st.integers(1, 999)).map(lambda x: pd.Timestamp(x[0]) + pd.Timedelta(nanoseconds=x[1])),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)).map(pd.Timestamp),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.sampled_from([None, pd.NaT, float("nan"), "2026-10-02T23:30:00"]),
)
numbers_ = st.one_of(
    st.integers(-10_000, 10_000),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=1000),
    st.integers(-100, 100).map(np.int64),
    st.floats(-1e6, 1e6).map(np.float64),
    st.sampled_from([None, 0, 1, 1.0, -0.0, 0.0, True, decimal.Decimal("1.0"), decimal.Decimal("1")]),
)


def _same(memo_call, plain_call):
    """Both calls give the same text, or both fail with the same kind of error."""
    try:
        expected = plain_call()
    except Exception as exc:  # the memo must fail the same way
        with pytest.raises(type(exc)):
            memo_call()
        return
    assert memo_call() == expected
    assert memo_call() == expected  # and again, from the memo


@settings(max_examples=400, deadline=None)
@given(
    values=st.lists(st.tuples(stamps, st.sampled_from(ZONES), st.sampled_from(STYLES)), min_size=1, max_size=8),
    loc=st.sampled_from(LOCALES),
    gsm=st.booleans(),
)
def test_memo_of_dates_writes_what_local_date_writes(values, loc, gsm):
    memo = _FilterMemo()
    for value, tz, style in values:
        _same(
            partial(memo.local_date, value, tz, style, loc, gsm),
            partial(local_date, value, tz, style, locale=loc, gsm=gsm),
        )


@settings(max_examples=400, deadline=None)
@given(
    values=st.lists(numbers_, min_size=1, max_size=8),
    loc=st.sampled_from(LOCALES),
    gsm=st.booleans(),
    forms=st.dictionaries(
        st.sampled_from(["zero", "two", "few", "many"]), st.sampled_from(["#", "# x", "z"]), max_size=2
    ),
)
def test_memo_of_numbers_and_plurals_writes_what_the_filters_write(values, loc, gsm, forms):
    memo = _FilterMemo()
    for value in values:
        _same(partial(memo.number, value, loc, gsm), partial(number, value, locale=loc, gsm=gsm))
        _same(
            partial(memo.plural, value, "# one", "# other", forms, loc, gsm),
            partial(plural, value, one="# one", other="# other", locale=loc, gsm=gsm, **forms),
        )


def test_equal_numbers_written_differently_are_kept_apart():
    memo = _FilterMemo()
    outputs = {memo.number(v, "en-US", False) for v in (1, 1.0, decimal.Decimal("1.00"), np.float64(1.0))}
    assert outputs == {number(v, locale="en-US") for v in (1, 1.0, decimal.Decimal("1.00"), np.float64(1.0))}
    assert math.isnan(float("nan")) and memo.number(float("nan"), "fr", False) == number(float("nan"), locale="fr")


def test_a_timestamp_just_before_midnight_in_the_customers_zone_keeps_its_own_day():
    memo = _FilterMemo()
    late = pd.Timestamp("2026-10-03T03:30:00", tz="UTC")  # Oct 2 in New York, Oct 3 in Sydney
    for tz in ("America/New_York", "Australia/Sydney", "America/New_York"):
        assert memo.local_date(late, tz, "long", "en-US", False) == local_date(late, tz, "long", locale="en-US")
    assert re.search("October 2", memo.local_date(late, "America/New_York", "long", "en-US", False))


# ---------------------------------------------------------------- the sandbox's shortcuts

ATTRIBUTES = ["name", "get", "items", "keys", "__class__", "__dict__", "_refuse", "update", "pop", "mro", "x", "", "1"]


@settings(max_examples=300, deadline=None)
@given(
    data=st.dictionaries(st.sampled_from([*ATTRIBUTES, "first_name"]), st.integers() | st.text(max_size=3)),
    attribute=st.sampled_from(ATTRIBUTES) | st.text(max_size=6),
)
def test_reading_a_read_only_dict_is_what_the_immutable_sandbox_reads(data, attribute):
    from jinja2.runtime import Undefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from workbench.messages.sandbox import FrozenDict, TemplateSandbox

    env = TemplateSandbox(undefined=StrictUndefined)
    frozen = FrozenDict(data)
    got = env.getattr(frozen, attribute)
    expected = ImmutableSandboxedEnvironment.getattr(env, frozen, attribute)
    if isinstance(expected, Undefined):
        assert type(got) is type(expected)
        assert (got._undefined_name, got._undefined_obj, got._undefined_hint) == (
            expected._undefined_name,
            expected._undefined_obj,
            expected._undefined_hint,
        )
    else:
        assert got == expected or (callable(got) and getattr(got, "__name__", None) == expected.__name__)


def test_a_templates_globals_are_the_sandboxs_and_its_own_in_one_dict():
    from collections import ChainMap

    from jinja2 import DictLoader

    from workbench.messages.sandbox import TemplateSandbox

    env = TemplateSandbox(loader=DictLoader({"t": "{{ range(3) | list }} {{ own }}", "u": "{{ range(2) | list }}"}))
    template = env.get_template("t", globals={"own": "mine"})
    assert type(template.globals) is dict
    assert template.globals == dict(ChainMap({"own": "mine"}, env.globals))
    assert template.render() == "[0, 1, 2] mine"
    shadowing = env.from_string("{{ range }}", globals={"range": "shadowed"})
    assert shadowing.render() == "shadowed"
    plain = env.get_template("u")
    assert plain.globals == dict(env.globals)
    assert plain.render() == "[0, 1]"
    assert env.from_string("{{ range(3) | list }}").render() == "[0, 1, 2]"


# ---------------------------------------------------------------- CSS inlined once per layout

_VALUE_TEXT = st.lists(
    st.sampled_from(["Ana", "José", " ", "\n", "\t", "&", "<b>", '"', "'", "\xa0", "x y", "10 €", "王", "", "a&b"]),
    max_size=4,
).map("".join)


@pytest.fixture(scope="module")
def skeletons(strategy, sample_profiles):
    from workbench.messages.render import Renderer, _split_outputs, customer_context

    renderer = Renderer(strategy)
    found = {}
    for row in sample_profiles.head(40).to_dict("records"):
        for moment in ("cart_abandonment", "post_purchase_confirmation", "welcome"):
            ctx = renderer.context(moment, customer_context(row), variant="A")
            resolution = ctx.pop("resolution")
            parts = renderer.templates(moment, "A", resolution.locale)
            ctx["subject"], ctx["preheader"] = "Subject", "Preheader"
            chunks = renderer._render_chunks(parts["html"], ctx)
            skeleton, values = _split_outputs(chunks)
            found.setdefault(skeleton, (values, chunks))
    return renderer, [(skeleton, values) for skeleton, (values, _) in found.items()], [c for _, c in found.values()]


@settings(max_examples=150, deadline=None)
@given(pick=st.integers(0, 10_000), texts=st.lists(_VALUE_TEXT, min_size=1, max_size=8), spots=st.data())
def test_a_layout_with_any_values_is_the_whole_body_inlined(skeletons, pick, texts, spots):
    from markupsafe import Markup, escape

    from workbench.messages.render import _SLOT, _fill

    renderer, layouts, _ = skeletons
    skeleton, values = layouts[pick % len(layouts)]
    values = list(values)
    for text in texts:  # some outputs get other text, escaped as Jinja writes it
        values[spots.draw(st.integers(0, len(values) - 1))] = str(escape(text))
    # the chunks a render writes: the skeleton's own text as str, each output as Markup
    pieces = _SLOT.split(skeleton)
    chunks = [Markup(values[int(p)]) if k % 2 else p for k, p in enumerate(pieces) if k % 2 or p]
    html, layout = renderer._css.inline_chunks(chunks)
    assert html == renderer._inliner.inline(_fill(skeleton, values))
    if layout is not None:
        assert layout.html == html


@settings(max_examples=150, deadline=None)
@given(pick=st.integers(0, 10_000), texts=st.lists(_VALUE_TEXT, min_size=1, max_size=8), spots=st.data())
def test_a_renders_chunks_with_any_values_are_the_whole_body_inlined(skeletons, pick, texts, spots):
    from markupsafe import Markup, escape

    renderer, _, streams = skeletons
    chunks = list(streams[pick % len(streams)])
    outputs = [k for k, c in enumerate(chunks) if isinstance(c, Markup)]
    for text in texts:  # some outputs write other text, as Jinja writes it
        chunks[spots.draw(st.sampled_from(outputs))] = escape(text)
    html, layout = renderer._css.inline_chunks(chunks)
    assert html == renderer._inliner.inline("".join(chunks))
    if layout is not None:
        assert layout.html == html


# The template's own text: markup, quotes, entities, marker characters and digits that could pass for a marker.
_OWN_TEXT = st.lists(
    st.sampled_from(["a", " ", "<p>", "</p>", "&amp;", '"', "'", "\n", "1", "\ue000", "\ue001", "é"]), max_size=6
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    own=st.lists(_OWN_TEXT, min_size=1, max_size=5),
    values=st.lists(_VALUE_TEXT | st.integers(-5, 5) | st.none(), min_size=1, max_size=5),
    shown=st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_a_render_splits_into_its_own_text_and_each_output_as_escaped(own, values, shown):
    from markupsafe import escape

    from workbench.messages.render import _fill, _split_outputs
    from workbench.messages.sandbox import TemplateSandbox, render_chunks

    env = TemplateSandbox(autoescape=True)
    source, skeleton, written = [], [], []
    for k, value in enumerate(values):
        text = own[k % len(own)]
        source.append("{% raw %}" + text + "{% endraw %}")
        skeleton.append(text)
        # an output in a branch taken or not, then a constant output, which is the template's own text
        source.append(f"{{% if show{k} %}}{{{{ v{k} }}}}{{% endif %}}{{{{ '<i>' }}}}")
        if shown[k]:
            skeleton.append(f"\ue000{len(written)}\ue001")
            written.append(str(escape(value)))
        skeleton.append("&lt;i&gt;")
    template = env.from_string("".join(source))
    ctx = {**{f"v{k}": v for k, v in enumerate(values)}, **{f"show{k}": shown[k] for k in range(len(values))}}
    chunks = render_chunks(template, ctx)
    assert "".join(chunks) == template.render(ctx)
    split = _split_outputs(chunks)
    if any("\ue000" in text for text in own[: len(values)]):
        assert split is None  # the template's own text has a marker character: not split
        return
    assert split == ("".join(skeleton), written)
    assert _fill(*split) == template.render(ctx)


def test_a_layout_with_an_autoescape_block_is_inlined_per_message(tmp_path, root, strategy, sample_profiles):
    from workbench.messages.render import Renderer, customer_context

    html = (root / "templates" / "welcome" / "email.html.j2").read_text()
    html = html.replace(
        "{% block content %}",
        "{% block content %}{% autoescape false %}<p>{{ customer.first_name }}</p>{% endautoescape %}",
    )
    assert "{% autoescape false %}" in html
    folder = tmp_path / "templates"
    for name in ("_base", "welcome"):
        shutil.copytree(root / "templates" / name, folder / name)
    (folder / "welcome" / "email.html.j2").write_text(html)
    renderer = Renderer(strategy, templates_dir=folder)
    row = dict(sample_profiles.iloc[0], first_name="<b>Bo</b>")
    pair, layout = renderer.render_pair_layout("welcome", customer_context(row))
    assert layout is None
    assert "<b>Bo</b>" in pair.html
    ctx = renderer.context("welcome", customer_context(row), variant="A")
    parts = renderer.templates("welcome", "A", ctx.pop("resolution").locale)
    ctx["subject"], ctx["preheader"] = pair.subject, pair.preheader
    assert pair.html == renderer._inliner.inline(parts["html"].render(ctx))


# Pieces of layouts around the values: tags with values inside and outside quotes, in names, repeated.
_LAYOUT_PIECES = [
    '<a href="',
    '" data-cta="x">',
    "<a ",
    "href=",
    " title='",
    "'>",
    '<img src="',
    '" alt="',
    '">',
    "</a>",
    "<p>",
    " ",
    '"',
    "'",
    "=",
    'HREF="',
    "x",
    "&amp;",
    "&",
    "<style>a{}</style>",
]
_LAYOUT_VALUES = ["Ana", " ", "&amp;", '"', "'", "x y", "=", "a&b", "&#39;", "", "é", "http://x.example", "a=b c"]


@settings(max_examples=400, deadline=None)
@given(
    segments=st.lists(st.lists(st.sampled_from(_LAYOUT_PIECES), max_size=4).map("".join), min_size=2, max_size=7),
    data=st.data(),
)
def test_the_facts_of_a_layout_with_values_are_the_whole_bodys(segments, data):
    count = len(segments) - 1
    values = tuple(data.draw(st.lists(st.sampled_from(_LAYOUT_VALUES), min_size=count, max_size=count)))
    html = segments[0] + "".join(v + seg for v, seg in zip(values, segments[1:], strict=True))
    facts = L._LayoutFacts(segments).facts(values)
    if facts is not None:
        assert facts == L._html_facts(html)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.text(alphabet="a&;< >\t\n\f\x00#", max_size=6), min_size=1, max_size=5))
def test_a_layout_is_read_with_values_that_hold_no_markup_and_close_every_reference(values):
    def closed(v):  # html.unescape reads no character reference past one of these
        at = v.rfind("&")
        return at < 0 or any(c in v[at + 1 :] for c in "\t\n\f <;")

    layout = L._LayoutFacts(["<p>", *(["</p><p>"] * (len(values) - 1)), "</p>"])
    expected = not any("<" in v or ">" in v for v in values) and all(closed(v) for v in values)
    got = layout.readable(tuple(values))
    # a value holding NUL may be read whole when it need not be; never the other way round
    assert got == expected or (not got and any("\x00" in v for v in values))


@settings(max_examples=200, deadline=None)
@given(cid=st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True) | st.text(max_size=8))
def test_customer_links_carry_the_id_as_urlencode_writes_it(strategy, cid):
    from urllib.parse import urlencode

    from workbench.messages.render import Renderer, customer_context

    renderer = _RENDERERS.setdefault("plain", Renderer(strategy))
    ctx = renderer.context("cart_abandonment", customer_context({"customer_id": cid}), variant="A")
    query = "?" + urlencode({"c": cid}) if cid else ""
    assert ctx["unsubscribe_link"] == renderer.brand["unsubscribe_url"] + query
    assert ctx["preferences_link"] == renderer.brand["preferences_url"] + query


_RENDERERS: dict[str, object] = {}


def _render_one_chunk_at_a_time(template, context, *, max_chars):
    """The streaming render as it was: one chunk at a time, stopping at the chunk that passes the limit."""
    from workbench.messages.sandbox import _BUDGET, TemplateLimit

    saved = (_BUDGET.deadline, _BUDGET.seconds, _BUDGET.max_chars, _BUDGET.written)
    _BUDGET.deadline, _BUDGET.seconds, _BUDGET.max_chars, _BUDGET.written = 1e18, 2.0, max_chars, 0
    chunks = template.root_render_func(template.new_context(dict(context)))
    out, size, over = [], 0, False
    try:
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > max_chars:
                    over = True
                    break
                out.append(chunk)
        except Exception:
            template.environment.handle_exception()
    finally:
        chunks.close()
        _BUDGET.deadline, _BUDGET.seconds, _BUDGET.max_chars, _BUDGET.written = saved
    if over:
        raise TemplateLimit(f"wrote more than {max_chars:,} characters, the output size limit", "", kind="size")
    return "".join(out)


_PIECES = st.one_of(
    st.sampled_from(["a", "bb", "\n", "{{ 'x' * 7 }}", "{{ 'y' * 30 }}", "{{ n }}"]),
    st.sampled_from(["{{ missing.x }}", "{{ 1 // 0 }}", "{% for i in range(3) %}{{ i }}z{% endfor %}"]),
)


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=60), limit=st.integers(0, 200))
def test_streaming_a_few_chunks_at_a_time_gives_what_one_at_a_time_gave(pieces, limit):
    from jinja2 import DictLoader

    from workbench.messages.sandbox import TemplateSandbox, render_limited

    env = TemplateSandbox(loader=DictLoader({"t": "".join(pieces)}), undefined=StrictUndefined)
    template = env.get_template("t")
    outcomes = []
    for render in (partial(render_limited, seconds=60), _render_one_chunk_at_a_time):
        try:
            outcomes.append(("text", render(template, {"n": 5}, max_chars=limit)))
        except Exception as exc:
            outcomes.append((type(exc).__name__, str(exc)))
    assert outcomes[0] == outcomes[1]


_MARKUPISH = [
    *"<>\"'\r\x00\ue000\ue001\ue002\ue003\ue004&;#ampltg3479 x",
    "&amp;",
    "&lt;",
    "&gt;",
    "&#34;",
    "&#39;",
    "&amp",
]


@settings(max_examples=800, deadline=None)
@given(text=st.lists(st.sampled_from(_MARKUPISH), max_size=20).map("".join) | st.text(max_size=30))
def test_values_the_layout_cannot_vouch_for_are_the_ones_the_pattern_finds(text):
    from workbench.messages.render import _UNSAFE_VALUE, _unsafe

    assert _unsafe(text) == (_UNSAFE_VALUE.search(text) is not None)


_CODEISH = [*"cCoOdDeE :\n\tA9Zİı", "code", "CODE", "Code:", "Code ", "SAVE10", "CART10", "xcode", "ΣΣ", "İ"]


@settings(max_examples=800, deadline=None)
@given(text=st.lists(st.sampled_from(_CODEISH), max_size=25).map("".join) | st.text(max_size=40))
def test_offer_codes_are_found_where_the_pattern_finds_them(text):
    assert L._find_codes(text) == L._CODE.findall(text)
    assert L._find_codes(text, text.lower()) == L._CODE.findall(text)


def test_only_ascii_letters_match_the_letters_of_code_when_case_is_ignored():
    letters = re.compile("(?i)[code]")
    found = {chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and letters.match(chr(c))}
    assert found == set("codeCODE")
    assert {c for c in found if c.lower() in "code"} == found
