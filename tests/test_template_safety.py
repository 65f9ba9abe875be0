"""Hostile templates: nothing shared changes, nothing outside the folder is read, every render is bounded.

Each case asserts the exact error (naming the template at fault and the limit), that the files
are unchanged (sha256) and that the other messages render exactly as they do from a clean library.
"""

from __future__ import annotations

import hashlib
import pickle
import shutil
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from workbench.messages import Renderer, lint_library
from workbench.messages.library import fill_fields, load_library
from workbench.messages.render import customer_context
from workbench.messages.sandbox import MAX_RENDER_SECONDS, FrozenDict
from workbench.models.errors import StrategyError, TemplateError

SANDBOX_FIX = (
    "Fix: templates may only read the message context (customer, brand, offer, product, links) and use the "
    "workbench filters: they cannot change it (update, append, pop, setdefault ...) or reach Python internals"
)
SIZE_FIX = "Fix: build shorter text; a message never needs values this large"
OUTPUT_FIX = "Fix: write less: a message is a few kilobytes (Gmail clips HTML over 102 KB)"
TIME_FIX = "Fix: a message template renders in milliseconds: remove the loop or computation that runs this long"
FOLDER_FIX = (
    "Fix: keep every template inside the template folder and name it by its path there, e.g. "
    "_base/blocks/cta.html.j2 (a symlink counts where it points)"
)
MOMENTS = ("welcome", "cart_abandonment", "win_back")


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _library(folder: Path, root: Path, **files: str) -> Path:
    """A copy of three moments of the library, with ``files`` (``"win_back/sms.txt.j2": text``) written over it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("_base", *MOMENTS):
        shutil.copytree(root / "templates" / name, folder / name)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _pairs(renderer: Renderer, moment: str, rows: list[dict]) -> list[tuple]:
    out = []
    for row in rows:
        p = renderer.render_pair(moment, row)
        out.append((p.subject, p.preheader, p.html, p.text, p.sms, tuple(sorted(p.headers.items())), p.landing_path))
    return out


@pytest.fixture(scope="module")
def rows(sample_profiles) -> list[dict]:
    return sample_profiles.head(4).to_dict("records")


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text("TOP SECRET do not render\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory, root, strategy) -> tuple[Path, Renderer]:
    folder = _library(tmp_path_factory.mktemp("clean") / "templates", root)
    return folder, Renderer(strategy, templates_dir=folder)


def _refused(renderer: Renderer, moment: str, row: dict) -> str:
    with pytest.raises(TemplateError) as info:
        renderer.render_pair(moment, row)
    return str(info.value)


# ---------------------------------------------------------------- shared data cannot change


def test_brand_update_is_refused_and_every_other_message_is_unchanged(tmp_path, root, strategy, rows, clean):
    hostile = "{{ brand.update({'name': 'Evil', 'unsubscribe_url': 'https://evil.example/u'}) }}{{ brand.name }}\n"
    folder = _library(tmp_path / "templates", root, **{"win_back/sms.txt.j2": hostile})
    before = _hashes(folder)
    renderer = Renderer(strategy, templates_dir=folder)
    brand_before = dict(renderer.brand)
    expected = {m: _pairs(clean[1], m, rows) for m in ("welcome", "cart_abandonment")}

    assert _pairs(renderer, "welcome", rows) == expected["welcome"]
    assert _refused(renderer, "win_back", rows[0]) == (
        "win_back/sms.txt.j2 line 1: refused by the sandbox (access to attribute 'update' of 'FrozenDict' object "
        f"is unsafe). {SANDBOX_FIX}"
    )
    # after the hostile render, every other message is exactly what a clean library gives
    for moment, pairs in expected.items():
        assert _pairs(renderer, moment, rows) == pairs
    assert dict(renderer.brand) == brand_before
    assert strategy.brand.name == "Northwind"
    assert _hashes(folder) == before


def test_lint_blames_only_the_template_at_fault(tmp_path, root, strategy, sample_profiles, clean):
    # had it worked, every later message would lose its brand name and unsubscribe link, and lint would blame them
    hostile = "{{ brand.update({'name': 'Evil', 'unsubscribe_url': ''}) }}{{ brand.name }}: hi. Reply STOP to opt out\n"
    folder = _library(tmp_path / "templates", root, **{"win_back/sms.txt.j2": hostile})
    found = lint_library(sample_profiles, strategy=strategy, templates_dir=folder, sample_customers=6)
    base = lint_library(sample_profiles, strategy=strategy, templates_dir=clean[0], sample_customers=6)
    others = found[found["moment"] != "win_back"].to_dict("records")
    assert others == base[base["moment"] != "win_back"].to_dict("records")
    render = found[found["rule"] == "template-render"]
    assert set(render["moment"]) == {"win_back"}
    assert set(render["template"]) == {"win_back/sms.txt.j2"}
    assert render["message"].str.startswith("win_back/sms.txt.j2 line 1: refused by the sandbox").all()
    variants = load_library(folder)["win_back"].variants
    # every customer who reads the root SMS (6 sampled, plus the English-speaking customers of each locale)
    assert sorted(render["variant"]) == sorted(variants) and render["customers"].nunique() == 1
    assert (render["customers"] >= 6).all()


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ customer.setdefault('vip', true) }}", "access to attribute 'setdefault' of 'FrozenDict' object is unsafe"),
        ("{{ customer.pop('email') }}", "access to attribute 'pop' of 'FrozenDict' object is unsafe"),
        (
            "{{ customer.update(email='x@evil.example') }}",
            "access to attribute 'update' of 'FrozenDict' object is unsafe",
        ),
        ("{{ customer.clear() }}", "access to attribute 'clear' of 'FrozenDict' object is unsafe"),
        (
            "{{ brand.tracking_params.update(utm_source='evil') }}",
            "access to attribute 'update' of 'FrozenDict' object is unsafe",
        ),
        ("{{ manifest.update(cta='Evil') }}", "access to attribute 'update' of 'FrozenDict' object is unsafe"),
        ("{% set items = [1, 2] %}{{ items.append(3) }}", "access to attribute 'append' of 'list' object is unsafe"),
        ("{% set items = [1, 2] %}{{ items.pop() }}", "access to attribute 'pop' of 'list' object is unsafe"),
        ("{{ customer.__class__.__mro__ }}", "access to attribute '__class__' of 'FrozenDict' object is unsafe"),
    ],
)
def test_mutation_and_internals_are_refused(tmp_path, root, strategy, rows, clean, source, problem):
    folder = _library(tmp_path / "templates", root, **{"win_back/sms.txt.j2": source + "\n"})
    before = _hashes(folder)
    renderer = Renderer(strategy, templates_dir=folder)
    assert (
        _refused(renderer, "win_back", rows[0])
        == f"win_back/sms.txt.j2 line 1: refused by the sandbox ({problem}). {SANDBOX_FIX}"
    )
    assert _pairs(renderer, "welcome", rows) == _pairs(clean[1], "welcome", rows)
    assert _hashes(folder) == before


def test_attribute_assignment_is_refused(tmp_path, root, strategy, rows, clean):
    folder = _library(tmp_path / "templates", root, **{"win_back/sms.txt.j2": "{% set brand.name = 'Evil' %}x\n"})
    renderer = Renderer(strategy, templates_dir=folder)
    assert _refused(renderer, "win_back", rows[0]) == (
        "win_back/sms.txt.j2 line 1: refused: a template may set attributes only on its own namespace(), not on "
        "the message context. Fix: copy the value into a variable ({% set name = brand.name | upper %}) or a "
        "namespace ({% set ns = namespace(total=0) %}{% set ns.total = 1 %})"
    )
    assert _pairs(renderer, "welcome", rows) == _pairs(clean[1], "welcome", rows)


def test_each_render_has_its_own_context(strategy, sample_profiles):
    row = sample_profiles.iloc[0].to_dict()
    frozen = customer_context(row)
    with pytest.raises(TypeError, match="read-only"):
        frozen["email"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError, match="read-only"):
        frozen.update(email="x")
    assert pickle.loads(pickle.dumps(frozen)) == frozen
    nested = customer_context({**row, "tags": ["a", "b"], "extra": {"k": [1]}})
    assert nested["tags"] == ("a", "b") and nested["extra"] == {"k": (1,)} and isinstance(nested["extra"], FrozenDict)
    renderer = Renderer(strategy)
    first = renderer.context("welcome", row)
    second = renderer.context("welcome", row)
    assert first is not second and first["customer"] == second["customer"]
    assert isinstance(first["brand"], FrozenDict) and isinstance(first["manifest"], FrozenDict)


# ---------------------------------------------------------------- time and size limits


def test_nested_loops_stop_at_the_time_limit(tmp_path, root, strategy, rows, clean):
    loops = "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}done\n"
    folder = _library(tmp_path / "templates", root, **{"win_back/sms.txt.j2": loops})
    renderer = Renderer(strategy, templates_dir=folder, time_limit=0.3)
    start = time.monotonic()
    message = _refused(renderer, "win_back", rows[0])
    assert time.monotonic() - start < 3.0
    assert message == f"win_back/sms.txt.j2 line 1: stopped after 0.3 s, the render time limit. {TIME_FIX}"
    # the template is not run again: the next customer fails at once with the same message
    start = time.monotonic()
    assert _refused(renderer, "win_back", rows[1]) == message
    assert time.monotonic() - start < 0.2
    assert _pairs(renderer, "welcome", rows) == _pairs(clean[1], "welcome", rows)


def test_the_default_time_limit_stops_a_loop_that_writes_nothing(tmp_path, root, strategy, rows):
    loops = "{% for a in range(10000) %}{% for b in 'x' * 900000 %}{% endfor %}{% endfor %}\n"
    folder = _library(tmp_path / "templates", root, **{"win_back/email.txt.j2": loops})
    renderer = Renderer(strategy, templates_dir=folder)
    start = time.monotonic()
    message = _refused(renderer, "win_back", rows[0])
    assert time.monotonic() - start < MAX_RENDER_SECONDS + 3.0
    assert message == (
        f"win_back/email.txt.j2 line 1: stopped after {MAX_RENDER_SECONDS:g} s, the render time limit. {TIME_FIX}"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "{{ 'x' * 10**7 }}",
            f"`*` would make a value of 10,000,000 characters or items, over the size limit of 1,000,000. {SIZE_FIX}",
        ),
        (
            "{{ 10**7 * 'x' }}",
            f"`*` would make a value of 10,000,000 characters or items, over the size limit of 1,000,000. {SIZE_FIX}",
        ),
        (
            "{{ ['x'] * 10**7 }}",
            f"`*` would make a value of 10,000,000 characters or items, over the size limit of 1,000,000. {SIZE_FIX}",
        ),
        (
            "{{ 2 ** 10000000 }}",
            "`**` would make an integer of more than 100,000 bits. Fix: compute with numbers of a sensible size",
        ),
        (
            "{% for i in range(100000) %}{% endfor %}",
            "range() of 100,000 numbers is over the limit of 10,000. Fix: "
            "loop over the customer's own data, or over a short range",
        ),
        (
            "{{ '%999999999d' % 1 }}",
            f"`%` would make a value of 1,000,000,010 characters or items, over the size "
            f"limit of 1,000,000. {SIZE_FIX}",
        ),
        (
            "{{ '{:>999999999}'.format(1) }}",
            "`.format()` would make a value of 1,000,000,012 characters or items, "
            f"over the size limit of 1,000,000. {SIZE_FIX}",
        ),
        (
            "{{ 'x'.ljust(10**9) }}",
            f"`.ljust()` would make a value of 1,000,000,000 characters or items, over the "
            f"size limit of 1,000,000. {SIZE_FIX}",
        ),
        (
            "{{ 'x'.encode().center(10**9) }}",
            f"`.center()` would make a value of 1,000,000,000 characters or items, over the size limit of 1,000,000. "
            f"{SIZE_FIX}",
        ),
        (
            "{{ ('a' * 2000).replace('a', 'c' * 1000) }}",
            f"`.replace()` would make a value of 2,000,000 characters or items, over the size limit of 1,000,000. "
            f"{SIZE_FIX}",
        ),
        (
            "{{ 'x' | center(999999999) }}",
            "the center filter would make a value of 999,999,999 characters or items, "
            f"over the size limit of 1,000,000. {SIZE_FIX}",
        ),
        (
            "{{ ('x' * 1000) | replace('x', 'y' * 2000) }}",
            "the replace filter would make a value of 2,000,000 "
            f"characters or items, over the size limit of 1,000,000. "
            f"{SIZE_FIX}",
        ),
        (
            "{{ (['x' * 100000] * 20) | join }}",
            "the join filter would make a value of 2,000,020 characters or "
            f"items, over the size limit of 1,000,000. {SIZE_FIX}",
        ),
        (
            "{{ ('ab ' * 300000) | wordwrap(1, wrapstring='-' * 10) }}",
            "the wordwrap filter would make a value of "
            "9,900,010 characters or items, over the size "
            f"limit of 1,000,000. {SIZE_FIX}",
        ),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            f"`~` would make a value of 1,048,576 characters or items, over the size limit of 1,000,000. {SIZE_FIX}",
        ),
        ("{{ lipsum(100000) }}", "lipsum() asks for too much text. Fix: use lipsum(n<=20, max<=500)"),
        (
            "{% set x %}{% for i in range(10000) %}{{ 'y' * 1000 }}{% endfor %}{% endset %}ok",
            f"wrote more than 1,000,000 characters, the output size limit. {OUTPUT_FIX}",
        ),
        (
            "{% macro m() %}{% for i in range(5000) %}" + "z" * 400 + "{% endfor %}{% endmacro %}{{ m() }}",
            f"wrote more than 1,000,000 characters, the output size limit. {OUTPUT_FIX}",
        ),
    ],
)
def test_growth_is_refused_before_the_value_is_built(tmp_path, root, strategy, rows, clean, source, message):
    folder = _library(tmp_path / "templates", root, **{"win_back/sms.txt.j2": source + "\n"})
    renderer = Renderer(strategy, templates_dir=folder)
    start = time.monotonic()
    assert _refused(renderer, "win_back", rows[0]) == f"win_back/sms.txt.j2 line 1: {message}"
    assert time.monotonic() - start < 2.0
    assert _pairs(renderer, "welcome", rows) == _pairs(clean[1], "welcome", rows)


def test_huge_output_stops_at_the_output_limit(tmp_path, root, strategy, rows):
    source = "{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}\n"
    folder = _library(tmp_path / "templates", root, **{"win_back/email.txt.j2": source})
    renderer = Renderer(strategy, templates_dir=folder)
    assert _refused(renderer, "win_back", rows[0]) == (
        f"win_back/email.txt.j2: wrote more than 1,000,000 characters, the output size limit. {OUTPUT_FIX}"
    )
    small = Renderer(strategy, templates_dir=folder, max_output=20_000)
    (folder / "win_back" / "email.txt.j2").write_text("{% for i in range(40) %}{{ 'x' * 600 }}{% endfor %}\n")
    assert _refused(small, "win_back", rows[0]) == (
        f"win_back/email.txt.j2: wrote more than 20,000 characters, the output size limit. {OUTPUT_FIX}"
    )


def test_the_output_limit_counts_what_the_html_writes(tmp_path, root, strategy, rows):
    """The HTML body is measured with every value written in, not as the layout with markers in their place."""
    renderer = Renderer(strategy, inline_css=False)
    row = dict(rows[0], first_name="Ana")
    html = renderer.templates("win_back", "A", renderer.customer_locale(row))["html"]
    ctx = renderer.context("win_back", row, variant="A")
    ctx.pop("resolution")
    ctx["subject"] = ctx["preheader"] = "x"
    size = len(html.render(ctx))
    long_id = dict(row, customer_id="C" + "7" * 1000)  # written into the unsubscribe and preferences links
    assert Renderer(strategy, max_output=size + 1000).render_pair("win_back", row).html
    assert _refused(Renderer(strategy, max_output=size + 1000), "win_back", long_id).startswith(
        "win_back/email.html.j2: wrote more than"
    )


def test_ordinary_templates_render_as_before_under_the_limits(tmp_path, root, strategy, rows, clean):
    source = (
        "{% set ns = namespace(n=0) %}{% for c in 'abc' %}{% set ns.n = ns.n + loop.index %}{% endfor %}"
        "{{ brand.name }}: {{ ns.n }} {{ 'ab' * 2 }} {{ '%05.1f' % 3.14159 }} {{ '{:>4}'.format(7) }} "
        "{{ [1, 2] + [3] }} {{ range(3) | list }} {{ 'x' ~ customer.customer_id }} {{ 2 ** 8 }} "
        "{{ ['a', 'b'] | join('-') }} {{ 'hi' | center(6) }}|{{ loop_free | default('ok') }}\n"
    )
    folder = _library(tmp_path / "templates", root, **{"win_back/sms.txt.j2": source})
    pair = Renderer(strategy, templates_dir=folder).render_pair("win_back", rows[0])
    cid = rows[0]["customer_id"]
    assert pair.sms == f"Northwind: 6 abab 003.1 7 [1, 2, 3] [0, 1, 2] x{cid} 256 a-b hi |ok"


# ---------------------------------------------------------------- the template folder


@pytest.mark.parametrize(
    ("source", "name", "reason"),
    [
        ("{% include '../outside/secret.txt' %}", "../outside/secret.txt", "names a path outside the template folder"),
        ("{% include '{secret}' %}", "{secret}", "names a path outside the template folder"),
        ("{% extends '../outside/secret.txt' %}", "../outside/secret.txt", "names a path outside the template folder"),
        (
            "{% import '_base/../../outside/secret.txt' as s %}",
            "_base/../../outside/secret.txt",
            "names a path outside the template folder",
        ),
        (
            "{% include customer.customer_id ~ '/../../outside/secret.txt' %}",
            "{cid}/../../outside/secret.txt",
            "names a path outside the template folder",
        ),
    ],
)
def test_includes_outside_the_folder_are_refused(tmp_path, root, strategy, rows, secret, source, name, reason):
    folder = _library(tmp_path / "templates", root)
    source = source.replace("{secret}", str(secret))
    (folder / "win_back" / "sms.txt.j2").write_text(source + "\n")
    before, secret_sha = _hashes(folder), hashlib.sha256(secret.read_bytes()).hexdigest()
    renderer = Renderer(strategy, templates_dir=folder)
    message = _refused(renderer, "win_back", rows[0])
    shown = name.replace("{secret}", str(secret)).replace("{cid}", str(rows[0]["customer_id"]))
    assert message == (f"win_back/sms.txt.j2 line 1: template {shown!r} {reason} ({folder.resolve()}). {FOLDER_FIX}")
    assert "TOP SECRET" not in message
    assert _hashes(folder) == before and hashlib.sha256(secret.read_bytes()).hexdigest() == secret_sha


def test_a_symlink_out_of_the_folder_is_refused(tmp_path, root, strategy, rows, secret, clean):
    folder = _library(tmp_path / "templates", root)
    (folder / "_base" / "blocks" / "evil.txt.j2").symlink_to(secret)
    (folder / "win_back" / "sms.txt.j2").write_text("{% include '_base/blocks/evil.txt.j2' %}\n")
    renderer = Renderer(strategy, templates_dir=folder)
    message = _refused(renderer, "win_back", rows[0])
    assert message == (
        f"win_back/sms.txt.j2 line 1: template '_base/blocks/evil.txt.j2' is a link to {secret}, outside the "
        f"template folder ({folder.resolve()}). {FOLDER_FIX}"
    )
    # a part file that is itself a link out
    (folder / "win_back" / "sms.txt.j2").unlink()
    (folder / "win_back" / "sms.txt.j2").symlink_to(secret)
    message = _refused(Renderer(strategy, templates_dir=folder), "win_back", rows[0])
    assert message == (
        f"win_back/sms.txt.j2: template 'win_back/sms.txt.j2' is a link to {secret}, outside the template folder "
        f"({folder.resolve()}). {FOLDER_FIX}"
    )
    assert "TOP SECRET" not in message
    # a link that stays inside the folder is fine
    (folder / "win_back" / "sms.txt.j2").unlink()
    (folder / "win_back" / "sms.txt.j2").symlink_to(folder / "win_back" / "email.txt.j2")
    assert Renderer(strategy, templates_dir=folder).render_pair("win_back", rows[0]).sms


def test_a_moment_folder_linked_from_outside_is_refused(tmp_path, root, strategy):
    folder = _library(tmp_path / "templates", root)
    outside = tmp_path / "elsewhere" / "birthday"
    shutil.copytree(root / "templates" / "welcome", outside)
    (folder / "birthday").symlink_to(outside)
    with pytest.raises(TemplateError) as info:
        load_library(folder)
    assert str(info.value) == (
        f"{folder / 'birthday'} is a link to {outside}, outside the template folder {folder.resolve()}. Fix: copy "
        "the moment into the template folder instead of linking to it"
    )


# ---------------------------------------------------------------- landing paths and tracking parameters


@pytest.mark.parametrize(
    ("landing", "field"),
    [
        ("/products/{0.__class__}", "{0.__class__}"),
        ("/products/{product_id.__class__.__mro__}", "{product_id.__class__.__mro__}"),
        ("/products/{product_id:>999999999}", "{product_id:>999999999}"),
        ("/products/{product_id!r}", "{product_id!r}"),
    ],
)
def test_landing_path_format_tricks_are_refused(tmp_path, root, strategy, landing, field):
    folder = _library(tmp_path / "templates", root)
    manifest = folder / "win_back" / "manifest.yaml"
    manifest.write_text(manifest.read_text() + f"landing_path: '{landing}'\n")
    with pytest.raises(TemplateError) as info:
        Renderer(strategy, templates_dir=folder)
    assert str(info.value) == (
        f"{manifest}: landing_path: Value error, {landing!r} has the field {field}; only {{product_id}} can be "
        "filled in (write {{ and }} for literal braces). Fix: see workbench.messages.library.TemplateManifest"
    )


def test_product_ids_from_data_are_quoted_into_the_landing_path(strategy, sample_profiles):
    renderer = Renderer(strategy)
    row = sample_profiles.iloc[0].to_dict()
    for product in ("SKU-0060", "{0.__class__}", "../../admin?x=1#y", "a b/c"):
        landing = renderer.context("browse_abandonment", {**row, "last_viewed_product": product})["landing"]
        assert landing == "/products/" + quote(product, safe="")
    without = renderer.context("browse_abandonment", {**row, "last_viewed_product": None})["landing"]
    assert without == "/bestsellers"


def test_tracking_parameters_fill_only_known_fields(strategy, sample_profiles):
    brand = strategy.brand.model_copy(update={"tracking_params": {"utm_source": "{channel.__class__}"}})
    bad = strategy.model_copy(update={"brand": brand})
    with pytest.raises(StrategyError) as info:
        Renderer(bad)
    assert str(info.value) == (
        "brand.tracking_params.utm_source: '{channel.__class__}' has the field {channel.__class__}; only "
        "{channel}, {moment}, {variant} can be filled in (write {{ and }} for literal braces). Fix: write the "
        "value as text with at most the fields {channel}, {moment} and {variant}"
    )
    ok = strategy.model_copy(
        update={"brand": strategy.brand.model_copy(update={"tracking_params": {"c": "{moment}-{{x}}-{variant}"}})}
    )
    pair = Renderer(ok).render_pair("welcome", sample_profiles.iloc[0].to_dict())
    assert "c=welcome-%7Bx%7D-A" in pair.html


def test_fill_fields_is_a_safe_substitution():
    assert fill_fields("/p/{product_id}/{{literal}}", {"product_id": "42"}) == "/p/42/{literal}"
    for text in ("{0}", "{}", "{product_id.x}", "{product_id[0]}", "{product_id:>9}", "{", "}"):
        with pytest.raises(ValueError, match="only \\{product_id\\} can be filled in"):
            fill_fields(text, {"product_id": "42"})
