"""Phone validation and time zones in bulk against phonenumbers one number at a time (issue 17).

Loading a 100k-customer synthetic folder checks about 70k distinct numbers. The inputs are distinct
E.164 numbers: three in five drawn as the synthetic data draws them (US and Canadian area codes, UK,
French, Australian and German mobiles, a few invalid +1555 numbers), two in five from phonenumbers'
example mobile and fixed-line numbers of 60 regions with their last digits redrawn (valid and
invalid ones). Both sides do the same work: validity and time zones of every distinct number.
"""

from __future__ import annotations

from benchmarks.harness import measure, table

# sixty regions of every continent
_REGIONS = (
    "US CA GB FR DE AU NZ IE ES IT NL BE PT CH AT DK SE NO FI PL CZ GR CY MT LT IS JP SG HK IL AE SA BH LB BR ZA "
    "MX IN AR CL CO PE RU UA TR EG NG KE MA CN KR TW TH VN PH ID MY PK BD"
)
REGIONS = _REGIONS.split()


def setup(size: int) -> tuple[list[str], object]:
    """``size`` distinct phone numbers as a list of text and as a pandas column (the modules imported)."""
    import numpy as np
    import pandas as pd
    import phonenumbers

    import workbench.phones  # noqa: F401  (import time is not what is measured)

    rng = np.random.default_rng(size)
    prefixes = []
    for region in REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                prefixes.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    us = ["+1415", "+1213", "+1512", "+1713", "+1305", "+1212", "+1718", "+1206", "+1405", "+1416", "+1604"]
    synth_like = [*us, "+447400", "+33612", "+61412", "+49151", "+1555"]
    found: set[str] = set()
    while len(found) < size:
        n = size - len(found)
        synthetic = rng.random(n) < 0.6
        out = []
        for is_synth, pick, tail in zip(
            synthetic, rng.integers(0, 1 << 30, size=n), rng.integers(0, 10**9, size=n), strict=True
        ):
            if is_synth:
                head = synth_like[pick % len(synth_like)]
                width = {"+49151": 8, "+1555": 3}.get(head, 7 if head.startswith("+1") else 6)
            else:
                example = prefixes[pick % len(prefixes)]
                width = min(6, len(example) - 3)
                head = example[:-width]
            out.append(head + str(tail % 10**width).zfill(width))
        found.update(out)
    numbers = sorted(found)[:size]
    return numbers, pd.Series(numbers, dtype="string")


def bulk(inputs) -> None:
    from workbench import phones

    _, column = inputs
    phones.is_valid(column)
    phones.time_zones(column)


def one_by_one(inputs) -> None:
    """What the workbench did before: parse, validate and look up the zones of each number."""
    import phonenumbers
    from phonenumbers import timezone

    numbers, _ = inputs
    for text in numbers:
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            timezone.time_zones_for_number(number)


def one_by_one_cached(inputs) -> None:
    """The same with phonenumbers' compiled-pattern cache switched on."""
    import phonenumbers

    phonenumbers.enable_pattern_cache()
    one_by_one(inputs)


def run(quick: bool) -> str:
    sizes = [70_000] if quick else [70_000, 1_000_000]
    rows = []
    for size in sizes:
        repeat = 1 if quick or size > 100_000 else 3
        got = measure("benchmarks.bench_phones:setup", "benchmarks.bench_phones:bulk", size, repeat=repeat)
        for name, subject in (("one by one", "one_by_one"), ("one by one, pattern cache", "one_by_one_cached")):
            base = measure("benchmarks.bench_phones:setup", f"benchmarks.bench_phones:{subject}", size, repeat=1)
            rows.append(
                {
                    "numbers": f"{size:,}",
                    "against": name,
                    "bulk_s": f"{got['median_s']:.2f}",
                    "phonenumbers_s": f"{base['median_s']:.2f}",
                    "speed-up": f"{base['median_s'] / got['median_s']:.0f}x",
                    "bulk_peak_mb": f"{got['peak_mb']:.0f}",
                }
            )
    return table(rows, ["numbers", "against", "bulk_s", "phonenumbers_s", "speed-up", "bulk_peak_mb"])
