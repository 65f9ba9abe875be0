"""Where a customer is in time: stated zone, else the phone number's zones, else the country's.

A phone number can map to several IANA zones (US area codes that span two
zones, toll-free numbers, Australian mobiles): every zone is kept so that a
quiet-hour check can require the time to be allowed in all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

import numpy as np
import pandas as pd
import pyarrow as pa

from .models.tables import WHITESPACE
from .phones import time_zones

__all__ = [
    "COUNTRY_ZONES",
    "REGION_ZONES",
    "is_valid_zone",
    "known_zone_names",
    "known_zones",
    "phone_time_zones",
    "phone_zones",
    "resolve_timezones",
]


# The zone holding most of each country's population (a fallback only).
COUNTRY_ZONES = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "PT": "Europe/Lisbon",
    "CH": "Europe/Zurich",
    "AT": "Europe/Vienna",
    "DK": "Europe/Copenhagen",
    "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo",
    "FI": "Europe/Helsinki",
    "PL": "Europe/Warsaw",
    "CZ": "Europe/Prague",
    "GR": "Europe/Athens",
    "CY": "Asia/Nicosia",
    "MT": "Europe/Malta",
    "LT": "Europe/Vilnius",
    "IS": "Atlantic/Reykjavik",
    "JE": "Europe/Jersey",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "JP": "Asia/Tokyo",
    "SG": "Asia/Singapore",
    "HK": "Asia/Hong_Kong",
    "IL": "Asia/Jerusalem",
    "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh",
    "BH": "Asia/Bahrain",
    "LB": "Asia/Beirut",
    "BR": "America/Sao_Paulo",
    "ZA": "Africa/Johannesburg",
    "MX": "America/Mexico_City",
    "IN": "Asia/Kolkata",
}

# US states and Canadian provinces: the zone of most of their population.
REGION_ZONES = {
    ("US", "AL"): "America/Chicago",
    ("US", "AK"): "America/Anchorage",
    ("US", "AZ"): "America/Phoenix",
    ("US", "AR"): "America/Chicago",
    ("US", "CA"): "America/Los_Angeles",
    ("US", "CO"): "America/Denver",
    ("US", "CT"): "America/New_York",
    ("US", "DE"): "America/New_York",
    ("US", "DC"): "America/New_York",
    ("US", "FL"): "America/New_York",
    ("US", "GA"): "America/New_York",
    ("US", "HI"): "Pacific/Honolulu",
    ("US", "ID"): "America/Boise",
    ("US", "IL"): "America/Chicago",
    ("US", "IN"): "America/Indiana/Indianapolis",
    ("US", "IA"): "America/Chicago",
    ("US", "KS"): "America/Chicago",
    ("US", "KY"): "America/New_York",
    ("US", "LA"): "America/Chicago",
    ("US", "ME"): "America/New_York",
    ("US", "MD"): "America/New_York",
    ("US", "MA"): "America/New_York",
    ("US", "MI"): "America/Detroit",
    ("US", "MN"): "America/Chicago",
    ("US", "MS"): "America/Chicago",
    ("US", "MO"): "America/Chicago",
    ("US", "MT"): "America/Denver",
    ("US", "NE"): "America/Chicago",
    ("US", "NV"): "America/Los_Angeles",
    ("US", "NH"): "America/New_York",
    ("US", "NJ"): "America/New_York",
    ("US", "NM"): "America/Denver",
    ("US", "NY"): "America/New_York",
    ("US", "NC"): "America/New_York",
    ("US", "ND"): "America/Chicago",
    ("US", "OH"): "America/New_York",
    ("US", "OK"): "America/Chicago",
    ("US", "OR"): "America/Los_Angeles",
    ("US", "PA"): "America/New_York",
    ("US", "RI"): "America/New_York",
    ("US", "SC"): "America/New_York",
    ("US", "SD"): "America/Chicago",
    ("US", "TN"): "America/Chicago",
    ("US", "TX"): "America/Chicago",
    ("US", "UT"): "America/Denver",
    ("US", "VT"): "America/New_York",
    ("US", "VA"): "America/New_York",
    ("US", "WA"): "America/Los_Angeles",
    ("US", "WV"): "America/New_York",
    ("US", "WI"): "America/Chicago",
    ("US", "WY"): "America/Denver",
    ("CA", "ON"): "America/Toronto",
    ("CA", "QC"): "America/Toronto",
    ("CA", "BC"): "America/Vancouver",
    ("CA", "AB"): "America/Edmonton",
    ("CA", "MB"): "America/Winnipeg",
    ("CA", "SK"): "America/Regina",
    ("CA", "NS"): "America/Halifax",
    ("CA", "NB"): "America/Moncton",
    ("CA", "NL"): "America/St_Johns",
    ("AU", "NSW"): "Australia/Sydney",
    ("AU", "VIC"): "Australia/Melbourne",
    ("AU", "QLD"): "Australia/Brisbane",
    ("AU", "WA"): "Australia/Perth",
    ("AU", "SA"): "Australia/Adelaide",
    ("AU", "TAS"): "Australia/Hobart",
}


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def _listed_zones() -> frozenset[str]:
    """The zones the ``tzdata`` package lists (empty without it): ``available_timezones`` gives each of them,
    from one file, before it looks through the system's zone folders (which means opening every file there)."""
    try:
        listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    except (ImportError, OSError):
        return frozenset()
    return frozenset(z.strip() for z in listed.splitlines() if z.strip()) - {"posixrules"}


