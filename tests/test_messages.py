"""Template library and rendering: manifests, brand facts, fallbacks, escaping, sandbox, strict variables."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from workbench.messages import MOMENTS, Renderer, iter_pairs, load_library, render_pair
from workbench.messages.render import clean_first_name, local_date, money
from workbench.models.errors import TemplateError

AS_OF = "2026-10-31"


def customer(sample_profiles, **overrides):
    row = sample_profiles.iloc[0].to_dict()
    row.update(overrides)
    return row


def test_library_has_every_moment_with_a_complete_manifest(root):
    lib = load_library()
    assert list(lib) == list(MOMENTS)
    for moment, m in lib.items():
        assert m.moment == moment and m.objective and m.primary_cta and m.owner and m.version >= 1
        assert m.approval in {"draft", "approved"} and m.variants[0] == "A"
        folder = root / "templates" / moment
        for name in ("subject.txt.j2", "preheader.txt.j2", "email.html.j2", "email.txt.j2", "sms.txt.j2"):
            assert (folder / name).exists(), f"{moment}/{name}"
            source = (folder / name).read_text()
            assert "Northwind" not in source and "500 Market" not in source  # brand facts come from the strategy
        assert '{% extends "_base/email.html.j2" %}' in (folder / "email.html.j2").read_text()


def test_env_var_overrides_the_library(tmp_path, root, monkeypatch):
    shutil.copytree(root / "templates" / "_base", tmp_path / "_base")
    shutil.copytree(root / "templates" / "win_back", tmp_path / "win_back")
    monkeypatch.setenv("WORKBENCH_TEMPLATES", str(tmp_path))
    assert list(load_library()) == ["win_back"]


def test_render_every_moment_and_variant_for_sample_customers(sample_profiles, strategy):
    renderer = Renderer(strategy)
    rows = sample_profiles.head(30).to_dict("records")
    for moment, manifest in renderer.library.items():
        for variant in manifest.variants:
            for row in rows:
                pair = renderer.render_pair(moment, row, variant=variant)
                assert pair.subject and pair.preheader and pair.sms
                assert strategy.brand.postal_address in pair.text
                # French typography puts a space before the colon ("Northwind : ...")
                assert pair.sms.startswith((strategy.brand.name + ":", strategy.brand.name + " :"))
                assert pair.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
                assert "<style" not in pair.html.split("</head>")[1]  # CSS inlined into the body
                assert 'style="' in pair.html


def test_brand_facts_come_from_the_strategy(sample_profiles, strategy):
    other = strategy.model_copy(
        update={
            "brand": strategy.brand.model_copy(
                update={"name": "Acme", "postal_address": "1 Acme Way, Springfield", "sms_program_name": "Acme Texts"}
            )
        }
    )
    pair = render_pair("welcome", customer(sample_profiles), strategy=other)
    assert "Acme" in pair.subject and "1 Acme Way, Springfield" in pair.html
    assert pair.sms.startswith("Acme:") and "Acme Texts" in pair.sms
    assert "Northwind" not in pair.sms


def test_dynamic_blocks_and_fallbacks(sample_profiles, strategy):
    gold = customer(
        sample_profiles,
        loyalty_tier="gold",
        orders_total=4,
        revenue_total=250.0,
        last_viewed_product="SKU-0042",
        first_name="Ana",
        timezone="America/New_York",
        last_order_at=pd.Timestamp("2026-10-02 02:30", tz="UTC"),
    )
    pair = render_pair("win_back", gold, strategy=strategy)
    assert "Gold member" in pair.html and "4 orders" in pair.html and "$250.00" in pair.html
    assert "Oct 1, 2026" in pair.html  # 02:30 UTC is still Oct 1 in New York
    assert "COMEBACK20" in pair.html and "COMEBACK20" in pair.sms
    bare = customer(
        sample_profiles,
        loyalty_tier=None,
        orders_total=0,
        first_name=None,
        last_viewed_product=None,
        last_order_at=None,
    )
    pair = render_pair("win_back", bare, strategy=strategy)
    assert "Members earn points" in pair.html and "not ordered yet" in pair.html and "Hi there," in pair.html
    browse = render_pair("browse_abandonment", bare, strategy=strategy)
    assert "/bestsellers" in browse.sms and "bestsellers" in browse.html
    promo = render_pair("cart_abandonment", gold, strategy=strategy, promotion="FALL25")
    assert "FALL25" in promo.html and "FALL25" in promo.sms and "CART10" not in promo.html
    variant_b = render_pair("cart_abandonment", gold, strategy=strategy, variant="B")
    assert variant_b.subject != promo.subject


def test_filters():
    assert money(1234.5) == "$1,234.50" and money(-3, "EUR") == "-€3.00" and money(None) == ""
    assert money(1200, "JPY") == "¥1,200" and money(5, "CHF") == "CHF5.00"
    ts = pd.Timestamp("2026-03-01 03:00", tz="UTC")
    assert local_date(ts, "America/Los_Angeles", "short") == "Feb 28"
    assert local_date(ts, "Asia/Tokyo", "long") == "Sunday, March 1, 2026"
    assert local_date(None) == ""
    assert clean_first_name(None) == "there" and clean_first_name("  ") == "there"
    assert clean_first_name("李娜") == "李娜" and clean_first_name("李娜", gsm=True) == "there"
    assert clean_first_name("François", gsm=True) == "Francois"
    assert clean_first_name("x" * 31) == "there"


def test_non_latin_name_keeps_sms_in_gsm(sample_profiles, strategy):
    pair = render_pair("cart_abandonment", customer(sample_profiles, first_name="Ольга"), strategy=strategy)
    assert "Ольга" in pair.html and "Ольга" not in pair.sms
    assert pair.sms_analysis.encoding == "GSM-7"


def test_script_in_first_name_is_escaped_in_html_not_in_sms(sample_profiles, strategy):
    evil = "<script>alert(1)</script>"
    pair = render_pair("welcome", customer(sample_profiles, first_name=evil), strategy=strategy)
    assert "<script>" not in pair.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pair.html
    assert evil in pair.text  # plain text is not HTML-escaped
    assert "&lt;" not in pair.sms


def write_library(tmp_path, root, moment, **files):
    shutil.copytree(root / "templates" / "_base", tmp_path / "_base")
    shutil.copytree(root / "templates" / moment, tmp_path / moment)
    for name, text in files.items():
        (tmp_path / moment / name.replace("__", ".")).write_text(text)
    return tmp_path


def test_sandbox_refuses_python_internals(tmp_path, root, sample_profiles, strategy):
    lib = write_library(
        tmp_path,
        root,
        "win_back",
        sms__txt__j2="{{ brand.name }}: {{ customer.__class__.__mro__[1].__subclasses__() }}\n",
    )
    with pytest.raises(TemplateError, match=r"win_back/sms.txt.j2 line 1: refused by the sandbox"):
        render_pair("win_back", customer(sample_profiles), strategy=strategy, templates_dir=lib)
    (lib / "win_back" / "sms.txt.j2").write_text("{{ cycler.__init__.__globals__.os.popen('id').read() }}\n")
    with pytest.raises(TemplateError, match="sandbox"):
        Renderer(strategy, templates_dir=lib).render_pair("win_back", customer(sample_profiles))


def test_missing_variable_names_template_line_and_variable(tmp_path, root, sample_profiles, strategy):
    lib = write_library(
        tmp_path,
        root,
        "win_back",
        email__txt__j2="Hi {{ customer.first_name | first_name }},\n\nYou have {{ customer.points_balance }} points.\n",
    )
    with pytest.raises(TemplateError) as info:
        render_pair("win_back", customer(sample_profiles), strategy=strategy, templates_dir=lib)
    msg = str(info.value)
    assert "win_back/email.txt.j2 line 3" in msg and "customer.points_balance" in msg and "Fix:" in msg
    assert info.value.variable == "customer.points_balance" and info.value.line == 3


def test_unknown_moment_and_variant(sample_profiles, strategy):
    with pytest.raises(TemplateError, match=r"no moment 'birthday'.*welcome"):
        render_pair("birthday", customer(sample_profiles), strategy=strategy)
    with pytest.raises(TemplateError, match="no variant 'Z'"):
        render_pair("welcome", customer(sample_profiles), strategy=strategy, variant="Z")


def test_iter_pairs_runs_chunk_by_chunk(sample_profiles, strategy):
    chunks = list(iter_pairs(sample_profiles.head(25), "shipping_update", strategy=strategy, chunk_size=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert chunks[2][-1].customer_id == sample_profiles.iloc[24]["customer_id"]


ODD_NAMES = ["<b>Bo</b>", 'O\'Brien & "Co"', " Ana ", "\u00a0Bo\u00a0", "\nX", "a\rb", "", "   ", "Ольга", "&amp;"]


def test_css_inlined_once_per_layout_matches_inlining_each_message(sample_profiles, strategy):
    renderer = Renderer(strategy)
    rows = sample_profiles.head(20).to_dict("records")
    rows += [dict(rows[0], first_name=name) for name in ODD_NAMES]
    for moment, manifest in renderer.library.items():
        for variant in manifest.variants:
            for row in rows:
                parts = renderer.templates(moment, variant, renderer.customer_locale(row))  # the row's language
                pair = renderer.render_pair(moment, row, variant=variant)
                ctx = renderer.context(moment, row, variant=variant)
                ctx["subject"], ctx["preheader"] = pair.subject, pair.preheader
                assert pair.html == renderer._inliner.inline(parts["html"].render(ctx)), (moment, variant, row)


def test_layout_with_a_block_filter_is_inlined_per_message(tmp_path, root, sample_profiles, strategy):
    html = (root / "templates" / "win_back" / "email.html.j2").read_text()
    html = html.replace("{% block content %}", "{% block content %}{% filter upper %}{{ brand.name }}{% endfilter %}")
    lib = write_library(tmp_path, root, "win_back", email__html__j2=html)
    pair = render_pair("win_back", customer(sample_profiles), strategy=strategy, templates_dir=lib)
    assert strategy.brand.name.upper() in pair.html and 'style="' in pair.html


def test_customer_columns_cover_what_templates_read(tmp_path, root, strategy):
    renderer = Renderer(strategy)
    columns = renderer.customer_columns(["cart_abandonment"])
    assert {"customer_id", "first_name", "timezone", "last_viewed_product"} <= columns
    assert "orders_total" in renderer.customer_columns(list(renderer.library))
    lib = write_library(tmp_path, root, "win_back", sms__txt__j2="{{ brand.name }}: {{ customer | length }}\n")
    assert Renderer(strategy, templates_dir=lib).customer_columns(["win_back"]) is None


def test_lint_audience_one_or_two_workers_agree(sample_profiles, strategy):
    from workbench.messages import lint_audience

    profiles = sample_profiles.head(60).copy()
    profiles.loc[profiles.index[:10], "first_name"] = ODD_NAMES
    one = lint_audience(profiles, strategy=strategy, moments=["cart_abandonment", "win_back"], chunk_size=25)
    two = lint_audience(profiles, strategy=strategy, moments=["cart_abandonment", "win_back"], chunk_size=25, workers=2)
    pd.testing.assert_frame_equal(one, two)
    assert one.attrs["rendered"] == two.attrs["rendered"] == 120
