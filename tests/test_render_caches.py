"""The bulk path's caches never carry one customer's data into another's message or findings.

The renderer keeps one SMS analysis per distinct text and the bulk lint keeps what its rules read from
each distinct part of an email (parts that differ only by the customer id in their links share it).
Each test compares the cached path with the plain one: lint_pair on every pair, a fresh renderer for
every customer.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.messages import Renderer, lint_audience, lint_pair
from workbench.messages.lint import _aggregate, _LintMemo
from workbench.messages.render import customer_context, iter_pairs
from workbench.models.errors import TemplateError

MOMENTS = ("cart_abandonment", "post_purchase_confirmation")
# Ids a rule could read differently from the sentinel that replaces them, and ordinary ones.
TRICKY_IDS = [
    "C0000001",
    "nan1",
    "nan",
    "None",
    "code1",
    "CODE9",
    "0000",
    "000000",
    "1",
    "http1",
    "https",
    "Northwind1",
    "northwind",
    "a=b1",
    "x y 1",
    "Hi1",
    "A1north",  # ends the way the brand name starts
    "Z9care",  # ... and the reply-to address
    "7https",
    "é1",
    "id&1",
    "",
    "12345678901234567890123456789012345678901234567890123456789012345",
]
NAMES = ["Ana", "José", "Zoë", "王芳", "Łukasz", None, "", "Code", "None", "Northwind", "Jean-Luc"]
ids = st.one_of(st.sampled_from(TRICKY_IDS), st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True), st.text(max_size=8))
customers = st.lists(st.tuples(ids, st.sampled_from(NAMES)), min_size=1, max_size=6)


def _library(folder, root):
    """The shipped cart and order messages, and two copies of the cart that put the id where rules read it."""
    for name in ("_base", *MOMENTS):
        shutil.copytree(root / "templates" / name, folder / name)
    img = folder / "cart_img"
    shutil.copytree(root / "templates" / "cart_abandonment", img)
    html = (img / "email.html.j2").read_text(encoding="utf-8")
    # no alt: the message quotes src, which has the id as it is, and the id as a link's query value
    pixel = '<img src="https://cdn.example/open.png?c={{ customer.customer_id }}"><img src="{{ preferences_link }}">'
    (img / "email.html.j2").write_text(html.replace("{% endblock %}\n", pixel + "{% endblock %}\n", 1))
    code = folder / "cart_code"
    shutil.copytree(root / "templates" / "cart_abandonment", code)
    text = (code / "email.txt.j2").read_text(encoding="utf-8")
    (code / "email.txt.j2").write_text(
        text + "\nCode {{ customer.customer_id }}\n[[{{ unsubscribe_link }}]]\nref={{ customer.customer_id }}:x\n"
    )
    return folder


@pytest.fixture(scope="module")
def library(tmp_path_factory, root):
    return _library(tmp_path_factory.mktemp("ids") / "templates", root)


@pytest.fixture(scope="module")
def shared(strategy, library):
    """One renderer and one lint memo for every example: what one customer leaves behind, the next meets."""
    return Renderer(strategy, templates_dir=library), _LintMemo(strategy.brand, markets=strategy.policy.markets)


@pytest.fixture(scope="module")
def base_rows(sample_profiles):
    rows = sample_profiles.head(40).to_dict("records")
    return [r for r in rows if r.get("last_order_at") is not None][:4] + rows[:2]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=customers, pick=st.integers(0, 5))
def test_lint_memo_gives_each_customer_what_lint_pair_gives(shared, base_rows, strategy, customers, pick):
    renderer, memo = shared
    for cid, name in customers:
        row = {**base_rows[pick % len(base_rows)], "customer_id": cid, "first_name": name}
        for moment in (*MOMENTS, "cart_img", "cart_code"):
            pair, layout = renderer.render_pair_layout(moment, row)  # the memo reads the HTML from its layout
            expected = lint_pair(pair, brand=strategy.brand, markets=strategy.policy.markets)
            assert memo.lint(pair, layout) == expected, (moment, cid, name)
            assert all(f.customer_id == pair.customer_id for f in expected)


def _kept(memo):
    return len(memo.links), len(memo.seen), len(memo.texts)


def test_the_memo_shares_readings_only_where_the_id_is_neutral(shared, base_rows, strategy):
    renderer, memo = shared
    row = base_rows[0]
    a, layout_a = renderer.render_pair_layout("cart_abandonment", {**row, "customer_id": "C7000001"})
    b, layout_b = renderer.render_pair_layout("cart_abandonment", {**row, "customer_id": "C7000002"})
    assert a.html != b.html and a.text != b.text and layout_a is not None and layout_b is not None
    memo.lint(a, layout_a)
    kept = _kept(memo)
    memo.lint(b, layout_b)
    assert _kept(memo) == kept  # the id in their links is all they differ by: b reads nothing again
    # an id with no digit, or with other characters, is compared as it is
    for cid in ("nan", "a=b1"):
        pair, layout = renderer.render_pair_layout("cart_abandonment", {**row, "customer_id": cid})
        memo.lint(pair, layout)
        assert pair.text in memo.texts
    # only the id as a query value is replaced: after "Code" it stays
    pair, layout = renderer.render_pair_layout("cart_code", {**row, "customer_id": "C7000003"})
    memo.lint(pair, layout)
    assert [t for t in memo.texts if "Code C7000003" in t and "ref=00000000:x" in t]
    # a finding that quotes the id (an image's src, a placeholder) names each customer's own id
    for cid in ("C7000004", "C7000005"):
        pair, layout = renderer.render_pair_layout("cart_img", {**row, "customer_id": cid})
        alt = [f for f in memo.lint(pair, layout) if f.rule == "email-img-alt"]
        assert len(alt) == 2 and all(cid in f.message and f.customer_id == cid for f in alt)
        pair, layout = renderer.render_pair_layout("cart_code", {**row, "customer_id": cid})
        left = [f for f in memo.lint(pair, layout) if f.rule == "email-placeholder"]
        assert len(left) == 1 and f"[[https://www.northwind.example/u/one-click?c={cid}]]" in left[0].message


def test_an_id_that_holds_the_brand_name_is_compared_as_it_is(strategy, library, base_rows):
    """Where the brand's name is found in a text body only inside the id, replacing the id would hide it."""
    renderer = Renderer(strategy, templates_dir=library)
    brand = strategy.brand.model_copy(update={"name": "Zed"})  # a name the messages never write
    memo = _LintMemo(brand, markets=strategy.policy.markets)
    row = next(r for r in base_rows if r["country"] == "CA")  # CASL: the email must name its sender
    unnamed = []
    for cid in ("Q1abc", "Q1zed"):  # the same length: one sentinel, one text as compared if replaced
        pair, layout = renderer.render_pair_layout("cart_abandonment", {**row, "customer_id": cid})
        expected = lint_pair(pair, brand=brand, markets=strategy.policy.markets)
        assert memo.lint(pair, layout) == expected, cid
        unnamed.append(any("does not name the sender 'Zed'" in f.message for f in expected))
    assert unnamed == [True, False]  # the second id names the brand (in its links): the case is met


