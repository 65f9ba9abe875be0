"""Where a customer is in time: stated zone, else the phone number's zones, else the country's.

A phone number can map to several IANA zones (US area codes that span two
zones, toll-free numbers, Australian mobiles): every zone is kept so that a
quiet-hour check can require the time to be allowed in all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import numpy as np
import pandas as pd

from .models.tables import WHITESPACE
from .phones import time_zones

__all__ = [
    "COUNTRY_ZONES",
    "REGION_ZONES",
    "is_valid_zone",
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


def is_valid_zone(name: object) -> bool:
    """True for an IANA zone name this machine knows."""
    return isinstance(name, str) and name in _zones()


def phone_time_zones(phones: pd.Series) -> pd.Series:
    """Every IANA zone this machine knows of each phone number, joined by ``|``; missing when none.

    The number is the text without surrounding whitespace, read as ``phonenumbers.parse(text, None)``;
    invalid numbers have no zone. The zones are phonenumbers' (``timezone.time_zones_for_number``),
    computed for the whole column at once (:func:`workbench.phones.time_zones`), in its order.
    """
    return known_zones(time_zones(phones.astype("string").str.strip(WHITESPACE)))


def known_zones(zones: pd.Series) -> pd.Series:
    """phonenumbers' zones (joined by ``|``) with only the zones this machine knows; missing when none."""
    return map_distinct(zones, _known_zones)


def _known_zones(zones: str) -> str | None:
    return "|".join(z for z in zones.split("|") if is_valid_zone(z)) or None


def phone_zones(phone: object) -> tuple[str, ...]:
    """All IANA zones a phone number (E.164) may be in; empty when unknown or invalid."""
    if not isinstance(phone, str) or not phone.strip():
        return ()
    found = phone_time_zones(pd.Series([phone], dtype="string")).iloc[0]
    return () if pd.isna(found) else tuple(found.split("|"))


def map_distinct(values: pd.Series, lookup: Callable[[str], str | None]) -> pd.Series:
    """Apply ``lookup`` once per distinct value (a million customers share few countries or prefixes)."""
    return pd.Series(_lookup_distinct(values, lookup), index=values.index, dtype="string")


def _lookup_distinct(values: pd.Series, lookup: Callable[[str], str | None]) -> np.ndarray:
    """:func:`map_distinct` as an object array (None where nothing is found), without building the text column."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([lookup(u) for u in uniques] + [None], dtype=object)
    found: np.ndarray = mapped[codes]
    return found


def resolve_timezones(customers: pd.DataFrame, zones_of_phones: pd.Series | None = None) -> pd.DataFrame:
    """Each customer's time zone and where it came from.

    Returns ``customer_id``, ``timezone`` (one IANA zone), ``timezones`` (all
    candidate zones joined by ``|``: several when a phone number spans zones and
    no zone is stated) and ``timezone_source`` (``stated``, ``phone``,
    ``region``, ``country`` or ``default``; the default is UTC). Each distinct
    value is looked up once; the choices are made over object arrays and the
    text columns built once at the end. ``zones_of_phones``: the customers'
    :func:`phone_time_zones`, when already known (loading parses the numbers).
    """
    n = len(customers)
    zone = np.full(n, "UTC", dtype=object)
    zones = zone.copy()
    source = np.full(n, "default", dtype=object)

    def column(name: str) -> pd.Series | None:
        if name not in customers.columns or customers[name].isna().all():
            return None
        return customers[name].astype("string").reset_index(drop=True)

    def apply(found: np.ndarray, all_found: np.ndarray, label: str) -> None:
        use = ~pd.isna(found)
        zone[use], zones[use], source[use] = found[use], all_found[use], label

    country, region, phone, stated = column("country"), column("region"), column("phone"), column("timezone")
    if country is not None:
        by_country = _lookup_distinct(country.str.upper(), COUNTRY_ZONES.get)
        apply(by_country, by_country, "country")
        if region is not None:
            key = country.str.upper() + "|" + region.str.upper()
            table = {f"{c}|{r}": z for (c, r), z in REGION_ZONES.items()}
            by_region = _lookup_distinct(key, table.get)
            apply(by_region, by_region, "region")
    if phone is not None:
        all_zones = phone_time_zones(phone) if zones_of_phones is None else zones_of_phones.reset_index(drop=True)
        first = _lookup_distinct(all_zones, lambda z: z.split("|")[0])
        apply(first, all_zones.to_numpy(dtype=object, na_value=None), "phone")
    if stated is not None:
        valid = _lookup_distinct(stated, lambda z: z if is_valid_zone(z) else None)
        apply(valid, valid, "stated")
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].reset_index(drop=True),
            "timezone": pd.array(zone, dtype="string"),
            "timezones": pd.array(zones, dtype="string"),
            "timezone_source": pd.array(source, dtype="string"),
        }
    )


def zone(name: str) -> ZoneInfo:
    """A ZoneInfo for a name (cached by the standard library)."""
    return ZoneInfo(name)
