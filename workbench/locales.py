"""Which language and currency each customer gets: stated locale, else the market's, else the brand's.

A customer's locale is a BCP 47 tag (``fr-CA``, ``de-DE``, ``en-GB``). It comes from, in order:

1. the ``locale`` column of the customers table, when it names a locale Babel (CLDR) knows
   (``fr_CA`` and ``FR-ca`` are read as ``fr-CA``; anything else is ignored and counted at load);
2. the market of the customer's country and region (the contact policy's market rules,
   :data:`~workbench.models.policy.DEFAULT_MARKETS`: Quebec is ``fr-CA``, the rest of Canada
   ``en-CA``, France ``fr-FR``, Germany ``de-DE`` ...);
3. the brand's default locale (``brand.locale`` of the strategy).

Templates fall back along :func:`locale_chain`: ``fr-CA``, then ``fr``, then the brand's default.
A customer's currency is the one of their latest order, else their market's, else the brand's.

Examples
--------
>>> canonical_locale("fr_ca"), canonical_locale("english"), canonical_locale("de-DE")
('fr-CA', None, 'de-DE')
>>> locale_chain("fr-CA", default="en-US")
('fr-CA', 'fr', 'en-US', 'en')
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
from babel import Locale, UnknownLocaleError

from .models.policy import DEFAULT_MARKETS, MarketRule, market_for

__all__ = [
    "LOCALE_SOURCES",
    "canonical_locale",
    "language_of",
    "locale_chain",
    "resolve_currencies",
    "resolve_locales",
]

#: Where a customer's locale came from.
LOCALE_SOURCES = ("stated", "market", "brand")
_MAX_TAG = 35


@lru_cache(maxsize=4096)
def canonical_locale(value: object) -> str | None:
    """The BCP 47 form of a locale Babel knows (``fr_ca`` -> ``fr-CA``), or None for anything else."""
    if value is None or not isinstance(value, str):
        return None
    text = value.strip().replace("_", "-")
    if not text or len(text) > _MAX_TAG or not all(part.isalnum() for part in text.split("-")):
        return None
    try:
        loc = Locale.parse(text, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    parts = [loc.language, loc.script, loc.territory, loc.variant]
    return "-".join(p for p in parts if p)


def language_of(tag: str | None) -> str | None:
    """The language part of a locale tag (``fr-CA`` -> ``fr``)."""
    if not tag:
        return None
    return tag.split("-", 1)[0].lower()


def locale_chain(tag: str | None, *, default: str) -> tuple[str, ...]:
    """The locales to try for ``tag``, most specific first, ending with the brand's default and its language.

    ``fr-CA`` with default ``en-US`` gives ``fr-CA, fr, en-US, en``; a missing tag gives the default's chain.
    """
    out: list[str] = []
    for item in (tag, default):
        canon = canonical_locale(item) if item else None
        if canon is None:
            continue
        parts = canon.split("-")
        for k in range(len(parts), 0, -1):
            candidate = "-".join(parts[:k])
            if candidate not in out:
                out.append(candidate)
    return tuple(out)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame.columns:
        return frame[column].astype("string").str.strip().str.upper().fillna("")
    return pd.Series("", index=frame.index, dtype="string")


def _places(frame: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Each row's place as a position in the list of distinct (country, region) pairs (trimmed, upper case,
    missing as ""), and that list."""
    country, region = _text(frame, "country"), _text(frame, "region")
    c_codes, c_uniques = pd.factorize(country)
    r_codes, r_uniques = pd.factorize(region)
    codes, _ = pd.factorize(c_codes.astype(np.int64) * max(len(r_uniques), 1) + r_codes)
    first = np.unique(codes, return_index=True)[1]  # a row of each place, in the order of the codes
    return codes, [(str(c_uniques[c_codes[i]]), str(r_uniques[r_codes[i]])) for i in first]


