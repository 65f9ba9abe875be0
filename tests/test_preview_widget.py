"""The ipywidgets previewer re-renders when the moment, customer or variant changes."""

from __future__ import annotations

from workbench.widgets.preview import message_previewer


def test_previewer_follows_its_controls(sample_profiles, strategy):
    box = message_previewer(sample_profiles, strategy=strategy, customers=5)
    moment, customer, variant = box.children[0].children
    html = box.children[1]
    assert "srcdoc" in html.value and moment.value == "welcome"
    first = html.value
    moment.value = "cart_abandonment"
    assert "Cart abandonment" in html.value and variant.options == ("A", "B")
    variant.value = "B"
    assert "variant B" in html.value
    customer.value = 3
    assert html.value != first
