"""Phone numbers in bulk: libphonenumber's validity, type, region and time zones, a column at a time.

``phonenumbers`` (the Python port of Google's libphonenumber) stays the source of
truth: this module reads its metadata (country calling codes, each region's
national-number patterns and possible lengths per number type, leading digits,
national-prefix rules) and its prefix-to-time-zone table, and applies them to a
whole column with Arrow's regular-expression kernels and NumPy instead of
parsing one number at a time. The results are those of
``phonenumbers.parse(text, None)``, ``is_valid_number``, ``region_code_for_number``,
``number_type`` and ``phonenumbers.timezone.time_zones_for_number``, value for
value (``tests/test_phones.py`` checks every number of the sample and 100,000
generated ones).

Text made of one ``+`` and ASCII digits, optionally separated by spaces, dashes,
dots or brackets, takes the column path. Any other text that holds a plus sign
(vanity letters, extensions, ``tel:`` URIs, full-width or Arabic-Indic digits) is
parsed by ``phonenumbers`` itself; text without a plus sign cannot be parsed
without a default region and is invalid. Each distinct value is analysed once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["NUMBER_TYPES", "is_valid", "parse", "time_zones", "valid_and_zones"]

#: phonenumbers' ``PhoneNumberType`` values by name (``UNKNOWN`` is an invalid number).
NUMBER_TYPES = {
    "FIXED_LINE": 0,
    "MOBILE": 1,
    "FIXED_LINE_OR_MOBILE": 2,
    "TOLL_FREE": 3,
    "PREMIUM_RATE": 4,
    "SHARED_COST": 5,
    "VOIP": 6,
    "PERSONAL_NUMBER": 7,
    "PAGER": 8,
    "UAN": 9,
    "VOICEMAIL": 10,
    "UNKNOWN": 99,
}
_UNKNOWN = NUMBER_TYPES["UNKNOWN"]
_TYPE_NAMES = np.full(_UNKNOWN + 1, None, dtype=object)
for _name, _value in NUMBER_TYPES.items():
    _TYPE_NAMES[_value] = _name
# The order in which phonenumbers' _number_type_helper tries the types before fixed line and mobile.
_SPECIAL_TYPES = (
    ("premium_rate", NUMBER_TYPES["PREMIUM_RATE"]),
    ("toll_free", NUMBER_TYPES["TOLL_FREE"]),
    ("shared_cost", NUMBER_TYPES["SHARED_COST"]),
    ("voip", NUMBER_TYPES["VOIP"]),
    ("personal_number", NUMBER_TYPES["PERSONAL_NUMBER"]),
    ("pager", NUMBER_TYPES["PAGER"]),
    ("uan", NUMBER_TYPES["UAN"]),
    ("voicemail", NUMBER_TYPES["VOICEMAIL"]),
)

# Limits of phonenumbers.parse (_MAX_INPUT_STRING_LENGTH, _MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN).
_MAX_INPUT = 250
_MIN_NSN = 2
_MAX_NSN = 17
# Text that parse reads exactly as "+" and its digits: one ASCII plus, then ASCII digits and separators
# that parse drops (all in its _VALID_PUNCTUATION; none starts an extension, a second number or an
# RFC 3966 part). With fewer than three digits such text is not a viable number.
_SIMPLE = r"^\+[0-9 ().\-]*$"
_SEPARATORS = (" ", "-", ".", "(", ")")
# Without a plus sign (ASCII or full-width) parse(text, None) fails whatever the text.
_PLUS_SIGNS = ("+", "\uff0b")


# ----------------------------------------------------------------------------------------------------
# Plans: phonenumbers' metadata for one country calling code, arranged for column-wide matching.


@dataclass(frozen=True)
class _Desc:
    """One PhoneNumberDesc: an anchored pattern and its possible lengths (empty: any length)."""

    pattern: str
    lengths: np.ndarray


@dataclass(frozen=True)
class _Region:
    code: str
    general: _Desc | None
    special: tuple[tuple[int, _Desc], ...]  # (type, desc) in phonenumbers' order
    any_special: str | None  # one pattern that every special type's numbers match (a cheap first pass)
    fixed_line: _Desc | None
    mobile: _Desc | None
    same_mobile_and_fixed_line: bool
    leading_digits: str | None  # anchored at the start only


@dataclass(frozen=True)
class _Plan:
    country_code: int
    regions: tuple[_Region, ...]
    # national prefix and carrier code stripping, from the main region's metadata (parse's rules)
    prefix: str | None  # anchored at the start, for Arrow
    prefix_literal: str | None  # the prefix when it is plain digits (a starts-with test suffices)
    prefix_re: re.Pattern[str] | None  # phonenumbers' own pattern, for Python
    transform: str | None
    strip_all_matches: bool  # an empty prefix match may still transform: let Python see every match
    general_re: re.Pattern[str] | None
    general_lengths: tuple[int, ...]
    local_lengths: tuple[int, ...]
    # time zones: (length of the E.164 prefix without "+", national parts, zone ids), longest first
    zone_parts: tuple[tuple[int, pa.Array, np.ndarray], ...]
    zone_fallback: int  # zone id of the longest table prefix within the calling code itself, -1 none
    country_zone: int  # zone id of the calling code's country-level zones (non-geographic types)
    geographic_types: np.ndarray  # the number types phonenumbers locates by prefix in this calling code


def _desc(desc: Any) -> _Desc | None:
    """A PhoneNumberDesc as phonenumbers' _is_number_matching_desc reads it; None when it matches nothing."""
    if desc is None or not desc.national_number_pattern:
        return None
    return _Desc(f"^(?:{desc.national_number_pattern})$", np.asarray(desc.possible_length, dtype=np.int64))