def resolve_locales(
    customers: pd.DataFrame, *, default_locale: str, markets: Sequence[MarketRule] | None = None
) -> pd.DataFrame:
    """Each customer's locale (BCP 47) and where it came from (:data:`LOCALE_SOURCES`), in row order.

    Parameters
    ----------
    customers
        The customers table (``locale``, ``country`` and ``region`` are read when present).
    default_locale
        The brand's default locale; a tag Babel does not know falls back to ``en-US``.
    markets
        Market rules (default :data:`~workbench.models.policy.DEFAULT_MARKETS`).

    Returns
    -------
    pandas.DataFrame
        ``locale`` and ``locale_source``, indexed like ``customers``.
    """
    rules = list(DEFAULT_MARKETS if markets is None else markets)
    default = canonical_locale(default_locale) or "en-US"
    # each distinct value is looked up once; every row then takes its answer by position (Arrow, no Python objects)
    if "locale" in customers.columns:
        codes, uniques = pd.factorize(customers["locale"].astype("string").fillna(""))
    else:
        codes, uniques = np.zeros(len(customers), dtype=np.intp), [""]
    own = [canonical_locale(u) if u else None for u in uniques]
    p_codes, places = _places(customers)
    market = []
    for country, region in places:
        rule = market_for(rules, country or None, region or None)
        market.append(canonical_locale(rule.locale) if rule is not None and rule.locale else None)
    has_own = np.array([v is not None for v in own], dtype=bool)[codes]
    has_market = np.array([v is not None for v in market], dtype=bool)[p_codes]
    # positions in [*own, *market, default]
    pick = np.where(has_own, codes, np.where(has_market, len(own) + p_codes, len(own) + len(market)))
    source = np.where(has_own, 0, np.where(has_market, 1, 2))
    return pd.DataFrame(
        {
            "locale": _strings([*own, *market, default], pick),
            "locale_source": _strings(list(LOCALE_SOURCES), source),
        },
        index=customers.index,
    )


def _strings(choices: list[str | None], pick: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``choices[pick[i]]`` for every row, as pandas ``string`` text held in Arrow."""
    return pd.arrays.ArrowStringArray(pa.array(choices, type=pa.large_string()).take(pa.array(pick, type=pa.int64())))


def resolve_currencies(
    customers: pd.DataFrame,
    latest: pd.Series,
    *,
    default_currency: str,
    markets: Sequence[MarketRule] | None = None,
) -> pd.Series:
    """Each customer's currency (ISO 4217): their latest order's, else their market's, else ``default_currency``.

    ``latest`` is the currency of each customer's latest order (missing for a
    customer without one), in the row order of ``customers``; a code that is
    not three letters counts as missing. Returns a string Series in that order.
    """
    n = len(customers)
    code = pd.Series(latest, dtype="string").reset_index(drop=True).str.strip().str.upper()
    valid = code.str.fullmatch(r"[A-Z]{3}").fillna(False).to_numpy(dtype=bool)
    rules = list(DEFAULT_MARKETS if markets is None else markets)
    missing = np.flatnonzero(~valid)
    # positions in [*code, *market of each distinct place of the customers without a valid code]
    pick = np.arange(n, dtype=np.int64)
    found: list[str] = []
    if missing.size:
        p_codes, places = _places(customers[[c for c in ("country", "region") if c in customers.columns]].iloc[missing])
        for country, region in places:
            rule = market_for(rules, country or None, region or None)
            found.append(rule.currency if rule is not None and rule.currency else default_currency)
        pick[missing] = n + p_codes
    held = code.array.__arrow_array__()
    codes = held.chunks if isinstance(held, pa.ChunkedArray) else [held]
    choices = pa.chunked_array([c.cast(pa.large_string()) for c in [*codes, pa.array(found, pa.string())]])
    return pd.Series(pd.arrays.ArrowStringArray(choices.take(pa.array(pick))), name="currency")