def is_valid_zone(name: object) -> bool:
    """True for an IANA zone name this machine knows (one of ``zoneinfo.available_timezones()``)."""
    return isinstance(name, str) and (name in _listed_zones() or name in _zones())


def phone_time_zones(phones: pd.Series) -> pd.Series:
    """Every IANA zone this machine knows of each phone number, joined by ``|``; missing when none.

    The number is the text without surrounding whitespace, read as ``phonenumbers.parse(text, None)``;
    invalid numbers have no zone. The zones are phonenumbers' (``timezone.time_zones_for_number``),
    computed for the whole column at once (:func:`workbench.phones.time_zones`), in its order.
    """
    return time_zones(phones.astype("string").str.strip(WHITESPACE), keep=known_zone_names)


def known_zones(zones: pd.Series) -> pd.Series:
    """phonenumbers' zones (joined by ``|``) with only the zones this machine knows; missing when none."""
    return map_distinct(zones, known_zone_names)


def known_zone_names(zones: str) -> str | None:
    """Of zones joined by ``|``, those this machine knows, joined again; None when none is known."""
    return "|".join(z for z in zones.split("|") if is_valid_zone(z)) or None


def phone_zones(phone: object) -> tuple[str, ...]:
    """All IANA zones a phone number (E.164) may be in; empty when unknown or invalid."""
    if not isinstance(phone, str) or not phone.strip():
        return ()
    found = phone_time_zones(pd.Series([phone], dtype="string")).iloc[0]
    return () if pd.isna(found) else tuple(found.split("|"))


