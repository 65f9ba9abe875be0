"""Bulk phone numbers agree with phonenumbers, value for value.

The reference is phonenumbers itself, called one number at a time: ``parse(text, None)``,
``is_valid_number``, ``region_code_for_number``, ``number_type``,
``national_significant_number`` and ``timezone.time_zones_for_number``. The numbers are
every phone number of the committed sample and 100,000 generated ones: phonenumbers'
example number of every region and number type, mutated by a seeded generator.
"""

from __future__ import annotations

import gzip
import io
import zoneinfo
from dataclasses import replace

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as pn_tz
from phonenumbers.phonenumberutil import COUNTRY_CODES_FOR_NON_GEO_REGIONS, SUPPORTED_REGIONS

from workbench import phones
from workbench.contracts import valid_phones
from workbench.timezones import is_valid_zone, phone_time_zones, phone_zones, resolve_timezones

TYPES = [t for t in range(11)]  # every PhoneNumberType but UNKNOWN
NAMES = {v: k for k, v in phones.NUMBER_TYPES.items()}
COUNTRY_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
SEPARATORS = [" ", "-", ".", "(", ")", " - ", "  "]
# characters parse reads specially or not at all: letters (vanity numbers, extensions), full-width and
# Arabic-Indic digits, the full-width plus, punctuation it drops or stops at, RFC 3966 parts
ODD = ["x", "ext. ", "#", ";ext=", "tel:", ";phone-context=+1", ";isub=", "/", "\\", "*", "~", "[", "]", "＋",
       "\uff11", "\u0663", "\u06f5", "A", "abc", "FLOWERS", "\u00a0", "\u2010", "\u3000", "\t", "\n", ",", ";", "_",
       "\u200b", "é", "+", "++", "00", "011"]  # fmt: skip
WHITESPACE = [" ", "\t", "\n", "\u00a0", "\u3000", "\x1c", "\u2028", "\x85", "\r"]


def reference(text: object) -> tuple[bool, int | None, str | None, str | None, str | None, str | None]:
    """phonenumbers one value at a time: valid, country code, national number, region, type, zones."""
    if not isinstance(text, str):
        return (False, None, None, None, None, None)
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return (False, None, None, None, None, None)
    if not phonenumbers.is_valid_number(number):
        return (False, None, None, None, None, None)
    return (
        True,
        number.country_code,
        phonenumbers.national_significant_number(number),
        phonenumbers.region_code_for_number(number),
        NAMES[phonenumbers.number_type(number)],
        "|".join(pn_tz.time_zones_for_number(number)),
    )


def assert_agrees(values: list[object]) -> pd.DataFrame:
    """phones.parse and phones.time_zones equal the reference for every value; returns the reference."""
    expected = pd.DataFrame(
        [reference(v) for v in values],
        columns=["valid", "country_code", "national_number", "region", "number_type", "zones"],
    )
    got = phones.parse(pd.Series(values, dtype=object))
    got["zones"] = phones.time_zones(pd.Series(values, dtype=object))
    for column in expected.columns:
        want = expected[column].astype(object).where(expected[column].notna(), None).tolist()
        have = got[column].astype(object).where(got[column].notna(), None).tolist()
        differ = [(values[i], want[i], have[i]) for i in range(len(values)) if want[i] != have[i]]
        assert not differ, f"{column}: {len(differ)} of {len(values)} differ, e.g. {differ[:5]}"
    return expected


def example_numbers() -> list[str]:
    """phonenumbers' example number of every region and type, and of every non-geographic code, in E.164."""
    found = set()
    for region in sorted(SUPPORTED_REGIONS):
        for number_type in TYPES:
            number = phonenumbers.example_number_for_type(region, number_type)
            if number is not None:
                found.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    for cc in sorted(COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(cc)
        if number is not None:
            found.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return sorted(found)


def _cc(e164: str) -> str:
    return str(phonenumbers.parse(e164, None).country_code)


def _national_prefix(cc: str) -> str:
    region = phonenumbers.region_code_for_country_code(int(cc))
    meta = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(int(cc), region)
    return (meta.national_prefix or "0") if meta is not None else "0"


def _separate(rng: np.random.Generator, text: str) -> str:
    chars = list(text)
    for _ in range(int(rng.integers(1, 5))):
        at = int(rng.integers(1, len(chars) + 1))
        chars.insert(at, SEPARATORS[int(rng.integers(len(SEPARATORS)))])
    return "".join(chars)


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, size=n))


