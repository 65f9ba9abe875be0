"""Lint: the shipped library is clean over real customers, and every rule fires on a crafted bad template."""

from __future__ import annotations

import shutil

import pytest
import yaml

from workbench.messages import RULES, lint_exit_code, lint_library, lint_sample


def test_sample_covers_edge_customers(sample_profiles):
    s = lint_sample(sample_profiles, n=24)
    assert len(s) == 24 and s["customer_id"].is_unique
    names = s["first_name"]
    assert names.isna().any()
    assert names.dropna().str.len().max() == sample_profiles["first_name"].dropna().str.len().max()
    assert names.dropna().map(lambda n: any(ord(c) > 0x24F for c in n)).any()  # a non-Latin name
    assert s["last_viewed_product"].isna().any() and s["last_viewed_product"].notna().any()


def test_shipped_library_is_clean(sample_profiles, strategy):
    findings = lint_library(sample_profiles, strategy=strategy, sample_customers=40)
    assert lint_exit_code(findings) == 0 and not (findings["severity"] == "error").any(), findings.to_string()
    # what is left is the translations still to write (and Quebec's French for them), and the French order
    # confirmation's UCS-2, accepted in its manifest
    assert set(findings["rule"]) == {"template-locale-fallback", "market-language", "sms-non-gsm"}
    assert set(findings.loc[findings["rule"] == "sms-non-gsm", "severity"]) == {"info"}
    translated = {"welcome", "cart_abandonment", "post_purchase_confirmation", "win_back", "shipping_update"}
    fallback = findings[findings["rule"] == "template-locale-fallback"]
    assert set(fallback.loc[fallback["moment"].isin(translated), "locale"]) == {"es-US"}
    assert set(fallback["moment"]) == set(strategy_moments(sample_profiles, strategy))


def strategy_moments(profiles, strategy):
    from workbench.messages import load_library

    return list(load_library())


BAD = {
    "manifest.yaml": None,  # set below: draft, unknown variable, first message of the program
    "subject.txt.j2": "Don’t miss this incredible once in a lifetime offer on everything we sell\n",
    "preheader.txt.j2": "\n",
    "email.html.j2": (
        "<html><body><p>Hi {{ customer.first_name | first_name }}, {{ '{{' }}first_name}}</p>"
        '<img src="https://cdn.example/x.png">'
        '<a data-cta="1" href="{{ landing | track }}">Buy</a> <a data-cta="2" href="http://shop.example/other">More</a>'
        "<p>Your cart is waiting for you and it will not wait forever so come back now.</p>"
        "<p>Use code SPRING10 today.</p>"
        "<!-- {{ 'x' * 110000 }} --></body></html>\n"
    ),
    "email.txt.j2": "Your cart is waiting for you and it will not wait forever so come back now. Use code SPRING10.\n",
    "sms.txt.j2": (
        "Hey {{ customer.first_name | first_name }}! Your cart is waiting for you and it will not wait forever "
        "so come back now. Use code FALL20 ’ {first_name} http://shop.example/deal "
        "https://other.example/page {{ 'x' * 200 }}\n"
    ),
}


@pytest.fixture
def bad_library(tmp_path, root):
    shutil.copytree(root / "templates" / "_base", tmp_path / "_base")
    (tmp_path / "_base" / "headers.txt.j2").write_text("List-Unsubscribe: <mailto:u@example.com>\n")
    folder = tmp_path / "welcome"
    folder.mkdir()
    manifest = yaml.safe_load((root / "templates" / "welcome" / "manifest.yaml").read_text())
    manifest.update(approval="draft", required_variables=["first_name", "points_balance"], variants=["A"])
    manifest["locales"]["fr"]["approval"] = "draft"  # a draft translation ...
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True))
    for name, text in BAD.items():
        if text is not None:
            (folder / name).write_text(text)
    (folder / "fr").mkdir()  # ... with a subject only: French customers cannot get it
    (folder / "fr" / "subject.txt.j2").write_text("Bienvenue\n")
    broken = tmp_path / "win_back"
    shutil.copytree(root / "templates" / "win_back", broken)
    (broken / "sms.txt.j2").write_text("{{ brand.name }}: {{ customer.no_such_column }}\n")
    return tmp_path


def test_every_rule_fires_on_a_crafted_bad_template(bad_library, sample_profiles, strategy):
    findings = lint_library(sample_profiles, strategy=strategy, templates_dir=bad_library, sample_customers=6)
    fired = set(findings["rule"])
    assert fired == set(RULES), f"did not fire: {set(RULES) - fired}; unexpected: {fired - set(RULES)}"
    assert lint_exit_code(findings) == 1
    row = findings.set_index("rule").loc["sms-non-gsm"]
    assert "'’' -> \"'\"" in row["message"]
    render = findings[findings["rule"] == "template-render"].iloc[0]
    assert "win_back/sms.txt.j2 line 1" in render["message"] and "no_such_column" in render["message"]
    assert {"rule", "severity", "message", "fix", "customers", "example_ids"} <= set(findings.columns)
    assert (findings["fix"].str.len() > 0).all()