@pytest.fixture(scope="module")
def audience(sample_profiles):
    profiles = sample_profiles.head(40).copy()
    profiles.loc[profiles.index[:6], "first_name"] = ["Zoë", "王芳", None, "", "Jean-Luc", "A" * 40]
    return profiles


def _texts(p):
    """What a customer receives in a rendered pair, comparable across renderers."""
    return (
        p.subject,
        p.preheader,
        p.html,
        p.text,
        p.sms,
        p.headers,
        p.sms_analysis.to_dict() if p.sms_analysis else None,
        p.locale,
        p.currency,
        p.market,
    )


@pytest.fixture(scope="module")
def alone(audience, strategy):
    """Each customer's pairs from a renderer of their own (nothing cached from anyone else)."""
    out = {}
    for row in audience.head(12).to_dict("records"):
        renderer = Renderer(strategy)
        for moment in MOMENTS:
            p = renderer.render_pair(moment, customer_context(row))
            out[(str(row["customer_id"]), moment)] = _texts(p)
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(12)), chunk=st.integers(1, 12))
def test_rendering_in_any_order_or_batch_gives_each_customer_their_own_texts(audience, strategy, alone, order, chunk):
    profiles = audience.head(12).iloc[list(order)]
    for moment in MOMENTS:
        pairs = [p for batch in iter_pairs(profiles, moment, strategy=strategy, chunk_size=chunk) for p in batch]
        assert [p.customer_id for p in pairs] == [str(c) for c in profiles["customer_id"]]
        for p in pairs:
            assert _texts(p) == alone[(p.customer_id, moment)]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(40)), chunk=st.sampled_from([1, 7, 40]), batch=st.sampled_from([1, 3, 64]))
