"""Local relevance: each customer's language, currency and market rules, from data to lint, preview and export."""

from __future__ import annotations

import html
import shutil

import pandas as pd
import pytest
from babel import Locale
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.contracts import from_frames
from workbench.locales import canonical_locale, locale_chain, resolve_currencies, resolve_locales
from workbench.messages import analyze_sms, lint_library, render_pair
from workbench.messages.formatting import money, plural
from workbench.messages.lint import lint_pair
from workbench.messages.render import Renderer
from workbench.messages.sms import is_gsm
from workbench.models.policy import DEFAULT_MARKETS, market_for
from workbench.profiles import build_profiles

NBSP = "\u00a0\u202f"


def plain(text: str) -> str:
    """Text with entities decoded and CLDR's no-break spaces read as spaces (what a reader sees)."""
    return html.unescape(text).translate(str.maketrans(dict.fromkeys(NBSP, " ")))


def market_profiles(**extra_customer_columns):
    """Profiles of five customers built through the contract: Quebec, Ontario, Britain, Germany, France."""
    customers = pd.DataFrame(
        {
            "customer_id": ["qc", "on", "gb", "de", "fr"],
            "first_name": ["Amélie", "Liam", "Olivia", "Jonas", "Chloé"],
            "country": ["CA", "CA", "GB", "DE", "FR"],
            "region": ["QC", "ON", None, None, None],
            "timezone": ["America/Toronto", "America/Toronto", "Europe/London", "Europe/Berlin", "Europe/Paris"],
            "loyalty_tier": ["gold"] * 5,
            **extra_customer_columns,
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["1", "2", "3", "4", "5"],
            "customer_id": ["qc", "on", "gb", "de", "fr"],
            "ordered_at": ["2026-10-02T18:30:00Z"] * 5,
            "amount": [1250.5, 12.5, 12.5, 12.5, 12.5],
            "currency": ["CAD", "CAD", "GBP", "EUR", "EUR"],
        }
    )
    dataset = from_frames(orders, customers)
    profiles = build_profiles(dataset, as_of="2026-10-31")
    return profiles.set_index("customer_id", drop=False)


@pytest.fixture(scope="module")
def profiles():
    return market_profiles()


def test_quebec_customer_without_a_locale_gets_quebec_french_and_canadian_dollars(profiles, strategy):
    qc = profiles.loc["qc"]
    assert (qc["locale"], qc["locale_source"], qc["currency"]) == ("fr-CA", "market", "CAD")
    pair = render_pair("win_back", qc.to_dict(), strategy=strategy)
    assert pair.content_locale == "fr-CA" and not pair.locale.fallback
    assert pair.subject == "On s'ennuie de vous chez Northwind"  # Quebec French, not France's "Vous nous manquez"
    assert "Désabonnement : ARRET" in pair.sms and pair.sms_analysis.encoding == "GSM-7"
    assert '<html lang="fr">' in pair.html and "courriel" in pair.html  # Quebec footer wording
    # CAD in fr-CA: the amount after the number with a comma for decimals, as the issue writes 12,50 $
    assert "1 250,50 $" in plain(pair.html)
    assert "$1,250.50" not in pair.html
    assert "vendredi 2 octobre 2026" in pair.html  # the date in French, in the customer's zone
    assert money(12.5, "CAD", locale="fr-CA") == format_currency(12.5, "CAD", locale="fr_CA")
    assert plain(money(12.5, "CAD", locale="fr-CA")) == "12,50 $"
    cart = render_pair("cart_abandonment", qc.to_dict(), strategy=strategy)
    assert cart.locale.files["sms"] == "fr-CA" and cart.locale.files["html"] == "fr"  # fr-CA overrides only the SMS


def test_british_customer_sees_pounds_and_british_dates(profiles, strategy):
    gb = profiles.loc["gb"]
    assert (gb["locale"], gb["currency"]) == ("en-GB", "GBP")
    pair = render_pair("win_back", gb.to_dict(), strategy=strategy)
    assert pair.content_locale == "en-US" and not pair.locale.fallback  # English, the brand's own files
    assert "£12.50" in pair.html and "$12.50" not in pair.html
    assert "2 Oct 2026" in pair.html  # en-GB day-month order
    assert money(12.5, "GBP", locale="en-GB") == "£12.50"


