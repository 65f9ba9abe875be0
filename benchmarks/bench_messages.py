"""Paired rendering + SMS analysis + lint per core, against bare Jinja rendering of the same templates (issue 17).

Inputs come through the application layer: a synthetic dataset (:func:`workbench.synth.synthesize`)
opened as a :class:`~workbench.application.Workspace`, whose ``assigned`` profiles carry every column
the strategy and the templates read (predicted value, segments, locale, currency, time zone), so the
benchmark keeps working as profiles grow. Two moments are rendered for every customer: cart
abandonment (names, links, offer) and the post-purchase confirmation (amounts, dates and plural forms
written by Babel), each in the customer's language (en, fr, fr-CA, de, with fallbacks).

The floor is bare Jinja: a plain ``jinja2.Environment`` (no sandbox, no limits) with the same
templates, resolved per locale and compiled once, and the same filters, rendering every part
(subject, preheader, HTML, text, headers, SMS) with a plain dict context per customer built from the
chunk's records, on one core. Nothing else: no CSS inlining, no SMS analysis, no lint, and nothing
kept between customers (every filter formats its value afresh).

The subject is :func:`workbench.messages.lint_audience`, what the workbench does per customer: sandboxed
rendering of every part in the customer's locale, CSS inlining, SMS encoding and segments, and every
lint rule, with the findings grouped; on one core, and on two worker processes. Both sides compile
their templates once per process; the lint's memo of distinct pairs lives for one call, so every run
lints its customers afresh.

The machine is shared, so the floor and the subjects are measured alternately, a fresh process each,
in several rounds (:func:`benchmarks.harness.rounds`); each process runs twice, first over other customers
of the same dataset, and keeps its warm run over the measured ones (see :class:`Audiences`), and the
ratio is the median of the rounds' ratios.

``python -m benchmarks messages`` runs 10,000 customers; ``python -m benchmarks.bench_messages 100000``
runs other sizes.
"""

from __future__ import annotations

import statistics
import sys

from benchmarks.harness import ratio, rounds, spread, table

MOMENTS = ("cart_abandonment", "post_purchase_confirmation")
CHUNK = 5000
TARGET = 1.5  # x the floor, per core (issue 17)
ROUNDS = 5
AS_OF = "2026-10-31"


class Audiences:
    """The strategy and two audiences of ``size`` customers each: each run of a subject takes the next.

    The first run (the warm-up: templates compiled, the worker pool started) renders other customers
    than the measured run, so that nothing the workbench keeps per distinct value (parts, layouts,
    formatted amounts and dates) was worked out for the measured customers beforehand: a warm run
    sees what a long run sees, the values it has met before and new ones in the same mix.
    """

    def __init__(self, strategy, audiences: list) -> None:
        self.strategy = strategy
        self.audiences = audiences
        self.runs = 0

    def next(self):
        """The strategy and the profiles of the next run (the warm-up's, then the measured audience)."""
        profiles = self.audiences[min(self.runs, len(self.audiences) - 1)]
        self.runs += 1
        return self.strategy, profiles


def setup(size: int) -> Audiences:
    """``2 * size`` customers' assigned profiles of a synthetic dataset, through a Workspace, in two audiences."""
    from workbench.application import Workspace
    from workbench.io import load_strategy
    from workbench.synth import synthesize

    strategy = load_strategy("data/strategy.yaml")
    assigned = Workspace.create(synthesize(2 * size, seed=7), strategy, as_of=AS_OF).assigned
    return Audiences(strategy, [assigned.iloc[size:], assigned.iloc[:size]])


