"""Locales at the edges: the preview command, the exports and the gallery in a browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.exporters import ExportContext, export_journeys
from workbench.journeys import build_journeys
from workbench.messages import build_gallery

ROOT = Path(__file__).resolve().parents[1]
DATA, STRATEGY = str(ROOT / "data" / "sample"), str(ROOT / "data" / "strategy.yaml")


def first(assigned, **where):
    rows = assigned
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return str(rows["customer_id"].iloc[0])


def test_preview_command_prints_the_sms_its_encoding_and_the_subject(tmp_path, capsys, assigned):
    quebec = first(assigned, region="QC", locale_source="market")
    out = tmp_path / "preview"
    args = ["--strategy", STRATEGY, "--data", DATA, "--moment", "cart_abandonment", "--customer", quebec]
    code = main(["preview", *args, "--variant", "B", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "locale: fr-CA → written in fr-CA" in printed and "currency: CAD" in printed
    assert "email subject: Votre panier est de côté, avec un code en prime" in printed
    assert re.search(r"SMS \(GSM-7, \d+ septets, 1 segment\):\n  Northwind : .*Désabonnement : ARRET", printed)
    pages = list(out.iterdir())
    assert [p.name for p in pages] == [f"cart_abandonment__B__{quebec}.html"]
    page = pages[0].read_text(encoding="utf-8")
    assert '<html lang="fr">' in page and "fr-CA → fr → en-US → en" in page
    # a French order confirmation: UCS-2 accepted on purpose, with its cost
    french = first(assigned, country="FR", locale_source="market")
    assert (
        main(["preview", "--moment", "post_purchase_confirmation", "--customer", french, "--out", str(tmp_path / "f")])
        == 0
    )
    printed = capsys.readouterr().out
    assert "SMS (UCS-2" in printed and "2 segments" in printed and "+1 per send" in printed
    assert "info: sms-non-gsm" in printed


def test_preview_command_names_an_unknown_customer(tmp_path, capsys):
    code = main(["preview", "--moment", "welcome", "--customer", "nobody", "--out", str(tmp_path / "p")])
    err = capsys.readouterr().err
    assert code == 2 and "no customer 'nobody'" in err and "Fix:" in err
    assert not (tmp_path / "p").exists()


@pytest.fixture(scope="module")
def exports(strategy, assigned):
    journeys = build_journeys(strategy)
    targets = ["klaviyo", "dittofeed", "klaviyo_profiles", "dittofeed_profiles"]
    context = ExportContext(strategy=strategy, assigned=assigned)
    return journeys, export_journeys(journeys, targets=targets, context=context)


def test_klaviyo_gets_conditional_blocks_on_the_locale_profile_property(exports):
    _, results = exports
    templates = json.loads(results["klaviyo"].files["templates.json"])
    cart = next(v for k, v in templates.items() if k.startswith("workbench cart_abandonment A"))
    html = cart["data"]["attributes"]["html"]
    assert "{% if person|lookup:'locale' == 'fr-CA' %}" in html and "{% else %}" in html and "{% endif %}" in html
    assert "Votre panier vous attend" in html and "Dein Warenkorb wartet" in html and "Your cart is saved" in html
    # Quebec's email differs from France's in its footer (courriel, se désabonner): a branch of its own
    assert "{% elif person|lookup:'locale' == 'fr-FR' %}" in html and "courriel" in html
    # locales whose content is the same share one branch: Canadian and British English are the else branch
    assert "== 'en-GB'" not in html
    report = results["klaviyo"].report
    lines = [i.detail for i in report if i.feature == "locales"]
    assert any(d.startswith("cart_abandonment: ") and "conditional blocks" in d for d in lines)
    assert any(
        d.startswith("activation: one version") and "fr-CA, fr-FR, de-DE have no translation" in d for d in lines
    )
    imports = json.loads(results["klaviyo_profiles"].files["import_0001.json"])
    props = [p["attributes"]["properties"] for p in imports["data"]["attributes"]["profiles"]["data"]]
    assert {"fr-CA", "fr-FR", "de-DE", "en-US"} <= {p.get("locale") for p in props}


def test_dittofeed_gets_liquid_case_on_the_locale_user_property(exports):
    _, results = exports
    bodies = [b["definition"] for b in results["dittofeed"].resources["templates"].values()]
    sms = [b["body"] for b in bodies if b["type"] == "Sms" and "{% case user.locale %}" in b["body"]]
    assert sms and all(b.endswith("{% endcase %}") for b in sms)
    assert any("{% when 'fr-CA' %}" in b and "Désabonnement : ARRET" in b for b in sms)
    assert any("{% when 'de-DE' %}" in b and "Abmelden: STOP" in b for b in sms)
    lines = [i.detail for i in results["dittofeed"].report if i.feature == "locales"]
    assert any("Liquid {% case user.locale %}" in d for d in lines)
    batch = json.loads(results["dittofeed_profiles"].files["import_0001.json"])["batch"]
    assert {"fr-CA", "de-DE"} <= {item["traits"].get("locale") for item in batch}


@pytest.mark.slow
def test_gallery_has_a_customer_per_locale_and_renders_in_chromium(
    tmp_path, assigned, strategy, offline_page, artifacts
):
    gallery = build_gallery(assigned, strategy=strategy, moments=["win_back"], sample_customers=2, lint_customers=4)
    rows = gallery.rows
    assert {"en-US", "en-CA", "en-GB", "en-AU", "fr-CA", "fr-FR", "de-DE", "es-US"} <= set(rows["locale"])
    shots = []
    for locale in ("fr-CA", "fr-FR", "de-DE", "en-GB", "es-US"):
        row = rows[(rows["locale"] == locale) & (rows["variant"] == "A")].iloc[0]
        page_file = tmp_path / row["file"]
        page_file.parent.mkdir(parents=True, exist_ok=True)
        page_file.write_text(gallery.pages[row["file"]], encoding="utf-8")
        offline_page.goto(page_file.as_uri())
        assert offline_page.locator("h1").first.inner_text().startswith("Win back")
        chip = offline_page.locator(f'[data-locale="{locale}"]')
        assert chip.count() == 1
        frame = offline_page.frame_locator("iframe.desktop")
        hero = frame.locator("h1").inner_text()
        expected = {
            "fr-CA": "Ça fait un moment !",
            "fr-FR": "Ça fait un moment !",
            "de-DE": "Lange nicht gesehen",
            "en-GB": "It has been a while",
            "es-US": "It has been a while",
        }[locale]
        assert hero == expected
        if locale == "es-US":
            assert "fallback" in chip.get_attribute("class")
        shot = artifacts / f"gallery_win_back_{locale}.png"
        offline_page.screenshot(path=str(shot), full_page=True)
        shots.append(shot)
        assert not offline_page.errors
    assert all(s.stat().st_size > 10_000 for s in shots)