def test_german_customer_who_states_british_english_gets_english_with_euros(strategy):
    profiles = market_profiles(locale=[None, None, None, "en_GB", None])
    de = profiles.loc["de"]
    assert (de["locale"], de["locale_source"], de["currency"]) == ("en-GB", "stated", "EUR")
    pair = render_pair("cart_abandonment", de.to_dict(), strategy=strategy)
    assert pair.content_locale == "en-US" and "your cart is saved" in pair.sms
    assert "Warenkorb" not in pair.html
    german = render_pair("cart_abandonment", profiles.loc["de"].to_dict() | {"locale": None}, strategy=strategy)
    assert german.content_locale == "de" and "Warenkorb" in german.sms  # without the stated locale: German


def test_a_locale_without_a_translation_falls_back_and_the_lint_says_so(profiles, strategy):
    customer = profiles.loc["fr"].to_dict() | {"customer_id": "it1", "locale": "it-IT", "country": "IT"}
    pair = render_pair("win_back", customer, strategy=strategy)
    assert pair.locale.fallback and pair.content_locale == "en-US"
    assert pair.locale.chain == ("it-IT", "it", "en-US", "en") and pair.locale.path == "it-IT → it → en-US"
    assert "we miss you" in pair.sms
    found = [f for f in lint_pair(pair, brand=strategy.brand) if f.rule == "template-locale-fallback"]
    assert len(found) == 1 and found[0].locale == "it-IT" and "it-IT → it → en-US" in found[0].message
    # the library lint reports it for every Italian customer, per moment
    table = pd.DataFrame([customer])
    findings = lint_library(table, strategy=strategy, moments=["win_back"], sample_customers=1, locale_customers=1)
    rows = findings[(findings["rule"] == "template-locale-fallback") & (findings["locale"] == "it-IT")]
    assert len(rows) == 2 and set(rows["variant"]) == {"A", "B"}  # both variants
    translations = findings.attrs["translations"]
    assert translations.set_index("locale").loc["it-IT", "status"] == "missing"


def test_french_sms_with_c_cedilla_is_flagged_with_its_segment_cost(tmp_path, profiles, strategy):
    library = tmp_path / "templates"
    shutil.copytree(strategy_templates(), library)
    sms = library / "cart_abandonment" / "fr" / "sms.txt.j2"
    sms.write_text(sms.read_text(encoding="utf-8").replace("votre panier vous attend", "ça vous attend"), "utf-8")
    renderer = Renderer(strategy, templates_dir=library)
    fr = profiles.loc["fr"].to_dict()
    pair = renderer.render_pair("cart_abandonment", fr)
    a = pair.sms_analysis
    assert a.encoding == "UCS-2" and a.non_gsm == ("ç",)
    # the cost, counted independently: the same text with c instead of ç fits GSM-7
    gsm = analyze_sms(pair.sms.replace("ç", "c"))
    assert gsm.encoding == "GSM-7" and a.segments > gsm.segments
    found = [f for f in lint_pair(pair, brand=strategy.brand) if f.rule == "sms-non-gsm"]
    assert len(found) == 1 and found[0].severity == "warning" and found[0].locale == "fr"
    message = found[0].message
    assert "'ç' -> 'c'" in message and f"{a.segments} segments in UCS-2" in message
    assert f"instead of {gsm.segments} in GSM-7" in message and f"+{a.segments - gsm.segments} per send" in message
    findings = lint_library(pd.DataFrame([fr]), strategy=strategy, moments=["cart_abandonment"], renderer=renderer)
    chars = findings.attrs["sms_characters"]
    row = chars[(chars["locale"] == "fr") & (chars["variant"] == "A")].iloc[0]
    assert (row["character"], row["replacement"], row["accepted"]) == ("ç", "c", "")
    assert row["extra_segments_per_1000"] == 1000 * (a.segments - gsm.segments)


def strategy_templates():
    from workbench.resources import templates_dir

    return templates_dir()


def test_the_accepted_ucs2_of_the_french_order_confirmation_is_info_with_its_cost(profiles, strategy):
    pair = render_pair("post_purchase_confirmation", profiles.loc["fr"].to_dict(), strategy=strategy)
    assert "reçue" in pair.sms and pair.sms_analysis.encoding == "UCS-2"
    found = [f for f in lint_pair(pair, brand=strategy.brand) if f.rule == "sms-non-gsm"]
    assert found[0].severity == "info" and "accepted in the manifest (fr)" in found[0].message


def test_french_and_german_sms_copy_stays_gsm7_elsewhere(profiles, strategy):
    for cid in ("qc", "fr", "de"):
        for moment in ("welcome", "cart_abandonment", "win_back"):
            for variant in ("A", "B"):
                pair = render_pair(moment, profiles.loc[cid].to_dict(), strategy=strategy, variant=variant)
                assert pair.content_locale != "en-US" and is_gsm(pair.sms), (cid, moment, variant, pair.sms)