def mutate(rng: np.random.Generator, e164: str, kind: str) -> str:
    """One edge case made from a valid E.164 number."""
    cc = _cc(e164)
    rest = e164[1 + len(cc) :]
    digits = list(e164[1:])
    if kind == "as_is":
        return e164
    if kind == "digit":
        for _ in range(int(rng.integers(1, 4))):
            digits[int(rng.integers(len(cc), len(digits)))] = str(rng.integers(0, 10))
        return "+" + "".join(digits)
    if kind == "longer":
        return e164 + _digits(rng, int(rng.integers(1, 4)))
    if kind == "shorter":
        return e164[: max(1, len(e164) - int(rng.integers(1, 4)))]
    if kind == "zeros":
        return f"+{cc}{'0' * int(rng.integers(1, 4))}{rest}"
    if kind == "national_prefix":
        return f"+{cc}{_national_prefix(cc)}{rest}"
    if kind == "wrong_code":
        return f"+{COUNTRY_CODES[int(rng.integers(len(COUNTRY_CODES)))]}{rest}"
    if kind == "no_code":
        return f"+{rest}"
    if kind == "formatted":
        return _separate(rng, e164)
    if kind == "spaced_code":
        return f"+{cc} ({rest[:3]}) {rest[3:6]}-{rest[6:]}"
    if kind == "no_plus":
        return [e164[1:], "00" + e164[1:], " " + e164[1:], "0" + e164[1:]][int(rng.integers(4))]
    if kind == "whitespace":
        pad = WHITESPACE[int(rng.integers(len(WHITESPACE)))]
        return [pad + e164, e164 + pad, pad + e164 + pad, pad * 3 + e164][int(rng.integers(4))]
    if kind == "odd":
        chars = list(e164)
        for _ in range(int(rng.integers(1, 3))):
            chars.insert(int(rng.integers(0, len(chars) + 1)), ODD[int(rng.integers(len(ODD)))])
        return "".join(chars)
    if kind == "unicode_digits":
        table = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩" if rng.random() < 0.5 else "０１２３４５６７８９")
        return "+" + e164[1:].translate(table)
    if kind == "random":
        return "+" + _digits(rng, int(rng.integers(0, 21)))
    if kind == "nanp":
        area = [_digits(rng, 3), "800", "888", "877", "555", "911", "011", "123", "900", "264"][int(rng.integers(10))]
        exchange = [_digits(rng, 3), "555", "011", "123", "911"][int(rng.integers(5))]
        return f"+1{area}{exchange}{_digits(rng, int(rng.integers(2, 6)))}"
    if kind == "long":
        return [e164 + " " * 250, " " * 240 + e164, "+" + _digits(rng, int(rng.integers(18, 40)))][int(rng.integers(3))]
    if kind == "tiny":
        return ["", "+", " ", "+1", "+12", "+123", "+0", "+00", "-", "()", "+()1 2"][int(rng.integers(11))]
    raise AssertionError(kind)


KINDS = [
    "as_is", "digit", "longer", "shorter", "zeros", "national_prefix", "wrong_code", "no_code", "formatted",
    "spaced_code", "no_plus", "whitespace", "odd", "unicode_digits", "random", "nanp", "long", "tiny",
]  # fmt: skip
# mostly numbers that take the column path, with every odd kind well represented
WEIGHTS = np.array([8, 10, 6, 6, 5, 5, 6, 3, 8, 4, 3, 3, 4, 2, 6, 8, 1, 1], dtype=float)