def _region(code: str, meta: Any) -> _Region:
    special = tuple((t, d) for name, t in _SPECIAL_TYPES if (d := _desc(getattr(meta, name))) is not None)
    alternatives = "|".join(
        getattr(meta, name).national_number_pattern for name, t in _SPECIAL_TYPES if _desc(getattr(meta, name))
    )
    return _Region(
        code=code,
        general=_desc(meta.general_desc),
        special=special,
        any_special=f"^(?:{alternatives})$" if len(special) > 1 else None,
        fixed_line=_desc(meta.fixed_line),
        mobile=_desc(meta.mobile),
        same_mobile_and_fixed_line=bool(meta.same_mobile_and_fixed_line_pattern),
        leading_digits=None if meta.leading_digits is None else f"^(?:{meta.leading_digits})",
    )


@lru_cache(maxsize=1)
def _country_code_table() -> np.ndarray:
    """For every number 0..999, whether it is a country calling code."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    table = np.zeros(1000, dtype=bool)
    table[[c for c in COUNTRY_CODE_TO_REGION_CODE if c < 1000]] = True
    return table


@lru_cache(maxsize=1)
def _zone_table() -> tuple[dict[str, int], tuple[str, ...]]:
    """phonenumbers' prefix-to-zones table as prefix -> zone id, and the zone lists joined by "|" by id."""
    from phonenumbers.timezone import UNKNOWN_TIMEZONE
    from phonenumbers.tzdata import TIMEZONE_DATA

    ids: dict[tuple[str, ...], int] = {(UNKNOWN_TIMEZONE,): 0}
    by_prefix = {prefix: ids.setdefault(tuple(zones), len(ids)) for prefix, zones in TIMEZONE_DATA.items()}
    return by_prefix, tuple("|".join(z) for z in ids)


_UNKNOWN_ZONE = 0  # the id of phonenumbers' ("Etc/Unknown",)


def _longest_zone(prefix: str) -> int:
    """The zone id of the longest prefix of ``prefix`` in the table (time_zones_for_geographical_number)."""
    from phonenumbers.tzdata import TIMEZONE_LONGEST_PREFIX

    by_prefix = _zone_table()[0]
    for length in range(TIMEZONE_LONGEST_PREFIX, 0, -1):
        if prefix[:length] in by_prefix:
            return by_prefix[prefix[:length]]
    return -1


def _country_zone(cc: str) -> int:
    """The zone id phonenumbers.timezone's _country_level_time_zones_for_number gives a calling code."""
    from phonenumbers.tzdata import TIMEZONE_LONGEST_PREFIX

    by_prefix = _zone_table()[0]
    for length in range(TIMEZONE_LONGEST_PREFIX, 0, -1):
        if cc[: 1 + length] in by_prefix:
            return by_prefix[cc[: 1 + length]]
    return _UNKNOWN_ZONE


