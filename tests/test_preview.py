"""The side-by-side preview: self-contained, escaped, and readable in headless Chromium at 1280 and 390 px."""

from __future__ import annotations

import pytest

from workbench.io import write_preview
from workbench.messages import preview


@pytest.fixture
def evil_preview(sample_profiles, strategy, tmp_path):
    row = sample_profiles.iloc[0].to_dict()
    row.update(first_name="<script>alert(1)</script>", last_viewed_product="SKU-0007")
    item = preview("cart_abandonment", row, strategy=strategy)
    return item, write_preview(item, tmp_path / "preview.html")


def test_preview_is_self_contained_and_escaped(evil_preview):
    item, path = evil_preview
    doc = path.read_text()
    assert "<script" not in doc.lower()  # no script of ours, and the customer's is escaped twice in srcdoc
    assert "&amp;lt;script&amp;gt;" in doc
    assert 'sandbox=""' in doc and doc.count("<iframe") == 2
    assert "cdn" not in doc and "@import" not in doc and "<link" not in doc
    assert "GSM-7" in doc and "segment" in doc and "Lint findings" in doc
    assert item.findings.empty
    assert "<iframe sandbox" in item._repr_html_()


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_preview_in_chromium(evil_preview, offline_page, artifacts, width):
    _, path = evil_preview
    page = offline_page
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_viewport_size({"width": width, "height": 2600 if width < 500 else 1300})
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    for selector in (
        "section.email-pane",
        "section.sms-pane",
        "iframe.desktop",
        "iframe.mobile",
        ".bubble",
        "section.findings",
    ):
        box = page.locator(selector).bounding_box()
        assert page.locator(selector).is_visible(), selector
        assert box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)
    email_frame = page.frame_locator("iframe.mobile")
    assert email_frame.locator("text=Return to cart").first.is_visible()
    assert "<script>alert(1)</script>" in email_frame.locator("body").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert "GSM-7" in page.locator(".sms-pane").inner_text()
    page.screenshot(path=str(artifacts / f"preview_cart_abandonment_{width}.png"), full_page=True)
    assert not dialogs
    assert page.errors == []
    assert page.blocked == []