def generated_numbers(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    examples = example_numbers()
    kinds = rng.choice(len(KINDS), size=n, p=WEIGHTS / WEIGHTS.sum())
    bases = rng.integers(0, len(examples), size=n)
    return [mutate(rng, examples[b], KINDS[k]) for b, k in zip(bases, kinds, strict=True)]


@pytest.fixture(scope="module")
def generated() -> list[str]:
    return generated_numbers(100_000, seed=17)


def test_every_sample_number_agrees(root):
    with gzip.open(root / "data" / "sample" / "customers.csv.gz", "rb") as fh:
        customers = pd.read_csv(io.BytesIO(fh.read()), dtype=str, keep_default_na=False, na_values=[""])
    values = customers["phone"].tolist()
    expected = assert_agrees(values)
    assert expected["valid"].sum() > 3000 and (~expected["valid"]).sum() > 1000  # both kinds are there


def test_examples_of_every_region_and_type_agree():
    values = example_numbers()
    expected = assert_agrees(values)
    assert expected["valid"].all()
    assert expected["region"].nunique() >= 240
    assert set(expected["number_type"]) >= {"MOBILE", "FIXED_LINE", "TOLL_FREE", "PREMIUM_RATE", "VOIP", "UAN"}


def test_100k_generated_numbers_agree(generated):
    expected = assert_agrees(generated)
    valid = expected[expected["valid"]]
    # the mix covers what it claims: many regions and types, valid and invalid, both code paths
    assert valid["region"].nunique() >= 200
    assert valid["country_code"].isin([800, 808, 870, 881, 882, 883]).sum() > 20
    assert valid["number_type"].nunique() >= 10
    assert 0.2 < expected["valid"].mean() < 0.8
    assert sum(not v.startswith("+") for v in generated) > 1000
    assert (expected["zones"].str.contains("|", regex=False) & expected["valid"]).sum() > 100


def test_generated_numbers_cover_the_national_prefix_rules(generated):
    """parse strips national prefixes even after a "+code": these numbers exercise that path."""
    values = [v for v in generated if v.startswith(("+70", "+78", "+440", "+5490", "+5411", "+3780", "+1", "+55"))]
    expected = assert_agrees(values)
    assert expected["valid"].sum() > 500


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.text(alphabet=st.sampled_from([*"+0123456789 -().", "＋", "٣", "x", ";", "\u00a0", "#"]), max_size=24),
        min_size=1,
        max_size=30,
    )
)
def test_any_text_of_phone_characters_agrees(values):
    assert_agrees(values)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(COUNTRY_CODES),
    st.text(alphabet="0123456789", min_size=0, max_size=18),
    st.sampled_from(["", " ", "-", "(", ")", "."]),
)
def test_any_digits_after_any_calling_code_agree(cc, rest, separator):
    text = f"+{cc}{separator}{rest}"
    assert_agrees([text, f"+{cc}{rest}", f"+{cc}0{rest}", f"+{cc}8{rest}", f"+{cc}1{rest}"])


def test_missing_and_non_text_values():
    values = pd.Series([None, np.nan, pd.NA, "", 12015550123, "+12015550123"], dtype=object)
    got = phones.parse(values)
    assert got["valid"].tolist() == [False, False, False, False, False, True]
    assert got.index.equals(values.index)
    assert phones.time_zones(values).isna().tolist() == [True] * 5 + [False]
    assert phones.is_valid(pd.Series([], dtype="string")).empty


def test_index_is_kept_and_repeated_values_agree():
    values = pd.Series(["+442079460000", "+12015550123", "+442079460000", None], index=[10, 3, 7, 99])
    got = phones.parse(values)
    assert list(got.index) == [10, 3, 7, 99]
    assert got["region"].tolist() == ["GB", "US", "GB", pd.NA]
    assert phones.time_zones(values).loc[7] == "Europe/London"


def test_a_calling_code_whose_pattern_arrow_rejects_is_read_by_phonenumbers(monkeypatch):
    # RE2 has no look-ahead: +44's mobile pattern made to start with one cannot run in Arrow, so the +44
    # numbers go to phonenumbers (the answers stay its own) and the other codes stay on the column path
    plan = phones._plan

    def rejected(cc: int) -> phones._Plan:
        found = plan(cc)
        if cc != 44:
            return found
        regions = tuple(
            replace(r, mobile=replace(r.mobile, pattern="(?=[0-9])" + r.mobile.pattern)) if r.mobile else r
            for r in found.regions
        )
        return replace(found, regions=regions)

    by_reference: list[str] = []
    reference_parse = phones._parse_reference

    def spy(texts: list[str], **kwargs: bool) -> object:
        by_reference.extend(texts)
        return reference_parse(texts, **kwargs)

    monkeypatch.setattr(phones, "_plan", rejected)
    monkeypatch.setattr(phones, "_parse_reference", spy)
    values = ["+447400123456", "+44 20 7946 0000", "+4474001", "+12015550123", "+33612345678", "+1555"]
    expected = assert_agrees(values)
    assert expected["valid"].tolist() == [True, True, False, True, True, False]
    assert set(by_reference) == {v for v in values if v.startswith("+44")}


# The workbench's own rules on top of phonenumbers, as they were before the column path: a phone
# column is valid only when the text starts with "+"; the time zone of a phone strips surrounding
# whitespace first and keeps the zones this machine knows.