@cache
def _plan(cc: int) -> _Plan:
    import phonenumbers
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata
    from phonenumbers.tzdata import TIMEZONE_DATA

    regions = []
    for code in COUNTRY_CODE_TO_REGION_CODE[cc]:
        if code == REGION_CODE_FOR_NON_GEO_ENTITY:
            meta = PhoneMetadata.metadata_for_nongeo_region(cc)
        else:
            meta = PhoneMetadata.metadata_for_region(code.upper(), None)
        if meta is not None:
            regions.append(_region(code, meta))
    main = PhoneMetadata.metadata_for_region_or_calling_code(cc, phonenumbers.region_code_for_country_code(cc))
    prefix = main.national_prefix_for_parsing if main is not None else None
    transform = main.national_prefix_transform_rule if main is not None else None
    prefix_re = re.compile(prefix) if prefix else None
    strip_all = False
    if prefix_re is not None and transform:
        empty = prefix_re.match("")
        # parse indexes groups()[-1], which fails for a pattern without groups; and an empty match whose
        # last group took part still transforms the number: let Python see every match of such patterns
        strip_all = prefix_re.groups == 0 or (empty is not None and empty.groups()[-1] is not None)
    general = main.general_desc if main is not None else None

    cc_text = str(cc)
    by_prefix = _zone_table()[0]
    parts: dict[int, tuple[list[str], list[int]]] = {}
    for p in TIMEZONE_DATA:
        if len(p) > len(cc_text) and p.startswith(cc_text):
            rest, zone_ids = parts.setdefault(len(p), ([], []))
            rest.append(p[len(cc_text) :])
            zone_ids.append(by_prefix[p])
    return _Plan(
        country_code=cc,
        regions=tuple(regions),
        prefix=f"^(?:{prefix})" if prefix else None,
        prefix_literal=prefix if prefix and prefix.isdigit() and prefix.isascii() else None,
        prefix_re=prefix_re,
        transform=transform or None,
        strip_all_matches=strip_all,
        general_re=re.compile(general.national_number_pattern) if general and general.national_number_pattern else None,
        general_lengths=tuple(general.possible_length) if general else (),
        local_lengths=tuple(general.possible_length_local_only) if general else (),
        zone_parts=tuple(
            (length, pa.array(rest), np.asarray(zone_ids, dtype=np.int64))
            for length, (rest, zone_ids) in sorted(parts.items(), reverse=True)
        ),
        zone_fallback=_longest_zone(cc_text),
        country_zone=_country_zone(cc_text),
        geographic_types=np.asarray(
            [t for t in NUMBER_TYPES.values() if phonenumbers.is_number_type_geographical(t, cc)], dtype=np.int16
        ),
    )


# ----------------------------------------------------------------------------------------------------
# Column kernels.


def _np(values: pa.Array) -> np.ndarray:
    array: np.ndarray = values.to_numpy(zero_copy_only=False)
    return array


def _matches(values: pa.Array, pattern: str) -> np.ndarray:
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    return _np(pc.match_substring_regex(values, pattern))


def _sizes(values: pa.Array) -> np.ndarray:
    """Lengths of ASCII text (bytes are characters)."""
    return _np(pc.binary_length(values)).astype(np.int64)


def _take(values: pa.Array, rows: np.ndarray) -> pa.Array:
    return values.take(pa.array(rows, type=pa.int64()))