def test_sample_library_lint_per_locale(sample_profiles, strategy):
    findings = lint_library(sample_profiles, strategy=strategy, sample_customers=12, locale_customers=3)
    assert findings[findings["rule"].str.startswith("pair-") & (findings["severity"] == "error")].empty
    assert findings[findings["severity"] == "error"].empty, findings[findings["severity"] == "error"].to_string()
    table = findings.attrs["translations"]
    translated = {"welcome", "cart_abandonment", "post_purchase_confirmation", "win_back", "shipping_update"}
    for locale in ("fr-CA", "fr-FR", "de-DE"):
        rows = table[table["locale"] == locale].set_index("moment")
        missing = set(rows.index[rows["status"] == "missing"])
        assert not missing & translated, (locale, missing)
        assert missing == set(rows.index) - translated  # every other moment is reported as missing
        assert rows.loc[sorted(translated), "approved_by"].notna().all()
    english = table[table["locale"].isin(["en-GB", "en-CA", "en-AU"])]
    assert set(english["status"]) == {"default", "translated"} and not (english["status"] == "missing").any()
    fallback = findings[findings["rule"] == "template-locale-fallback"]
    assert {"fr-CA", "fr-FR", "de-DE", "es-US"} <= set(fallback["locale"])
    assert (
        not set(fallback["moment"]) & translated - {"welcome"}
        or fallback[fallback["moment"].isin(translated)]["locale"].eq("es-US").all()
    )


def test_every_translation_is_listed_and_approved_by_a_named_person(strategy):
    renderer = Renderer(strategy)
    for moment in ("welcome", "cart_abandonment", "post_purchase_confirmation", "win_back", "shipping_update"):
        manifest = renderer.manifest(moment)
        folders = renderer.translations(moment)
        assert {"fr", "fr-CA", "de"} <= set(folders)
        for tag in folders:
            entry = manifest.locales[tag]
            assert entry.approved and entry.approved_by and entry.version >= 1 and entry.approved_on


def test_locale_comes_from_stated_market_or_brand():
    customers = pd.DataFrame(
        {
            "locale": ["fr_ca", "klingon", None, None, None, None],
            "country": ["US", "CA", "CA", "DE", "JP", None],
            "region": [None, "QC", "ON", None, None, None],
        }
    )
    out = resolve_locales(customers, default_locale="en-US")
    assert out["locale"].tolist() == ["fr-CA", "fr-CA", "en-CA", "de-DE", "en-US", "en-US"]
    assert out["locale_source"].tolist() == ["stated", "market", "market", "market", "brand", "brand"]


def test_a_place_is_read_as_written_even_with_a_bar_in_it():
    customers = pd.DataFrame({"country": ["US|CA", "CA", "US"], "region": ["", "QC|ON", "|"]})
    out = resolve_locales(customers, default_locale="de-DE")
    assert out["locale"].tolist() == ["de-DE", "en-CA", "en-US"]
    assert out["locale_source"].tolist() == ["brand", "market", "market"]
    currencies = resolve_currencies(customers, pd.Series([None] * 3, dtype="object"), default_currency="CHF")
    assert currencies.tolist() == ["CHF", "CAD", "USD"]


_PLACE_TEXT = st.sampled_from(["CA", " ca ", "QC", "qc", "ON", "GB", "DE", "FR", "JP", "US", "", " ", "A|B", "|"])