class BareJinja:
    """The floor: the library's templates in a plain ``jinja2.Environment``, one dict context per customer."""

    def __init__(self, strategy) -> None:
        from workbench.messages.render import Renderer

        # Used only to find each locale's files and compile them (unsandboxed, filters without the
        # workbench's memo of distinct dates and numbers), never to render.
        self.renderer = Renderer(strategy, inline_css=False, sandboxed=False, cache_parts=False)
        self.brand = dict(self.renderer.brand)
        self.default_currency = strategy.brand.currency
        self._fixed: dict[tuple[str, str], tuple[dict, dict]] = {}

    def fixed(self, moment: str, locale: object) -> tuple[dict, dict]:
        """The compiled templates and the context values shared by every customer of ``locale``."""
        key = (moment, str(locale))
        hit = self._fixed.get(key)
        if hit is None:
            r = self.renderer
            manifest = r.manifest(moment)
            resolution = r.resolve(moment, manifest.variants[0], locale if isinstance(locale, str) else None)
            base = r.context(moment, {"customer_id": "x", "locale": locale}, variant=manifest.variants[0])
            shared = {k: base[k] for k in ("moment", "variant", "manifest", "cta", "locale", "lang", "offer")}
            shared["brand"] = self.brand
            shared["landing"] = manifest.landing_path
            templates = r.templates(moment, manifest.variants[0], resolution.locale)
            hit = self._fixed[key] = (templates, shared)
        return hit

    def parts(self, moment: str, customer: dict) -> dict[str, str]:
        """Every part of one customer's pair, as bare Jinja writes it."""
        templates, shared = self.fixed(moment, customer.get("locale"))
        cid = customer["customer_id"]
        product_id = customer.get("last_viewed_product")
        ctx = {
            **shared,
            "customer": customer,
            "channel": "email",
            "currency": customer.get("currency") or self.default_currency,
            "product": None
            if product_id is None
            else {"id": product_id, "name": f"item {product_id}", "price": None, "path": f"/products/{product_id}"},
            "unsubscribe_link": f"{self.brand['unsubscribe_url']}?c={cid}",
            "preferences_link": f"{self.brand['preferences_url']}?c={cid}",
        }
        out = {"subject": templates["subject"].render(ctx), "preheader": templates["preheader"].render(ctx)}
        ctx.update(out)
        for part in ("html", "text", "headers"):
            out[part] = templates[part].render(ctx)
        ctx["channel"] = "sms"
        out["sms"] = templates["sms"].render(ctx)
        return out

    def render(self, moment: str, customer: dict) -> int:
        return sum(map(len, self.parts(moment, customer).values()))


_BARE: dict[int, BareJinja] = {}


def floor(inputs: Audiences) -> int:
    """Bare Jinja: the same templates, filters and contexts, one core, nothing else."""
    strategy, profiles = inputs.next()
    bare = _BARE.get(id(strategy))
    if bare is None:  # compiled once per process, as the workbench's renderer is
        bare = _BARE[id(strategy)] = BareJinja(strategy)
    used = bare.renderer.customer_columns(MOMENTS)
    columns = [c for c in profiles.columns if used is None or c in used]
    total = 0
    for start in range(0, len(profiles), CHUNK):
        chunk = profiles.iloc[start : start + CHUNK][columns].astype(object)
        for customer in chunk.where(chunk.notna(), None).to_dict("records"):
            for moment in MOMENTS:
                total += bare.render(moment, customer)
    return total


def _workbench(inputs: Audiences, workers: int) -> int:
    from workbench.messages import lint_audience

    strategy, profiles = inputs.next()
    out = lint_audience(profiles, strategy=strategy, moments=list(MOMENTS), chunk_size=CHUNK, workers=workers)
    return int(out.attrs["rendered"])


def workbench_one_core(inputs: Audiences) -> int:
    return _workbench(inputs, 1)


def workbench_two_workers(inputs: Audiences) -> int:
    return _workbench(inputs, 2)


def run(quick: bool, sizes: list[int] | None = None) -> str:
    sizes = sizes or ([2_000] if quick else [10_000])
    rows = []
    for size in sizes:
        subjects = {"floor": "benchmarks.bench_messages:floor", "one": "benchmarks.bench_messages:workbench_one_core"}
        if not quick:
            subjects["two"] = "benchmarks.bench_messages:workbench_two_workers"
        timeout = max(900.0, size / 50)
        n = 1 if quick or size > 10_000 else ROUNDS
        got = rounds("benchmarks.bench_messages:setup", subjects, size, n=n, timeout=timeout, repeat=2)
        labels = {
            "floor": "bare Jinja (floor, 1 core)",
            "one": "render+sms+lint, 1 core",
            "two": "render+sms+lint, 2 workers",
        }
        for name, label in labels.items():
            if name not in got:
                continue
            m = got[name]
            each = sorted(a / b for a, b in zip(m["runs"], got["floor"]["runs"], strict=True))
            middle = statistics.median(each)
            rows.append(
                {
                    "customers": size,
                    "pairs": size * len(MOMENTS),
                    "path": label,
                    "seconds": spread(m),
                    "per_1k_pairs_s": f"{m['median_s'] / (size * len(MOMENTS)) * 1000:.3f}",
                    "peak_mb": f"{m['peak_mb']:.0f}",
                    "x_floor": "1.00" if name == "floor" else ratio(m, got["floor"]),
                    "target": (f"<= {TARGET} {'ok' if middle <= TARGET else 'MISSED'}" if name == "one" else ""),
                }
            )
    note = (
        "each round runs the floor and each subject in a fresh process, twice, and keeps the warm run; x_floor is "
        "the median of the rounds' ratios (range: the fastest and slowest round's)"
    )
    return table(rows, list(rows[0])) + "\n" + note


if __name__ == "__main__":
    print(run(quick=False, sizes=[int(a.replace("_", "")) for a in sys.argv[1:]] or None))
