"""SMS encoding, length and segments (3GPP TS 23.038 / 23.040), as the providers' calculators count them.

A message is GSM-7 when every character is in the GSM 03.38 basic table (1 septet) or its extension
table (2 septets: ESC + code); otherwise the whole message is UCS-2 and costs one UTF-16 code unit per
BMP character and two per character outside it (a surrogate pair). One segment holds 160 septets or 70
units; a split message holds 153 septets or 67 units per part (the rest of the 140 octets is the
concatenation header). Parts are filled greedily and a split never breaks an escape pair, a surrogate
pair or a grapheme cluster (flag, ZWJ family, skin tone, combining accent), as the published segment
calculators do.

One deliberate difference from Twilio's calculator: it treats any multi-code-unit grapheme as UCS-2,
so a CR LF line break there turns a message into UCS-2; here CR and LF are GSM characters (they are in
the basic table) and a CR LF pair costs 2 septets, kept in one part.

Examples
--------
>>> a = analyze_sms("a" * 69 + "😀")
>>> a.encoding, a.units, a.segments
('UCS-2', 71, 2)
>>> analyze_sms("Don’t miss out").replacements
{'’': "'"}
"""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

__all__ = [
    "GSM_BASIC",
    "GSM_EXTENSION",
    "GSM_REPLACEMENTS",
    "LIMITS",
    "SmsAnalysis",
    "analyze_sms",
    "gsm_safe",
    "is_gsm",
]

#: GSM 03.38 basic character set (one septet each); ESC (U+001B) is excluded: raw ESC in text is invalid.
GSM_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table (ESC + code, two septets each).
GSM_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
_GSM_ALL = GSM_BASIC | GSM_EXTENSION

#: Encoding -> (units in a single segment, units per part of a split message).
LIMITS: dict[str, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}

#: GSM look-alikes for characters that would force UCS-2 (typographic quotes, dashes, spaces, symbols).
GSM_REPLACEMENTS: dict[str, str] = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "`": "'",
    "\u02bc": "'",
    "\uff07": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\uff02": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    "\u00a0": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",
    "\t": " ",
    "\u200b": "",
    "\u200d": "",
    "\ufeff": "",
    "\u00f7": "/",
    "\u2044": "/",
    "\u00d7": "x",
    "\u00bc": "1/4",
    "\u00bd": "1/2",
    "\u00be": "3/4",
    "\u2122": "TM",
    "\u00ae": "(R)",
    "\u00a9": "(C)",
    "\u00e7": "c",
    "\u00e1": "a",
    "\u00e2": "a",
    "\u00e3": "a",
    "\u00ea": "e",
    "\u00eb": "e",
    "\u00ed": "i",
    "\u00ee": "i",
    "\u00ef": "i",
    "\u00f3": "o",
    "\u00f4": "o",
    "\u00f5": "o",
    "\u00fa": "u",
    "\u00fb": "u",
    "\u00fd": "y",
    "\u00ff": "y",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u00c1": "A",
    "\u00c0": "A",
    "\u00c2": "A",
    "\u00c3": "A",
    "\u00c8": "E",
    "\u00ca": "E",
    "\u00cb": "E",
    "\u00cd": "I",
    "\u00ce": "I",
    "\u00d3": "O",
    "\u00d4": "O",
    "\u00da": "U",
    "\u00db": "U",
    "\u0131": "i",
}

_GRAPHEME = regex.compile(r"\X")
# Characters whose presence needs the slow (grapheme-aware) split in GSM-7: extension characters and CR.
_GSM_SLOW = frozenset("\r") | GSM_EXTENSION


