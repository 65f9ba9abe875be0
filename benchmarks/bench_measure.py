"""Metrics and attribution over a message history: 1M messages must take under 10 s (issue 6)."""

from __future__ import annotations

from benchmarks.harness import measure, table

TARGET_S = 10.0
MESSAGES_PER_CUSTOMER = 32  # the synthetic history sends about 32 messages per customer in 180 days


def setup(size: int):
    """A synthetic dataset with ``size`` messages (the earliest ones), its orders and events.

    The orders are in five currencies: they are measured in USD at the sample strategy's rates.
    """
    from workbench.io import load_strategy, sample_strategy
    from workbench.money import orders_in_one_currency
    from workbench.synth import synthesize

    ds = synthesize(max(size // MESSAGES_PER_CUSTOMER + 200, 300), seed=5)
    orders = orders_in_one_currency(ds.orders, settings=load_strategy(sample_strategy()).measurement)
    return ds.messages.head(size).reset_index(drop=True), orders, ds.events


def metrics_and_attribution(inputs) -> None:
    from workbench.measure import attribute, channel_metrics

    messages, orders, events = inputs
    channel_metrics(messages, orders, events)
    attribute(messages, orders)


def metrics_only(inputs) -> None:
    from workbench.measure import channel_metrics

    messages, orders, events = inputs
    channel_metrics(messages, orders, events)


def attribution_only(inputs) -> None:
    from workbench.measure import attribute

    messages, orders, _ = inputs
    attribute(messages, orders)


def run(quick: bool) -> str:
    sizes = [100_000] if quick else [100_000, 1_000_000]
    rows = []
    for size in sizes:
        for name, subject in (
            ("metrics + attribution (6 models)", "metrics_and_attribution"),
            ("metrics only", "metrics_only"),
            ("attribution only", "attribution_only"),
        ):
            got = measure(
                "benchmarks.bench_measure:setup", f"benchmarks.bench_measure:{subject}", size, repeat=1 if quick else 3
            )
            target = TARGET_S * size / 1_000_000
            rows.append(
                {
                    "task": name,
                    "messages": f"{size:,}",
                    "median_s": f"{got['median_s']:.2f}",
                    "peak_mb": f"{got['peak_mb']:.0f}",
                    "target_s": f"{target:.1f}",
                    "ratio": f"{got['median_s'] / target:.2f}",
                }
            )
    return table(rows, ["task", "messages", "median_s", "peak_mb", "target_s", "ratio"])