def test_bulk_lint_in_any_order_is_lint_pair_on_each_customer(audience, strategy, order, chunk, batch):
    from unittest import mock

    from workbench.messages import lint

    profiles = audience.iloc[list(order)]
    renderer = Renderer(strategy)
    findings = []
    for row in profiles.to_dict("records"):
        for moment in MOMENTS:
            pair = renderer.render_pair(moment, customer_context(row))
            findings += lint_pair(pair, brand=strategy.brand, markets=strategy.policy.markets)
    expected = _aggregate(findings)
    with mock.patch.object(lint, "_BATCH", batch):  # customers rendered before their pairs are linted
        got = lint_audience(profiles, strategy=strategy, moments=list(MOMENTS), chunk_size=chunk)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["rendered"] == 2 * len(profiles)


def test_an_sms_analysis_is_each_pairs_own(strategy, audience):
    renderer = Renderer(strategy)
    row = customer_context(audience.iloc[6].to_dict())
    first = renderer.render_pair("cart_abandonment", row)
    second = renderer.render_pair("cart_abandonment", row)
    assert first.sms == second.sms and first.sms_analysis == second.sms_analysis
    first.sms_analysis.replacements["x"] = "y"  # a caller changing its own copy ...
    assert "x" not in second.sms_analysis.replacements  # ... changes nobody else's
    assert "x" not in renderer.render_pair("cart_abandonment", row).sms_analysis.replacements


def test_the_sandbox_holds_in_bulk_and_the_budget_is_restored(tmp_path, root, strategy, audience):
    folder = tmp_path / "templates"
    for name in ("_base", *MOMENTS):
        shutil.copytree(root / "templates" / name, folder / name)
    sms = folder / "cart_abandonment" / "sms.txt.j2"
    sms.write_text("{{ brand.update(name='Evil') }}{{ brand.name }}: {{ customer.first_name }}\n")
    profiles = audience.head(10)
    out = lint_audience(profiles, strategy=strategy, moments=list(MOMENTS), templates_dir=folder, chunk_size=3)
    refused = out[out["rule"] == "template-render"]
    probe = Renderer(strategy, templates_dir=folder)
    served = sum(
        probe.resolve("cart_abandonment", "A", probe.customer_locale(customer_context(r))).names["sms"]
        == "cart_abandonment/sms.txt.j2"
        for r in profiles.to_dict("records")
    )
    assert served >= 5 and len(refused) == 1 and refused.iloc[0]["customers"] == served
    assert "refused by the sandbox" in refused.iloc[0]["message"]
    # the other moment is linted exactly as from the shipped library: nothing changed the brand
    clean = lint_audience(profiles, strategy=strategy, moments=["post_purchase_confirmation"], chunk_size=3)
    pd.testing.assert_frame_equal(
        out[out["moment"] == "post_purchase_confirmation"].reset_index(drop=True), clean.reset_index(drop=True)
    )
    # an output past the size limit stops that render; the next render has its whole budget again
    sms.write_text("{% for i in range(100) %}{{ 'x' * 9000 }}{% endfor %}\n")
    renderer = Renderer(strategy, templates_dir=folder, max_output=500_000)
    row = customer_context(audience.iloc[0].to_dict())
    with pytest.raises(TemplateError, match="output size limit"):
        renderer.render_pair("cart_abandonment", row)
    assert renderer.render_pair("post_purchase_confirmation", row).html.startswith("<!DOCTYPE html>")


def test_the_benchmark_floor_renders_the_same_texts(strategy, audience):
    """The floor of ``make bench`` (bare Jinja) does the same rendering work: the same texts, before CSS inlining."""
    from benchmarks.bench_messages import BareJinja

    bare = BareJinja(strategy)
    renderer = Renderer(strategy)
    frame = audience.head(12).astype(object)
    for row in frame.where(frame.notna(), None).to_dict("records"):
        for moment in MOMENTS:
            got = bare.parts(moment, row)
            pair = renderer.render_pair(moment, row)
            assert " ".join(got["subject"].split()) == pair.subject
            assert " ".join(got["preheader"].split()) == pair.preheader
            assert got["text"].strip() + "\n" == pair.text
            assert " ".join(got["sms"].split()) == " ".join(pair.sms.split())
            assert f"?c={pair.customer_id}" in got["headers"] and pair.headers["List-Unsubscribe"] in got["headers"]