def map_distinct(values: pd.Series, lookup: Callable[[str], str | None]) -> pd.Series:
    """Apply ``lookup`` once per distinct value (a million customers share few countries or prefixes)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([lookup(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="string")


#: Where a customer's zone came from, weakest first: each later source overrides the ones before it.
_SOURCES = ("default", "country", "region", "phone", "stated")


class _Texts:
    """Distinct texts by position (``UTC`` first), so that columns are chosen as integer codes."""

    def __init__(self) -> None:
        self.values: list[str] = ["UTC"]
        self._at: dict[str, int] = {"UTC": 0}

    def code(self, text: str | None) -> int:
        """The position of ``text`` (added when new), -1 for None."""
        if text is None:
            return -1
        if text not in self._at:
            self._at[text] = len(self.values)
            self.values.append(text)
        return self._at[text]

    def column(self, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
        return _text_column(self.values, codes)


def _text_column(values: list[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """pandas' text column of ``values[code]`` for each code (Arrow's take, no Python string per row)."""
    return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()).take(pa.array(codes)))


def _codes_of(
    values: pd.Series, lookup: Callable[[str], tuple[str | None, str | None]], texts: _Texts
) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the codes of the two texts ``lookup`` gives for its value (one zone, all zones), -1 where
    the value is missing or ``lookup`` finds nothing; ``lookup`` is called once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    found = [lookup(u) for u in uniques]
    one = np.array([texts.code(f[0]) for f in found] + [-1], dtype=np.int32)
    every = np.array([texts.code(f[1]) for f in found] + [-1], dtype=np.int32)
    return one[codes], every[codes]


def _same(zone: str | None) -> tuple[str | None, str | None]:
    return zone, zone


#: The (country, region) pairs that occur are marked in a table over every pair when there are at most this many
#: pairs per customer, plus a constant; beyond, they are sorted.
_PAIR_TABLE = (4, 65_536)


def resolve_timezones(customers: pd.DataFrame, zones_of_phones: pd.Series | None = None) -> pd.DataFrame:
    """Each customer's time zone and where it came from.

    Returns ``customer_id``, ``timezone`` (one IANA zone), ``timezones`` (all
    candidate zones joined by ``|``: several when a phone number spans zones and
    no zone is stated) and ``timezone_source`` (``stated``, ``phone``,
    ``region``, ``country`` or ``default``; the default is UTC). Each distinct
    value (or country and region pair) is looked up once; the choices are made
    over integer codes and the text columns built once at the end.
    ``zones_of_phones``: the customers' :func:`phone_time_zones`, when already
    known (loading parses the numbers).
    """
    n = len(customers)
    texts = _Texts()
    zone = np.zeros(n, dtype=np.int32)
    zones = np.zeros(n, dtype=np.int32)
    source = np.zeros(n, dtype=np.int8)

    def column(name: str) -> pd.Series | None:
        if name not in customers.columns or customers[name].isna().all():
            return None
        return customers[name].astype("string").reset_index(drop=True)

    def apply(found: tuple[np.ndarray, np.ndarray], label: str) -> None:
        use = found[0] >= 0
        zone[use], zones[use], source[use] = found[0][use], found[1][use], _SOURCES.index(label)

    def upper(values: pd.Index) -> list[str]:
        out: list[str] = pd.Series(values, dtype="string").str.upper().tolist()  # as pandas reads the column
        return out

    country, region, phone, stated = column("country"), column("region"), column("phone"), column("timezone")
    if country is not None:
        countries, named = pd.factorize(country, use_na_sentinel=True)
        country_of = upper(named)
        by_country = np.array([texts.code(COUNTRY_ZONES.get(c)) for c in country_of] + [-1], dtype=np.int32)
        found = by_country[countries]
        apply((found, found), "country")
        if region is not None:
            regions, in_country = pd.factorize(region, use_na_sentinel=True)
            pairs = np.where((countries >= 0) & (regions >= 0), countries * np.int64(len(in_country)) + regions, -1)
            region_of = upper(in_country)

            def by_pair(p: int) -> int:
                return texts.code(REGION_ZONES.get((country_of[p // len(in_country)], region_of[p % len(in_country)])))

            span = len(named) * len(in_country)
            if span <= _PAIR_TABLE[0] * n + _PAIR_TABLE[1]:  # the pairs that occur, marked in a table (no sort)
                seen = np.zeros(span, dtype=bool)
                seen[pairs[pairs >= 0]] = True
                table = np.full(span + 1, -1, dtype=np.int32)  # the last place answers the pair -1
                for p in np.flatnonzero(seen).tolist():
                    table[p] = by_pair(p)
                found = table[pairs]
            else:
                distinct, rows = np.unique(pairs, return_inverse=True)
                codes = [by_pair(p) if p >= 0 else -1 for p in distinct.tolist()]
                found = np.array(codes, dtype=np.int32)[rows.reshape(-1)]
            apply((found, found), "region")
    if phone is not None:
        all_zones = phone_time_zones(phone) if zones_of_phones is None else zones_of_phones.reset_index(drop=True)
        apply(_codes_of(all_zones, lambda z: (z.split("|")[0], z), texts), "phone")
    if stated is not None:
        apply(_codes_of(stated, lambda z: _same(z if is_valid_zone(z) else None), texts), "stated")
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].reset_index(drop=True),
            "timezone": texts.column(zone),
            "timezones": texts.column(zones),
            "timezone_source": _text_column(list(_SOURCES), source),
        }
    )


def zone(name: str) -> ZoneInfo:
    """A ZoneInfo for a name (cached by the standard library)."""
    return ZoneInfo(name)
