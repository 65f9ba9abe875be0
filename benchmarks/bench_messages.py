"""Paired rendering + SMS analysis + lint for an audience, against bare Jinja rendering of the same templates.

The floor renders the same cart-abandonment templates (subject, preheader, HTML, text, SMS) with a plain
``jinja2.Environment`` (no sandbox, no CSS inlining, no SMS analysis, no lint) on the same contexts,
built chunk by chunk the same way, on one core. The workbench path is ``lint_audience``: sandboxed
rendering of every part (plus the unsubscribe headers), CSS inlining, ``analyze_sms`` and every lint
rule, chunk by chunk, on one core or on two worker processes. Chunks carry only the profile columns the
templates read; the worker pool stays warm between calls, so with ``repeat > 1`` the median is a warm
run (the first run also starts the workers, about a second). Peak memory is the parent process's
growth (chunks keep it flat; each worker holds one chunk at a time and returns grouped findings).
"""

from __future__ import annotations

from benchmarks.harness import measure, table

MOMENT = "cart_abandonment"
CHUNK = 5000


def setup(size: int):
    import pandas as pd

    from workbench.io import load_dataset, load_strategy
    from workbench.profiles import build_profiles
    from workbench.segments import assign

    strategy = load_strategy("data/strategy.yaml")
    base = assign(build_profiles(load_dataset("data/sample"), as_of="2026-10-31"), strategy)
    copies = []
    for i in range(-(-size // len(base))):
        part = base.copy()
        part["customer_id"] = part["customer_id"].astype(str) + f"-{i}"
        copies.append(part)
    profiles = pd.concat(copies, ignore_index=True).iloc[:size]
    return strategy, profiles


def floor(inputs) -> int:
    """Bare Jinja: the same templates and contexts, one core, nothing else."""
    from workbench.messages.render import PART_FILES, Renderer, customer_context

    strategy, profiles = inputs
    renderer = Renderer(strategy, inline_css=False, sandboxed=False)
    names = {part: renderer._template_name(MOMENT, part, "A") for part in PART_FILES}
    templates = {part: renderer.env.get_template(name) for part, name in names.items()}
    total = 0
    for start in range(0, len(profiles), CHUNK):
        for row in profiles.iloc[start : start + CHUNK].to_dict("records"):
            ctx = renderer.context(MOMENT, customer_context(row), variant="A", clean=True)
            ctx["subject"] = templates["subject"].render(ctx)
            ctx["preheader"] = templates["preheader"].render(ctx)
            total += len(templates["html"].render(ctx)) + len(templates["text"].render(ctx))
            ctx["channel"] = "sms"
            total += len(templates["sms"].render(ctx))
    return total


def workbench_two_workers(inputs) -> int:
    from workbench.messages import lint_audience

    strategy, profiles = inputs
    out = lint_audience(profiles, strategy=strategy, moments=[MOMENT], chunk_size=CHUNK, workers=2)
    return int(out.attrs["rendered"])


def workbench_one_core(inputs) -> int:
    from workbench.messages import lint_audience

    strategy, profiles = inputs
    out = lint_audience(profiles, strategy=strategy, moments=[MOMENT], chunk_size=CHUNK, workers=1)
    return int(out.attrs["rendered"])


def run(quick: bool) -> str:
    sizes = [10_000] if quick else [10_000, 50_000, 100_000]
    rows = []
    for size in sizes:
        repeat = 1 if size > 10_000 else 3
        base = measure("benchmarks.bench_messages:setup", "benchmarks.bench_messages:floor", size, repeat)
        rows.append(
            {
                "customers": size,
                "path": "bare Jinja (floor, 1 core)",
                "median_s": f"{base['median_s']:.2f}",
                "per_1k_s": f"{base['median_s'] / size * 1000:.3f}",
                "peak_mb": f"{base['peak_mb']:.0f}",
                "x_floor": "1.00",
            }
        )
        for name, label in (
            ("workbench_one_core", "render+sms+lint, 1 core"),
            ("workbench_two_workers", "render+sms+lint, 2 workers"),
        ):
            if quick and name == "workbench_one_core":
                continue
            got = measure("benchmarks.bench_messages:setup", f"benchmarks.bench_messages:{name}", size, repeat)
            rows.append(
                {
                    "customers": size,
                    "path": label,
                    "median_s": f"{got['median_s']:.2f}",
                    "per_1k_s": f"{got['median_s'] / size * 1000:.3f}",
                    "peak_mb": f"{got['peak_mb']:.0f}",
                    "x_floor": f"{got['median_s'] / base['median_s']:.2f}",
                }
            )
    return table(rows, ["customers", "path", "median_s", "per_1k_s", "peak_mb", "x_floor"])