def _desc_matches(desc: _Desc | None, nsn: pa.Array, lengths: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` match ``desc`` (a possible length, then the whole pattern), as a mask over ``rows``."""
    if desc is None or rows.size == 0:
        return np.zeros(rows.size, dtype=bool)
    hit = np.ones(rows.size, dtype=bool) if desc.lengths.size == 0 else np.isin(lengths[rows], desc.lengths)
    if hit.any():
        where = np.flatnonzero(hit)
        hit[where] = _matches(_take(nsn, rows[where]), desc.pattern)
    return hit


def _number_types(region: _Region, nsn: pa.Array, lengths: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """phonenumbers' _number_type_helper for ``rows`` of ``nsn`` in ``region`` (UNKNOWN when invalid)."""
    out = np.full(rows.size, _UNKNOWN, dtype=np.int16)
    todo = _desc_matches(region.general, nsn, lengths, rows)
    if region.special:
        maybe = np.flatnonzero(todo)
        if region.any_special is not None and maybe.size:
            maybe = maybe[_matches(_take(nsn, rows[maybe]), region.any_special)]
        for number_type, desc in region.special:
            at = maybe[todo[maybe]]
            hit = at[_desc_matches(desc, nsn, lengths, rows[at])]
            out[hit], todo[hit] = number_type, False
    at = np.flatnonzero(todo)
    fixed = at[_desc_matches(region.fixed_line, nsn, lengths, rows[at])]
    if region.same_mobile_and_fixed_line:
        out[fixed] = NUMBER_TYPES["FIXED_LINE_OR_MOBILE"]
        return out
    both = _desc_matches(region.mobile, nsn, lengths, rows[fixed])
    out[fixed] = np.where(both, NUMBER_TYPES["FIXED_LINE_OR_MOBILE"], NUMBER_TYPES["FIXED_LINE"])
    todo[fixed] = False
    at = np.flatnonzero(todo)
    out[at[_desc_matches(region.mobile, nsn, lengths, rows[at])]] = NUMBER_TYPES["MOBILE"]
    return out


def _strip_national_prefix(plan: _Plan, number: str) -> str:
    """parse's national prefix and carrier code step for one national number: phonenumbers'
    _maybe_strip_national_prefix_carrier_code, then the possible-length test that decides whether parse
    keeps its result."""
    assert plan.prefix_re is not None
    match = plan.prefix_re.match(number)
    if match is None:
        return number
    general = plan.general_re
    viable = general is not None and general.fullmatch(number) is not None
    if plan.transform is None or match.groups()[-1] is None:
        potential = number[match.end() :]
    else:
        potential = plan.prefix_re.sub(plan.transform, number, count=1)
    if viable and (general is None or general.fullmatch(potential) is None):
        return number
    # parse keeps the stripped number unless _test_number_length says TOO_SHORT, IS_POSSIBLE_LOCAL_ONLY or
    # INVALID_LENGTH; TOO_LONG and IS_POSSIBLE keep it
    size, lengths = len(potential), plan.general_lengths
    if size in plan.local_lengths or not lengths or size < lengths[0]:
        return number
    if size not in lengths and size <= lengths[-1]:
        return number
    return potential


def _apply_national_prefix(plan: _Plan, nsn: pa.Array) -> pa.Array:
    if plan.prefix is None or len(nsn) == 0:
        return nsn
    if plan.prefix_literal is not None:
        candidate = _np(pc.starts_with(nsn, plan.prefix_literal))
    elif plan.strip_all_matches:
        candidate = _matches(nsn, plan.prefix)
    else:
        # only a non-empty match can change the number: Arrow finds those, and Python decides each with
        # phonenumbers' own pattern
        rest = pc.replace_substring_regex(nsn, plan.prefix, "", max_replacements=1)
        candidate = _sizes(rest) < _sizes(nsn)
    if not candidate.any():
        return nsn
    old = _take(nsn, np.flatnonzero(candidate)).to_pylist()
    new = pa.array([_strip_national_prefix(plan, n) for n in old], type=nsn.type)
    return pc.replace_with_mask(nsn, pa.array(candidate), new)


def _zones_for(plan: _Plan, nsn: pa.Array, lengths: np.ndarray, types: np.ndarray) -> np.ndarray:
    """time_zones_for_number for valid numbers of one calling code: a zone id per row.

    Geographic numbers take the zones of the longest prefix of their E.164 digits in phonenumbers'
    table (a longest-prefix join, one prefix length at a time); the others their calling code's.
    """
    cc_len = len(str(plan.country_code))
    geographic = np.isin(types, plan.geographic_types)
    out = np.where(geographic, -1, plan.country_zone).astype(np.int64)
    todo = geographic.copy()
    for length, rest, zone_ids in plan.zone_parts:
        # a number shorter than the prefix is looked up whole, at the length of its own digits
        rows = np.flatnonzero(todo & (lengths >= length - cc_len))
        if rows.size == 0:
            continue
        found = pc.index_in(pc.utf8_slice_codeunits(_take(nsn, rows), 0, length - cc_len), value_set=rest)
        hit = _np(found.is_valid())
        out[rows[hit]] = zone_ids[_np(found.fill_null(0))[hit]]
        todo[rows[hit]] = False
    out[todo] = plan.zone_fallback if plan.zone_fallback >= 0 else _UNKNOWN_ZONE
    return out


@dataclass
class _Parsed:
    """Results for distinct values, one row per value (region and national number only when asked)."""

    valid: np.ndarray
    country_code: np.ndarray  # 0 when invalid
    number_type: np.ndarray  # int16, UNKNOWN when invalid
    zone: np.ndarray  # zone id, -1 when invalid or not asked
    region: np.ndarray | None = None  # object: region code, None when invalid
    national_number: np.ndarray | None = None  # object: national significant number, None when invalid

    @classmethod
    def empty(cls, n: int, *, numbers: bool) -> _Parsed:
        return cls(
            valid=np.zeros(n, dtype=bool),
            country_code=np.zeros(n, dtype=np.int64),
            number_type=np.full(n, _UNKNOWN, dtype=np.int16),
            zone=np.full(n, -1, dtype=np.int64),
            region=np.full(n, None, dtype=object) if numbers else None,
            national_number=np.full(n, None, dtype=object) if numbers else None,
        )

    def put(self, rows: np.ndarray, part: _Parsed) -> None:
        for name in ("valid", "country_code", "number_type", "zone", "region", "national_number"):
            if getattr(self, name) is not None:
                getattr(self, name)[rows] = getattr(part, name)

    def select(self, codes: np.ndarray) -> _Parsed:
        """The results of each row, from its position among the distinct values (-1: missing, invalid)."""
        picked = {}
        for name in ("valid", "country_code", "number_type", "zone", "region", "national_number"):
            values = getattr(self, name)
            if values is not None:
                default = _Parsed.empty(1, numbers=True)
                values = np.concatenate([values, getattr(default, name)])[codes]
            picked[name] = values
        return _Parsed(**picked)


def _parse_digits(digits: pa.Array, *, zones: bool, numbers: bool) -> tuple[_Parsed, np.ndarray]:
    """parse("+" + digits, None), is_valid_number and the rest for ASCII digit strings.

    Returns the results and a mask of the rows left to phonenumbers: those of a calling code with a
    pattern that Arrow's engine (RE2) does not compile, found when it is first used.
    """
    n = len(digits)
    out = _Parsed.empty(n, numbers=numbers)
    by_reference = np.zeros(n, dtype=bool)
    size = _sizes(digits)
    # parse takes the shortest calling code that exists, never one that starts with 0; fewer than three
    # digits is not a viable number, and at least _MIN_NSN digits must follow the code
    head = np.zeros(n, dtype=np.int64)
    viable = size >= 3
    head[viable] = _np(pc.cast(pc.utf8_slice_codeunits(_take(digits, np.flatnonzero(viable)), 0, 3), pa.int64()))
    codes = _country_code_table()
    cc = np.where(
        codes[head // 100], head // 100, np.where(codes[head // 10], head // 10, np.where(codes[head], head, 0))
    )
    width = np.where(cc >= 100, 3, np.where(cc >= 10, 2, 1))
    cc[(head < 100) | (size - width < _MIN_NSN)] = 0
    order = np.argsort(cc, kind="stable")
    bounds = np.flatnonzero(np.diff(cc[order])) + 1
    for rows in np.split(order, bounds):
        code = int(cc[rows[0]]) if rows.size else 0
        if code == 0:
            continue
        nsn = pc.utf8_slice_codeunits(_take(digits, rows), len(str(code)))
        try:
            part = _parse_national(_plan(code), nsn, zones=zones, numbers=numbers)
        except pa.ArrowInvalid:  # a pattern RE2 rejects: phonenumbers reads this calling code's numbers
            by_reference[rows] = True
            continue
        out.put(rows, part)
    return out, by_reference


def _parse_national(plan: _Plan, digits: pa.Array, *, zones: bool, numbers: bool) -> _Parsed:
    """The results for numbers of one calling code, from the digits after it (raises ``ArrowInvalid`` when
    a pattern it needs does not compile in Arrow)."""
    out = _Parsed.empty(len(digits), numbers=numbers)
    nsn = _apply_national_prefix(plan, digits)
    lengths = _sizes(nsn)
    types = np.full(len(nsn), _UNKNOWN, dtype=np.int16)
    region = np.full(len(nsn), -1, dtype=np.int64)
    todo = (lengths >= _MIN_NSN) & (lengths <= _MAX_NSN)
    if len(plan.regions) == 1:
        at = np.flatnonzero(todo)
        region[at], types[at] = 0, _number_types(plan.regions[0], nsn, lengths, at)
    else:
        # region_code_for_number: the first region whose leading digits match, or (without leading
        # digits) whose number types know the number
        for i, reg in enumerate(plan.regions):
            at = np.flatnonzero(todo)
            if at.size == 0:
                break
            if reg.leading_digits is not None:
                hit = at[_matches(_take(nsn, at), reg.leading_digits)]
                region[hit], types[hit] = i, _number_types(reg, nsn, lengths, hit)
            else:
                found = _number_types(reg, nsn, lengths, at)
                hit = at[found != _UNKNOWN]
                region[hit], types[hit] = i, found[found != _UNKNOWN]
            todo[hit] = False
    valid = types != _UNKNOWN
    out.valid[valid] = True
    out.country_code[valid] = plan.country_code
    out.number_type[valid] = types[valid]
    if zones or numbers:
        kept = nsn.filter(pa.array(valid))
        if out.region is not None and out.national_number is not None:
            out.region[valid] = np.array([r.code for r in plan.regions], dtype=object)[region[valid]]
            out.national_number[valid] = np.asarray(_np(kept), dtype=object)
        if zones:
            out.zone[valid] = _zones_for(plan, kept, lengths[valid], types[valid])
    return out


def _parse_reference(texts: list[str], *, zones: bool, numbers: bool) -> _Parsed:
    """phonenumbers itself, one value at a time."""
    import phonenumbers
    from phonenumbers import timezone as pn_tz

    # keep phonenumbers' compiled patterns: the re module's own cache holds fewer than its metadata has
    phonenumbers.enable_pattern_cache()
    names = {z: i for i, z in enumerate(_zone_table()[1])}
    out = _Parsed.empty(len(texts), numbers=numbers)
    for i, text in enumerate(texts):
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        out.valid[i] = True
        out.country_code[i] = number.country_code
        out.number_type[i] = phonenumbers.number_type(number)
        if out.region is not None and out.national_number is not None:
            out.region[i] = phonenumbers.region_code_for_number(number)
            out.national_number[i] = phonenumbers.national_significant_number(number)
        if zones:
            out.zone[i] = names["|".join(pn_tz.time_zones_for_number(number))]
    return out


def _parse_texts(texts: pa.Array, *, zones: bool, numbers: bool) -> _Parsed:
    """Results for each value of a string array without nulls."""
    out = _Parsed.empty(len(texts), numbers=numbers)
    if len(texts) == 0:
        return out
    plus = np.zeros(len(texts), dtype=bool)
    for sign in _PLUS_SIGNS:
        plus |= _np(pc.match_substring(texts, sign))
    bytes_ = _sizes(texts)
    short = bytes_ <= _MAX_INPUT  # parse counts characters, and characters never outnumber bytes
    long = np.flatnonzero(~short & plus)
    short[long] = _np(pc.utf8_length(_take(texts, long))) <= _MAX_INPUT
    usable = np.flatnonzero(plus & short)
    simple = usable[_matches(_take(texts, usable), _SIMPLE)]
    candidates = _take(texts, simple)
    separated = np.zeros(simple.size, dtype=bool)
    for separator in _SEPARATORS:
        separated |= _np(pc.match_substring(candidates, separator))
    plain, spaced = np.flatnonzero(~separated), np.flatnonzero(separated)
    rows = np.concatenate([simple[plain], simple[spaced]])
    digits = pa.concat_arrays(
        [
            pc.utf8_slice_codeunits(_take(candidates, plain), 1),
            pc.replace_substring_regex(_take(candidates, spaced), "[^0-9]", ""),
        ]
    )
    part, again = _parse_digits(digits, zones=zones, numbers=numbers)
    out.put(rows, part)
    other = np.concatenate([np.setdiff1d(usable, simple, assume_unique=True), rows[again]])
    if other.size:
        out.put(other, _parse_reference(_take(texts, other).to_pylist(), zones=zones, numbers=numbers))
    return out


def _analyse(values: pd.Series | Sequence[object], *, zones: bool, numbers: bool) -> tuple[pd.Index, _Parsed]:
    """The values' index and the results of each row (each distinct value is analysed once)."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.astype("string")
    text = pa.array(series.array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    encoded = pc.dictionary_encode(text)
    codes = _np(encoded.indices.fill_null(-1)).astype(np.int64)
    parsed = _parse_texts(encoded.dictionary, zones=zones, numbers=numbers)
    return series.index, parsed.select(codes)


def parse(values: pd.Series | Sequence[object]) -> pd.DataFrame:
    """Parse and validate phone numbers in bulk, as ``phonenumbers.parse(text, None)`` and its checks.

    Parameters
    ----------
    values
        Phone numbers as text in international form (``+`` and the country calling code); other
        values are read as text (``astype("string")``), missing values are invalid.

    Returns
    -------
    pandas.DataFrame
        One row per value, on the values' index, with columns

        - ``valid``: ``phonenumbers.is_valid_number`` of the parsed number; False where parsing fails;
        - ``country_code`` (Int64), ``national_number`` (the national significant number),
          ``region`` (``region_code_for_number``: ``"001"`` for non-geographic codes such as +800)
          and ``number_type`` (a :data:`NUMBER_TYPES` name, ``number_type``) for valid numbers,
          missing for the others.

    Examples
    --------
    >>> parse(["+1 201-555-0123", "+44 7400 123456", "+1555123", None])["number_type"].tolist()
    ['FIXED_LINE_OR_MOBILE', 'MOBILE', <NA>, <NA>]
    """
    index, parsed = _analyse(values, zones=False, numbers=True)
    country_code = pd.array(parsed.country_code, dtype="Int64")
    country_code[~parsed.valid] = pd.NA
    return pd.DataFrame(
        {
            "valid": parsed.valid,
            "country_code": country_code,
            "national_number": pd.array(parsed.national_number, dtype="string"),
            "region": pd.array(parsed.region, dtype="string"),
            "number_type": pd.array(np.where(parsed.valid, _TYPE_NAMES[parsed.number_type], None), dtype="string"),
        },
        index=index,
    )


def is_valid(values: pd.Series | Sequence[object]) -> pd.Series:
    """``phonenumbers.is_valid_number(phonenumbers.parse(text, None))`` for each value (False where parse fails).

    Examples
    --------
    >>> is_valid(["+12015550123", "+1 (201) 555-0123", "+1201555012", "2015550123"]).tolist()
    [True, True, False, False]
    """
    index, parsed = _analyse(values, zones=False, numbers=False)
    return pd.Series(parsed.valid, index=index, dtype=bool)


def time_zones(values: pd.Series | Sequence[object], *, keep: Callable[[str], str | None] | None = None) -> pd.Series:
    """The time zones of each valid number, as ``phonenumbers.timezone.time_zones_for_number``.

    Returns a string Series on the values' index: the zones joined by ``|`` in phonenumbers' order
    (``Etc/Unknown`` where phonenumbers knows none), missing for invalid numbers. ``keep``, when given,
    rewrites each distinct text of zones once, as in :func:`valid_and_zones`.

    Examples
    --------
    >>> time_zones(["+12015550123", "+442079460000", "+1555", None]).tolist()
    ['America/New_York', 'Europe/London', <NA>, <NA>]
    """
    index, parsed = _analyse(values, zones=True, numbers=False)
    return _zone_names(index, parsed, keep)


def valid_and_zones(
    values: pd.Series | Sequence[object], *, keep: Callable[[str], str | None] | None = None
) -> tuple[pd.Series, pd.Series]:
    """:func:`is_valid` and :func:`time_zones` of the same values, with one parse of each distinct value.

    ``keep``, when given, rewrites each distinct text of zones (``"America/New_York|America/Chicago"``) once,
    before it is given to the rows that have it: what it returns (None: missing) is their zones.

    Examples
    --------
    >>> valid, zones = valid_and_zones(["+12015550123", "+1555", None])
    >>> valid.tolist(), zones.tolist()
    ([True, False, False], ['America/New_York', <NA>, <NA>])
    """
    index, parsed = _analyse(values, zones=True, numbers=False)
    return pd.Series(parsed.valid, index=index, dtype=bool), _zone_names(index, parsed, keep)


def _zone_names(index: pd.Index, parsed: _Parsed, keep: Callable[[str], str | None] | None = None) -> pd.Series:
    """The zones of each parsed value as text (joined by ``|``), missing for invalid numbers; each distinct text
    that some value has rewritten by ``keep`` when given."""
    table = _zone_table()[1]
    ids = np.where(parsed.valid, parsed.zone, -1)
    texts: list[str | None] = [*table, None]
    if keep is not None:
        texts = [None] * len(texts)
        for i in np.flatnonzero(np.bincount(ids[ids >= 0], minlength=len(table))).tolist():
            texts[i] = keep(table[i])
    names = pa.array(texts, type=pa.large_string())
    zones = names.take(pa.array(ids % len(names)))  # -1 picks the last
    return pd.Series(pd.array(zones, dtype="string"), index=index)