def _compiles(monkeypatch):
    import jinja2

    seen: list[str | None] = []
    compile_ = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        seen.append(name)
        return compile_(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return seen


def test_renderers_of_one_library_share_compiled_templates_and_nothing_else(
    tmp_path, root, strategy, audience, monkeypatch
):
    folder = _library(tmp_path / "templates", root)
    compiled = _compiles(monkeypatch)
    rows = audience.head(3).to_dict("records")
    first = Renderer(strategy, templates_dir=folder)
    texts = [first.render_pair("cart_abandonment", customer_context(r)) for r in rows]
    assert compiled, "the first renderer compiles the library"
    compiled.clear()
    second = Renderer(strategy, templates_dir=folder)
    again = [second.render_pair("cart_abandonment", customer_context(r)) for r in rows]
    assert compiled == [], "a second renderer of the same library reuses the compiled code"
    assert [_texts(p) for p in again] == [_texts(p) for p in texts]
    # a setting read when compiling (no sandbox) gets code of its own
    bare = Renderer(strategy, templates_dir=folder, sandboxed=False)
    bare.render_pair("cart_abandonment", customer_context(rows[0]))
    assert compiled, "the unsandboxed environment compiles its own code"
    # a changed file is compiled again and its new text shows
    compiled.clear()
    sms = folder / "cart_abandonment" / "sms.txt.j2"
    sms.write_text("Changed " + sms.read_text(encoding="utf-8"), encoding="utf-8")
    third = Renderer(strategy, templates_dir=folder)
    pair = third.render_pair("cart_abandonment", customer_context(rows[0]))
    assert "cart_abandonment/sms.txt.j2" in compiled and pair.sms is not None and "Changed " in pair.sms
    assert texts[0].sms is not None and "Changed " not in texts[0].sms


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(st.integers(0, 30), max_size=80), limit=st.integers(1, 8))
def test_a_bounded_memo_never_holds_more_than_its_limit_and_gives_back_what_it_keeps(keys, limit):
    from workbench.messages.memo import remember

    memo: dict[int, str] = {}
    for key in keys:
        assert remember(memo, key, f"v{key}", limit) == f"v{key}"
        assert memo[key] == f"v{key}" and len(memo) <= limit


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the garbage collector frees it


def test_the_heap_is_set_aside_while_a_block_runs_and_what_it_makes_is_still_collected():
    import gc
    import weakref

    from workbench.messages.memo import heap_set_aside

    assert gc.get_freeze_count() == 0
    before = _Node()
    with heap_set_aside():
        assert gc.get_freeze_count() > 0  # what was alive on entry is left out
        inside = _Node()
        gone = weakref.ref(inside)
        del inside
        gc.collect()
        assert gone() is None  # a cycle made inside the block is collected as usual
    assert gc.get_freeze_count() == 0  # and the heap is the collector's again afterwards
    kept = weakref.ref(before)
    del before
    gc.collect()
    assert kept() is None


def test_what_is_settled_in_a_block_waits_for_its_end_and_is_collected_then():
    import gc
    import weakref

    from workbench.messages.memo import heap_set_aside

    with heap_set_aside() as settle:
        frozen = gc.get_freeze_count()
        kept = _Node()
        settle()  # alive now: left out of the collections until the block ends
        assert gc.get_freeze_count() > frozen
        settled = weakref.ref(kept)
        del kept
        gc.collect()
        assert settled() is not None
        later = _Node()  # made after the settle: collected as usual
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert settled() is None


def test_a_heap_set_aside_by_someone_else_is_left_as_it_is():
    import gc
    import weakref

    from workbench.messages.memo import heap_set_aside

    theirs = _Node()
    kept = weakref.ref(theirs)
    gc.freeze()
    try:
        with heap_set_aside() as settle:
            mine = _Node()
            settle()  # sets nothing aside of its own either: the cycle is still the collector's
            gone = weakref.ref(mine)
            del mine
            gc.collect()
            assert gone() is None
        del theirs
        gc.collect()
        assert gc.get_freeze_count() > 0
        assert kept() is not None  # what they set aside is still out of the collector's passes
    finally:
        gc.unfreeze()
    gc.collect()
    assert kept() is None  # collected once they give it back


def test_bulk_lint_leaves_the_heap_to_the_collector_when_it_ends(audience, strategy):
    import gc

    out = lint_audience(audience, strategy=strategy, moments=["cart_abandonment"], chunk_size=3)
    assert out.attrs["rendered"] == len(audience)
    assert gc.get_freeze_count() == 0
