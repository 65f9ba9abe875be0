"""The ipywidgets previewer re-renders when the moment, variant, customer or email width changes."""

from __future__ import annotations

from workbench.widgets.preview import message_previewer, show_previewer


def test_previewer_follows_its_controls(sample_profiles, strategy):
    box = message_previewer(sample_profiles, strategy=strategy, customers=5)
    moment, variant, customer = box.children[0].children
    view, html = box.children[1], box.children[2]
    assert "srcdoc" in html.value and moment.value == "welcome"
    first = html.value
    moment.value = "cart_abandonment"
    assert "Cart abandonment" in html.value and variant.options == ("A", "B")
    variant.value = "B"
    assert "variant B" in html.value
    customer.value = 3
    assert html.value != first
    assert view.options == ("desktop and mobile", "desktop", "mobile")
    view.value = "mobile"
    assert "figure:has(.frame-box.desktop){display:none}" in html.value
    view.value = "desktop"
    assert "figure:has(.frame-box.mobile){display:none}" in html.value


def test_static_reports_show_one_pair_and_say_where_the_previewer_is(sample_workspace):
    shown = show_previewer(sample_workspace, enabled=False, moments=["win_back"])
    assert "needs a live kernel" in shown.data and "<iframe" in shown.data and "Win" in shown.data