def _cell(value: object) -> str:
    """What the resolver reads of a cell: trimmed, upper case text, missing as ""."""
    return "" if value is None else str(value).strip().upper()


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(["fr_ca", "FR-ca", "de", "en-GB", "klingon", "", " pt-BR ", "x|y"])),
            st.one_of(st.none(), _PLACE_TEXT),
            st.one_of(st.none(), _PLACE_TEXT),
            st.one_of(st.none(), st.sampled_from(["EUR", " gbp ", "CAD", "US", "usd", "", "EURO"])),
        ),
        max_size=30,
    ),
    columns=st.sets(st.sampled_from(["locale", "country", "region"])),
    default_locale=st.sampled_from(["en-US", "fr-FR", "not a locale"]),
)
def test_locales_and_currencies_agree_with_a_row_by_row_reading(rows, columns, default_locale):
    """Every customer gets what reading their own row with the market rules gives, whatever columns are present."""
    names = ["locale", "country", "region"]
    customers = pd.DataFrame({n: pd.Series([r[i] for r in rows], dtype="object") for i, n in enumerate(names)})
    customers = customers[[n for n in names if n in columns]]
    latest = pd.Series([r[3] for r in rows], dtype="object")
    default = canonical_locale(default_locale) or "en-US"
    expected_locale, expected_source, expected_currency = [], [], []
    for stated, country, region, currency in rows:
        stated = stated if "locale" in columns else None
        country_key = _cell(country) if "country" in columns else ""
        region_key = _cell(region) if "region" in columns else ""
        rule = market_for(DEFAULT_MARKETS, country_key or None, region_key or None)
        own = canonical_locale(stated) if stated else None
        market = canonical_locale(rule.locale) if rule is not None and rule.locale else None
        expected_locale.append(own or market or default)
        expected_source.append("stated" if own else "market" if market else "brand")
        code = _cell(currency)
        market_currency = rule.currency if rule is not None and rule.currency else "CHF"
        expected_currency.append(code if len(code) == 3 and code.isascii() and code.isalpha() else market_currency)
    locales = resolve_locales(customers, default_locale=default_locale)
    currencies = resolve_currencies(customers, latest, default_currency="CHF")
    assert locales["locale"].tolist() == expected_locale
    assert locales["locale_source"].tolist() == expected_source
    assert currencies.tolist() == expected_currency
    assert str(locales["locale"].dtype) == str(currencies.dtype) == "string"


def test_invalid_locales_are_counted_at_load_and_ignored(strategy):
    orders = pd.DataFrame(
        {"order_id": ["1"], "customer_id": ["a"], "ordered_at": ["2026-01-01T00:00:00Z"], "amount": [5.0]}
    )
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "locale": ["fr-CA", "xx-YY-zz", "not a tag"]})
    dataset = from_frames(orders, customers)
    row = dataset.quality[(dataset.quality["column"] == "locale")].iloc[0]
    assert row["rows"] == 2 and "b" in row["examples"] and "c" in row["examples"]
    profiles = build_profiles(dataset, as_of="2026-01-31")
    assert profiles["locale_source"].tolist() == ["stated", "brand", "brand"]


def test_segment_rules_read_locale_and_currency(profiles, strategy):
    from workbench.rules import RULE_COLUMNS
    from workbench.segments import assign

    assert RULE_COLUMNS["locale"] == "text" and RULE_COLUMNS["currency"] == "text"
    seg = {"name": "french_speakers", "rule": "starts_with(locale, 'fr') and currency in ('CAD', 'EUR')"}
    custom = strategy.model_copy(update={"segments": [type(strategy.segments[0])(**seg)]})
    out = assign(profiles.reset_index(drop=True), custom)
    assert sorted(out.loc[out["segment_french_speakers"], "customer_id"]) == ["fr", "qc"]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["en-US", "en-GB", "fr-CA", "fr-FR", "de-DE", "ja-JP", "ar-EG"]),
    st.sampled_from(["USD", "CAD", "GBP", "EUR", "JPY", "AUD"]),
    st.floats(min_value=-1e7, max_value=1e7, allow_nan=False),
)
def test_money_is_babel_and_gsm_safe_in_sms(tag, currency, amount):
    assert money(amount, currency, locale=tag) == format_currency(amount, currency, locale=tag.replace("-", "_"))
    sms = money(amount, currency, locale=tag, gsm=True)
    assert "\u00a0" not in sms and "\u202f" not in sms


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["en", "fr", "de", "ru", "pl", "ar"]), st.integers(min_value=0, max_value=10**6))
def test_plural_uses_the_cldr_category(tag, n):
    category = Locale.parse(tag).plural_form(n)
    forms = {k: f"{k}:#" for k in ("zero", "one", "two", "few", "many")}
    text = plural(n, other="other:#", locale=tag, **forms)
    assert text.split(":")[0] == category
    assert plural(0, one="# x", other="# xs", locale="fr") == "0 x" and plural(0, one="# x", other="# xs") == "0 xs"


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["fr-CA", "fr_ca", "FR-ca", "de", "en-GB", "pt-BR", "zh-Hant-TW", "es-419", "x", "", "en-US-x"]))
def test_locale_chain_starts_with_the_tag_and_ends_with_the_default(tag):
    chain = locale_chain(tag, default="en-US")
    canon = canonical_locale(tag)
    assert chain[-2:] == ("en-US", "en") or (canon and canon.startswith("en"))
    if canon:
        assert chain[0] == canon and canonical_locale(canon) == canon
        assert len(chain) == len(set(chain))