def old_valid_phone(text: object) -> bool:
    if not isinstance(text, str) or not text.startswith("+"):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, None))
    except phonenumbers.NumberParseException:
        return False


def old_phone_zones(phone: object) -> tuple[str, ...]:
    if not isinstance(phone, str) or not phone.strip():
        return ()
    try:
        parsed = phonenumbers.parse(phone.strip(), None)
    except phonenumbers.NumberParseException:
        return ()
    if not phonenumbers.is_valid_number(parsed):
        return ()
    return tuple(z for z in pn_tz.time_zones_for_number(parsed) if is_valid_zone(z))


def test_a_zone_is_valid_exactly_when_zoneinfo_lists_it():
    available = zoneinfo.available_timezones()
    names = [*sorted(available), "posixrules", "right/UTC", "posix/UTC", "Not/AZone", "", "utc", "Europe/London "]
    assert [is_valid_zone(n) for n in names] == [n in available for n in names]
    assert not is_valid_zone(None) and not is_valid_zone(3)


def test_valid_phones_keeps_its_rules(generated):
    values = pd.Series([*generated[:30_000], None], index=np.arange(30_001) * 2, dtype=object)
    got = valid_phones(values)
    assert got.index.equals(values.index) and got.dtype == bool
    want = [old_valid_phone(v) for v in values]
    differ = [(v, w) for v, w, g in zip(values, want, got, strict=True) if w != g]
    assert not differ, differ[:5]


def test_phone_time_zones_keep_their_rules(generated):
    values = [*generated[30_000:60_000], None, "   ", "\x1c+12015550123\u3000"]
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(values))], "phone": values})
    zones = resolve_timezones(customers)
    want = ["|".join(old_phone_zones(v)) or None for v in values]
    from_phone = zones["timezone_source"] == "phone"
    have = [z if phone else None for z, phone in zip(zones["timezones"].tolist(), from_phone, strict=True)]
    differ = [(v, w, h) for v, w, h in zip(values, want, have, strict=True) if w != h]
    assert not differ, differ[:5]
    assert zones["timezone"].where(zones["timezone_source"] == "phone").dropna().map(is_valid_zone).all()
    for v in values[:2000]:
        assert phone_zones(v) == old_phone_zones(v), v


def test_whitespace_is_what_str_isspace_accepts():
    from workbench.models.tables import WHITESPACE

    assert sorted(WHITESPACE) == [chr(c) for c in range(0x110000) if chr(c).isspace()]


def _padded(values: list[str]) -> list[object]:
    """The numbers as given, and again with white space around them, missing values and bare digits."""
    out: list[object] = []
    for k, v in enumerate(values):
        out.append(v)
        out.append((" ", "\t", "\u3000", "\x1c")[k % 4] + v if k % 3 == 0 else v + " ")
    return [*out, None, "", "   ", "12015550123", " +12015550123", "+12015550123\n"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet=st.sampled_from([*"+0123456789 -().", "\u00a0", "\u3000"]), max_size=18), max_size=30))
def test_one_parse_gives_what_validity_and_zones_give(values):
    from workbench.contracts import _phone_checks

    phones_given = pd.Series(_padded(values), dtype=object, index=np.arange(len(values) * 2 + 6) * 3)
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(phones_given))], "phone": phones_given})
    valid, zones = _phone_checks(customers)
    assert valid.tolist() == valid_phones(phones_given).tolist()
    assert zones is not None
    want = phone_time_zones(phones_given)
    assert zones.isna().tolist() == want.isna().tolist()
    assert zones.dropna().tolist() == want.dropna().tolist()


def test_one_parse_agrees_on_generated_numbers(generated):
    from workbench.contracts import _phone_checks

    values = pd.Series(_padded(generated[60_000:70_000]), dtype=object)
    valid, zones = _phone_checks(pd.DataFrame({"phone": values}))
    assert valid.tolist() == [old_valid_phone(v) for v in values]
    assert zones is not None
    assert zones.fillna("").tolist() == ["|".join(old_phone_zones(v)) for v in values]
    assert valid.sum() > 2000 and zones.notna().sum() > valid.sum()  # padded numbers have zones, not validity
    assert _phone_checks(pd.DataFrame({"phone": [None, None]}))[1] is None


