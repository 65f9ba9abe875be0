"""Amounts, dates, times, numbers and plural forms in the customer's locale, with Babel (CLDR data).

Every function takes the locale as a BCP 47 tag (``fr-CA``) and never guesses a format by hand:

>>> money(12.5, "CAD", locale="fr-CA").replace("\\xa0", " ")
'12,50 $'
>>> money(12.5, "GBP", locale="en-GB")
'£12.50'
>>> plural(1, one="# commande", other="# commandes", locale="fr"), plural(0, one="# order", other="# orders")
('1 commande', '0 orders')

In an SMS the no-break spaces CLDR puts in amounts and dates (``12,50 $``, ``1 234,50 €``) would switch
the whole message to UCS-2, so the renderer passes ``gsm=True`` there: the spaces become plain spaces.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.numbers import format_currency, format_decimal

from .memo import remember

__all__ = ["babel_locale", "local_date", "local_time", "money", "number", "plural", "zone"]

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})
#: Date styles a template may ask for: CLDR skeletons or the locale's own date formats.
_DATE_SKELETONS = {"short": "MMMd", "numeric": "yMd"}
_DATE_FORMATS = {"medium": "medium", "long": "full", "full": "full"}


@lru_cache(maxsize=256)
def babel_locale(tag: str | None) -> Locale:
    """The Babel locale of a BCP 47 tag (``en-US`` when missing or unknown)."""
    try:
        return Locale.parse((tag or "en-US").replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en_US")


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return value is pd.NA or value is pd.NaT


def _plain(text: str, gsm: bool) -> str:
    return text.translate(_SPACES) if gsm else text


def money(amount: object, currency: str | None = None, *, locale: str | None = None, gsm: bool = False) -> str:
    """An amount in its currency, written as the locale writes it (``12,50 $`` in fr-CA); missing -> ``""``."""
    if _missing(amount):
        return ""
    code = (currency or "USD").upper()
    return _plain(format_currency(float(amount), code, locale=babel_locale(locale)), gsm)  # type: ignore[arg-type]


def number(value: object, *, locale: str | None = None, gsm: bool = False) -> str:
    """A number with the locale's separators (``1 234,5`` in fr); missing -> ``""``."""
    if _missing(value):
        return ""
    return _plain(format_decimal(value, locale=babel_locale(locale)), gsm)  # type: ignore[arg-type]


def plural(
    count: object,
    *,
    one: str,
    other: str,
    zero: str | None = None,
    two: str | None = None,
    few: str | None = None,
    many: str | None = None,
    locale: str | None = None,
    gsm: bool = False,
) -> str:
    """The form of the CLDR plural category of ``count`` in the locale, ``#`` replaced by the number.

    French puts 0 and 1 in ``one`` (``0 commande``), English only 1 (``0 orders``); a category without
    a form given uses ``other``.
    """
    n = 0 if _missing(count) else count
    category = babel_locale(locale).plural_form(n)  # type: ignore[arg-type]
    forms = {"zero": zero, "one": one, "two": two, "few": few, "many": many}
    chosen = forms.get(category) or other
    return chosen.replace("#", number(n, locale=locale, gsm=gsm))


_ZONES: dict[str, ZoneInfo] = {}


def zone(name: object) -> ZoneInfo:
    """The IANA zone called ``name`` (UTC when missing or unknown; the first of ``A|B`` lists)."""
    key = str(name).split("|", 1)[0] if name else "UTC"
    found = _ZONES.get(key)
    if found is None:
        try:
            found = ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError):
            found = ZoneInfo("UTC")
        remember(_ZONES, key, found, 4096)
    return found


def _moment(value: object) -> dt.datetime | dt.date:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime(warn=False)  # a date shown to the second at most
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return value
    msg = f"a date filter expects a timestamp, got {type(value).__name__}"
    raise TypeError(msg)


def local_date(
    value: object, timezone: object = None, style: str = "medium", *, locale: str | None = None, gsm: bool = False
) -> str:
    """A date in the recipient's zone and locale: ``short`` (Oct 2 / 2 oct.), ``medium`` (Oct 2, 2026 /
    2 oct. 2026 / 02.10.2026), ``long`` (Friday, October 2, 2026 / vendredi 2 octobre 2026), ``numeric``."""
    if _missing(value):
        return ""
    when = _moment(value)
    loc = babel_locale(locale)
    if isinstance(when, dt.datetime):
        when = when.astimezone(zone(timezone)).date()
    skeleton = _DATE_SKELETONS.get(style)
    if skeleton:
        text = format_skeleton(skeleton, when, locale=loc)
    else:
        text = format_date(when, _DATE_FORMATS.get(style, "medium"), locale=loc)
    return _plain(text, gsm)


def local_time(
    value: object, timezone: object = None, style: str = "short", *, locale: str | None = None, gsm: bool = False
) -> str:
    """A time of day in the recipient's zone and locale (``3:30 PM`` in en-US, ``15 h 30`` in fr-CA)."""
    if _missing(value):
        return ""
    when = _moment(value)
    if not isinstance(when, dt.datetime):
        return ""
    text = format_time(when.astimezone(zone(timezone)), style, locale=babel_locale(locale))
    return _plain(text, gsm)


def local_datetime(value: Any, timezone: object = None, *, locale: str | None = None, gsm: bool = False) -> str:
    """A date and time in the recipient's zone and locale (the locale's medium date and short time)."""
    if _missing(value):
        return ""
    when = _moment(value)
    if not isinstance(when, dt.datetime):
        return local_date(when, timezone, locale=locale, gsm=gsm)
    text = format_datetime(when.astimezone(zone(timezone)), "medium", locale=babel_locale(locale))
    return _plain(text, gsm)