@dataclass(frozen=True, slots=True)
class SmsAnalysis:
    """What an SMS body costs and why.

    Attributes
    ----------
    text : str
        The body analysed.
    encoding : {"GSM-7", "UCS-2"}
    units : int
        Septets (GSM-7, extension characters count 2) or UTF-16 code units (UCS-2, a surrogate pair counts 2).
    segments : int
        Messages billed (0 for an empty body).
    non_gsm : tuple of str
        The distinct characters that forced UCS-2, in order of first appearance.
    replacements : dict of str to str
        GSM look-alikes for those characters that have one (e.g. ``’`` -> ``'``).
    parts : tuple of str
        The text of each segment, split as the network would.
    characters : int
        Grapheme clusters (what a person counts as characters).
    """

    text: str
    encoding: str
    units: int
    segments: int
    non_gsm: tuple[str, ...]
    replacements: dict[str, str] = field(default_factory=dict)
    parts: tuple[str, ...] = ()
    characters: int = 0

    @property
    def single_limit(self) -> int:
        """Units that fit in one segment for this encoding (160 or 70)."""
        return LIMITS[self.encoding][0]

    @property
    def part_limit(self) -> int:
        """Units per part once the message is split (153 or 67)."""
        return LIMITS[self.encoding][1]

    @property
    def suggested(self) -> str:
        """The text with every replaceable non-GSM character replaced by its GSM look-alike."""
        return gsm_safe(self.text)

    @property
    def part_units(self) -> tuple[int, ...]:
        """Units in each part."""
        return tuple(_units(p, self.encoding) for p in self.parts)

    def copy(self) -> SmsAnalysis:
        """The same analysis with a ``replacements`` dict of its own (the one field a caller can change)."""
        return SmsAnalysis(
            self.text,
            self.encoding,
            self.units,
            self.segments,
            self.non_gsm,
            dict(self.replacements),
            self.parts,
            self.characters,
        )

    def to_dict(self) -> dict[str, object]:
        """A plain dict (for tables and JSON)."""
        return {
            "encoding": self.encoding,
            "units": self.units,
            "segments": self.segments,
            "characters": self.characters,
            "non_gsm": "".join(self.non_gsm),
            "replacements": dict(self.replacements),
            "parts": list(self.parts),
        }


def is_gsm(text: str) -> bool:
    """Whether ``text`` can be sent in GSM-7 (every character in the basic or extension table)."""
    return _GSM_ALL.issuperset(text)


def gsm_safe(text: str) -> str:
    """``text`` with each character that has a GSM look-alike replaced (others are kept)."""
    if is_gsm(text):
        return text
    return "".join(c if c in _GSM_ALL else GSM_REPLACEMENTS.get(c, c) for c in text)


def _units(text: str, encoding: str) -> int:
    if encoding == "GSM-7":
        if GSM_EXTENSION.isdisjoint(text):
            return len(text)
        return len(text) + sum(1 for c in text if c in GSM_EXTENSION)
    return len(text.encode("utf-16-le")) // 2


def _split(text: str, encoding: str, capacity: int) -> tuple[str, ...]:
    """Greedy split into parts of at most ``capacity`` units, never inside a grapheme cluster."""
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for cluster in _GRAPHEME.findall(text):
        cost = _units(cluster, encoding)
        if used + cost > capacity and current:
            parts.append("".join(current))
            current, used = [], 0
        current.append(cluster)
        used += cost
    if current:
        parts.append("".join(current))
    return tuple(parts)


def analyze_sms(text: str) -> SmsAnalysis:
    """Encoding, size, segments and GSM replacements of an SMS body.

    Parameters
    ----------
    text
        The SMS body exactly as it will be sent.

    Returns
    -------
    SmsAnalysis

    Examples
    --------
    >>> analyze_sms("😀" * 36).segments
    2
    >>> [len(p) for p in analyze_sms("€" * 81).parts]
    [76, 5]
    """
    if not isinstance(text, str):
        msg = f"an SMS body is text, got {type(text).__name__}. Fix: pass the rendered SMS string"
        raise TypeError(msg)
    non_gsm = () if _GSM_ALL.issuperset(text) else tuple(dict.fromkeys(c for c in text if c not in _GSM_ALL))
    encoding = "UCS-2" if non_gsm else "GSM-7"
    units = _units(text, encoding)
    single, capacity = LIMITS[encoding]
    if not text:
        parts: tuple[str, ...] = ()
    elif units <= single:
        parts = (text,)
    elif encoding == "GSM-7" and _GSM_SLOW.isdisjoint(text):
        # One septet per character and no multi-character cluster: fixed-size parts.
        parts = tuple(text[i : i + capacity] for i in range(0, len(text), capacity))
    else:
        parts = _split(text, encoding, capacity)
    characters = len(text) if encoding == "GSM-7" and "\r" not in text else len(_GRAPHEME.findall(text))
    replacements = {c: GSM_REPLACEMENTS[c] for c in non_gsm if c in GSM_REPLACEMENTS} if non_gsm else {}
    return SmsAnalysis(
        text=text,
        encoding=encoding,
        units=units,
        segments=len(parts),
        non_gsm=non_gsm,
        replacements=replacements,
        parts=parts,
        characters=characters,
    )