@pytest.mark.parametrize("columns", [("email", "phone"), ("phone",), ("email",), ()])
@pytest.mark.parametrize("given_as", ["folder", "frames"])
def test_a_loaded_dataset_keeps_the_contact_checks_of_its_customers(tmp_path, columns, given_as):
    """Loading parses the customers' phone numbers on a second thread; what the dataset keeps is what the
    checks give on its customers table, whichever columns it has and however it was given."""
    from workbench.contracts import (
        _phone_checks,
        contact_validity,
        customer_contact_validity,
        from_frames,
        phone_checks,
    )
    from workbench.io import load_dataset
    from workbench.resources import sample_data

    sample = load_dataset(sample_data(), tables=("orders", "customers"))
    customers = sample.customers[["customer_id", "created_at", *columns]]
    customers.loc[customers.index[:3], list(columns)] = " +12015550123 "  # white space around a valid number
    if given_as == "folder":
        customers.to_csv(tmp_path / "customers.csv", index=False)
        sample.orders.to_csv(tmp_path / "orders.csv", index=False)
        dataset = load_dataset(tmp_path)
    else:
        dataset = from_frames(sample.orders, customers)
    fresh = customer_contact_validity(dataset.customers)
    kept = contact_validity(dataset)
    assert kept.keys() == fresh.keys()
    for name in kept:
        np.testing.assert_array_equal(kept[name], fresh[name])
    valid, zones = phone_checks(dataset)
    want_valid, want_zones = _phone_checks(dataset.customers)
    np.testing.assert_array_equal(valid, want_valid)
    assert (zones is None) == (want_zones is None) == ("phone" not in columns)
    if zones is not None:
        assert zones.fillna("").tolist() == want_zones.fillna("").tolist()
        assert valid.sum() > 0 and zones.notna().sum() > valid.sum()


def _zone_of_one(country: object, region: object, phone: object, stated: object) -> tuple[str, str, str]:
    """One customer's zone, zones and source, read row by row: stated, else phone, else region, else country."""
    from workbench.timezones import COUNTRY_ZONES, REGION_ZONES

    def upper(text: str) -> str:
        return pd.Series([text], dtype="string").str.upper().iloc[0]

    found = ("UTC", "UTC", "default")
    if isinstance(country, str):
        if COUNTRY_ZONES.get(upper(country)):
            found = (COUNTRY_ZONES[upper(country)],) * 2 + ("country",)
        if isinstance(region, str) and REGION_ZONES.get((upper(country), upper(region))):
            found = (REGION_ZONES[(upper(country), upper(region))],) * 2 + ("region",)
    zones = phone_zones(phone)
    if zones:
        found = (zones[0], "|".join(zones), "phone")
    if isinstance(stated, str) and is_valid_zone(stated):
        found = (stated, stated, "stated")
    return found


_COUNTRIES = st.sampled_from(["US", "us", "CA", "ca", "FR", "XX", "\ufb01", "", None])
_REGIONS = st.sampled_from(["NY", "ca", "QC", "bc", "ON", "zz", "", None])
_PHONES = st.sampled_from(["+12015550123", "+13125550123", "+33612345678", "+61412345678", "+1800", "", None])
_STATED = st.sampled_from(["America/Denver", "Europe/Paris", "europe/paris", "Mars/Base", "", None])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(_COUNTRIES, _REGIONS, _PHONES, _STATED), min_size=1, max_size=25),
    st.booleans(),
    st.sampled_from([(4, 65_536), (0, 0)]),
)
def test_time_zones_are_resolved_as_row_by_row(rows, phones_known, pair_table):
    """The zones chosen by distinct values and codes are what reading each customer on its own gives, whether
    the (country, region) pairs that occur are found in a table or by sorting."""
    from workbench import timezones

    customers = pd.DataFrame(rows, columns=["country", "region", "phone", "timezone"], dtype=object)
    customers.insert(0, "customer_id", [f"c{i}" for i in range(len(rows))])
    customers.index = np.arange(len(rows)) * 2 + 5  # resolved in row order, whatever the index
    known = phone_time_zones(customers["phone"]) if phones_known else None
    saved, timezones._PAIR_TABLE = timezones._PAIR_TABLE, pair_table
    try:
        got = resolve_timezones(customers, known)
    finally:
        timezones._PAIR_TABLE = saved
    want = [_zone_of_one(*row) for row in rows]
    assert list(zip(got["timezone"], got["timezones"], got["timezone_source"], strict=True)) == want
    assert got["customer_id"].tolist() == customers["customer_id"].tolist()
    for column in ("timezone", "timezones", "timezone_source"):
        assert got[column].dtype == pd.StringDtype(na_value=pd.NA) and not got[column].isna().any()
