"""Lint paired messages: compliance, deliverability and pairing rules, run over real customers.

Every rule has an id, a severity (``error`` blocks export, ``warning`` needs a look, ``info`` was accepted
on purpose), a message and
a suggested fix. The rules run on *rendered* pairs for a sample of real profiles (long names,
non-Latin names, missing optional fields), for every moment and every variant, so a template that
only breaks for some customers is caught. :func:`lint_library` returns one row per rule, moment,
variant and template, with how many sampled customers it fired for and a few of their ids.

Rules (see :data:`RULES`):

- SMS: first message of the program carries the CTIA disclosures; opt-out wording; brand
  identification; segments over the policy limit; non-GSM characters (with GSM look-alikes);
  leftover placeholders; non-https links.
- Email: unsubscribe link and postal address in the body (CAN-SPAM); one-click unsubscribe headers
  (RFC 8058); subject and preheader length; HTML over Gmail's clipping size; images without alt text.
- Pair: the SMS repeating the email, the two pointing to different offers or landing pages, more than
  one call to action.
- Template: unapproved (draft) manifests, required variables missing from the profiles, render errors.
- Locale: translations nobody approved or listed in the manifest, translations missing a part, and
  customers whose language has no translation (they get the brand's default language).
- Market: what the recipient's market asks every message to carry (sender identity, contact details,
  the market's language), from the policy's market rules (:class:`~workbench.models.policy.MarketRule`).

Findings carry the locale the pair was written in and the recipient's market. An SMS that needs UCS-2
is reported per locale with each character, its GSM look-alike and the segments it costs; a locale whose
manifest entry accepts UCS-2 (``accept_ucs2``, with the reason) gets an ``info`` finding instead of a warning.
"""

from __future__ import annotations

import html as html_lib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Unpack
from urllib.parse import urlsplit

import pandas as pd
import regex

from ..locales import canonical_locale, language_of
from ..models.errors import TemplateError
from ..models.policy import DEFAULT_MARKETS, MarketRule
from ..models.strategy import Brand, Strategy
from .library import TemplateManifest
from .memo import heap_set_aside, remember
from .render import HtmlLayout, PairedMessage, Renderer, _interleave, _tidy_sms, customer_context
from .sms import GSM_REPLACEMENTS, SmsAnalysis, analyze_sms, gsm_safe

__all__ = [
    "FINDING_COLUMNS",
    "RULES",
    "Finding",
    "Rule",
    "lint_audience",
    "lint_exit_code",
    "lint_library",
    "lint_manifest",
    "lint_pair",
    "lint_sample",
    "lint_translations",
    "sms_characters",
    "sms_cost",
    "target_locales",
    "translation_table",
]

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A lint rule: id, severity, channel, what it checks and how to fix a finding."""

    id: str
    severity: Severity
    channel: str
    title: str
    fix: str


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "sms-first-message",
            "error",
            "sms",
            "The first SMS of a program lacks a CTIA disclosure",
            "Name the brand and program, the frequency, 'Msg & data rates may apply', HELP and 'Reply STOP to opt out'",
        ),
        Rule(
            "sms-opt-out",
            "warning",
            "sms",
            "A marketing SMS has no opt-out wording",
            "End with 'Reply STOP to opt out' (required in the first message, good practice after)",
        ),
        Rule(
            "sms-brand",
            "error",
            "sms",
            "The SMS does not identify the brand",
            "Start the SMS with '{{ brand.name }}: '",
        ),
        Rule(
            "sms-segments",
            "error",
            "sms",
            "The SMS is longer than the policy's segment limit",
            "Shorten the copy or the link, or raise max_sms_segments in the contact policy",
        ),
        Rule(
            "sms-non-gsm",
            "warning",
            "sms",
            "Characters outside GSM-7 force UCS-2 (70 chars a segment)",
            "Replace them with the suggested GSM look-alikes",
        ),
        Rule(
            "sms-placeholder",
            "error",
            "sms",
            "A placeholder or a missing value was left in the SMS",
            "Fill the variable or give it a fallback (`| default(...)`, `{% if %}`)",
        ),
        Rule(
            "sms-insecure-link",
            "error",
            "sms",
            "The SMS links to a non-https URL",
            "Use https links (the `track` filter builds them from the brand website URL)",
        ),
        Rule(
            "email-unsubscribe",
            "error",
            "email",
            "The email has no visible unsubscribe link (CAN-SPAM)",
            "Extend _base/email.html.j2 (its footer links {{ unsubscribe_link }}) and include "
            "_base/footer.txt.j2 in the text body",
        ),
        Rule(
            "email-postal-address",
            "error",
            "email",
            "The email lacks the brand's postal address (CAN-SPAM)",
            "Keep the footer of _base/email.html.j2 and _base/footer.txt.j2 ({{ brand.postal_address }})",
        ),
        Rule(
            "email-one-click",
            "error",
            "email",
            "One-click unsubscribe headers are missing or invalid (RFC 8058)",
            "Declare 'List-Unsubscribe: <https://...>' and 'List-Unsubscribe-Post: List-Unsubscribe=One-Click' "
            "in _base/headers.txt.j2",
        ),
        Rule(
            "email-subject-length",
            "warning",
            "email",
            "The subject is empty or too long for a phone",
            "Keep subjects between 1 and 50 characters (30-50 show fully on most phones)",
        ),
        Rule(
            "email-preheader-length",
            "warning",
            "email",
            "The preheader is empty or over 90 characters",
            "Write a preheader of 1-90 characters that adds to the subject",
        ),
        Rule(
            "email-clipping",
            "error",
            "email",
            "The HTML is over Gmail's clipping size (102 KB)",
            "Cut content or markup; a clipped email hides its unsubscribe footer",
        ),
        Rule(
            "email-img-alt",
            "warning",
            "email",
            "An image has no alt text",
            'Add alt="..." describing the image (alt="" for decoration)',
        ),
        Rule(
            "email-placeholder",
            "error",
            "email",
            "A placeholder or a missing value was left in the email",
            "Fill the variable or give it a fallback (`| default(...)`, `{% if %}`)",
        ),
        Rule(
            "email-insecure-link",
            "error",
            "email",
            "The email links to a non-https URL",
            "Use https links (the `track` filter builds them)",
        ),
        Rule(
            "pair-repeats",
            "warning",
            "pair",
            "The SMS repeats the email instead of complementing it",
            "Give the SMS one timely action in its own words; leave context and details to the email",
        ),
        Rule(
            "pair-offer-mismatch",
            "error",
            "pair",
            "The email and the SMS promote different offers",
            "Use {{ offer }} in both templates",
        ),
        Rule(
            "pair-landing-mismatch",
            "error",
            "pair",
            "The email and the SMS point to different landing pages",
            "Link both to {{ landing | track }}",
        ),
        Rule(
            "pair-multiple-cta",
            "warning",
            "pair",
            "More than one call to action in a message",
            "Keep one primary button (data-cta) in the email and one link in the SMS",
        ),
        Rule(
            "template-unapproved",
            "warning",
            "template",
            "The template is a draft (not approved)",
            "Review it and set approval: approved in its manifest.yaml",
        ),
        Rule(
            "template-variables",
            "error",
            "template",
            "A required variable is not a profile column",
            "Add the column to the profiles or remove it from required_variables",
        ),
        Rule(
            "template-render",
            "error",
            "template",
            "The template fails to render for some customers",
            "Fix the template at the named line, or give the variable a fallback",
        ),
        Rule(
            "template-locale-fallback",
            "warning",
            "template",
            "Customers whose language has no translation get the brand's default language",
            "Add a locale folder (e.g. it/) with every part, or accept the fallback",
        ),
        Rule(
            "template-locale-incomplete",
            "error",
            "template",
            "A translation lacks parts, so its language is skipped for every customer",
            "Add the missing files to the locale folder (or to its language's folder, e.g. fr/ for fr-CA/)",
        ),
        Rule(
            "template-locale-unlisted",
            "error",
            "template",
            "A translation folder has no entry in the manifest (nobody approved it)",
            "Add it under locales: in manifest.yaml with version, approval and approved_by",
        ),
        Rule(
            "template-locale-unapproved",
            "warning",
            "template",
            "A translation is a draft, or its approver is not named",
            "Have a native speaker of the market review it and set approval: approved and approved_by",
        ),
        Rule(
            "market-required",
            "error",
            "market",
            "The message lacks an element the recipient's market requires",
            "Add the element (see the market rule's source); a practice or uncertain rule is a warning",
        ),
        Rule(
            "market-language",
            "warning",
            "market",
            "The message is not in a language the recipient's market asks for",
            "Add a translation in that language (e.g. fr/ for Quebec)",
        ),
    )
}

FINDING_COLUMNS = [
    "rule",
    "severity",
    "channel",
    "moment",
    "variant",
    "locale",
    "market",
    "template",
    "message",
    "fix",
    "customers",
    "example_ids",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule firing for one pair (or one manifest)."""

    rule: str
    moment: str
    variant: str
    message: str
    template: str = ""
    customer_id: str = ""
    severity_override: str | None = None
    locale: str = ""
    market: str = ""

    @property
    def severity(self) -> str:
        """``error`` or ``warning`` (the rule's, unless this finding overrides it)."""
        return self.severity_override or RULES[self.rule].severity

    def to_dict(self) -> dict[str, object]:
        """A plain row (with the rule's channel and fix)."""
        rule = RULES[self.rule]
        return {
            "rule": self.rule,
            "severity": self.severity,
            "channel": rule.channel,
            "moment": self.moment,
            "variant": self.variant,
            "locale": self.locale,
            "market": self.market,
            "template": self.template,
            "message": self.message,
            "fix": rule.fix,
            "customer_id": self.customer_id,
        }


# ---------------------------------------------------------------- helpers

# Every alternative starts with one of the characters of the leading look-ahead, which lets the engine
# skip other positions quickly; every match contains one of _PLACEHOLDER_HINTS.
_PLACEHOLDER = re.compile(
    r"(?=[{}#%*\[<Nnu])(?:"
    r"\{\{|\}\}|\{%|%\}|\{#|#\}|\*\|[A-Z_]+\|\*|%%[A-Za-z_]+%%|\[\[[^\]]*\]\]|\{[a-z_]+\}"
    r"|<NA>|\bNaT\b|\bnan\b|\bNone\b|\bundefined\b)"
)
# ("%}" and "#}" hold "}", so they need no scan of their own.)
_PLACEHOLDER_HINTS = ("{", "}", "*|", "%%", "[[", "<NA>", "NaT", "nan", "None", "undefined")
# Each hint with a character it holds that texts rarely have, looked for first: one character is found by a
# plain memory scan, several only by a slower substring search (the words have no such character).
_HINT_GUARDS = tuple((h, next((c for c in h if c in "{}*%[<"), "") if len(h) > 1 else "") for h in _PLACEHOLDER_HINTS)
# The look-aheads below name the first character of every match (so the engine skips other positions).
_URL = re.compile(r"(?=[hH])\b(?:https?://)[^\s<>\"']+", re.IGNORECASE)
_HTTP = re.compile(r"(?=[hH])\bhttp://", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_ANCHOR = re.compile(r"<a\b[^>]*>", re.IGNORECASE)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"([A-Za-z_:][-\w:.]*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)")
_CODE = re.compile(r"(?=[cC])(?i:\bcode)\b:?\s+([A-Z][A-Z0-9]{3,})\b")
_WORD = regex.compile(r"[\p{L}\p{N}']+")
# Opt-out wording in English, French and German: a verb and a keyword, "keyword pour/au ..." (French) or
# "Abmelden: STOP" (German).
_STOP_WORDING = re.compile(
    r"\b(?:reply|text|txt|send|r[ée]pondez|r[ée]ponds|envoyez|textez|antworte|antworten|sende|senden)\b"
    r"[^.!?\n]{0,40}?\b(?:STOP|END|QUIT|CANCEL|UNSUBSCRIBE|ARRET|ARR[ÊE]T)\b"
    r"|\b(?:STOP|ARRET)\b(?:\s+ou\s+ARRET)?\s+(?:pour|au)\b"
    r"|\b(?:d[ée]sinscription|d[ée]sabonnement|abmelden|abbestellen)\s*:\s*(?:\w+\s+)?(?:STOP|ARRET)\b",
    re.I,
)
_RATES = re.compile(
    r"\bmsg\s*(?:&|and)\s*data\s+rates\s+may\s+apply\b"
    r"|\bfrais\s+de\s+(?:msg|messagerie|messages?|textos?)\s+et\s+de\s+donn[ée]es\b",
    re.I,
)
_HELP = re.compile(r"\b(?:HELP|AIDE|HILFE)\b")
_STYLE_OR_HEAD = re.compile(r"<(style|head)\b.*?</\1>", re.IGNORECASE | re.DOTALL)
_BOILERPLATE = re.compile(
    r"(?=[rhd])(?:reply\s+stop\s+to\s+opt\s+out|reply\s+help\s+for\s+help"
    r"|\b(?:hi|hello|hey|dear)\s+[^,.!?\n]{0,40}[,.!?])",
    re.I,
)
_ASCII_WORD = re.compile(r"[A-Za-z0-9']+")
_ONE_CLICK_URI = re.compile(r"<https://[^>]+>")
_RECURRING = re.compile(r"recurring|msgs?/|r[ée]currents?|/mois|wiederkehrend|/Monat", re.I)
_CLIP_BYTES = 102 * 1024
_EMAIL_GRAMS: dict[str, set[tuple[str, ...]]] = {}
_MAX_EMAIL_GRAMS = 512


def _search_http(text: str, lowered: str | None = None) -> re.Match[str] | None:
    """``_HTTP.search(text)``, skipped when the text has no ``http://`` in any case.

    Only the ASCII letters h, t and p match h, t and p when case is ignored, so every match lowers
    to ``http://``.
    """
    return _HTTP.search(text) if "http://" in (text.lower() if lowered is None else lowered) else None


def _find_codes(text: str, lowered: str | None = None) -> list[str]:
    """``_CODE.findall(text)``, trying the pattern only where the text says ``code`` in some case.

    Every match starts with ``code`` in some case (only the ASCII letters match c, o, d and e when case
    is ignored), so its place is where the lowered text has ``code`` when lowering kept every character
    one character long; those places are tried in order, each no earlier than the end of the previous
    match, as the pattern's own scan would. ``lowered`` is ``text.lower()`` when the caller has it.
    """
    if lowered is None:
        lowered = text.lower()
    at = lowered.find("code")
    if at < 0:
        return []
    if len(lowered) != len(text):
        return _CODE.findall(text)
    found = []
    end = 0
    while at >= 0:
        if at >= end:
            m = _CODE.match(text, at)
            if m is not None:
                found.append(m.group(1))
                end = m.end()
        at = lowered.find("code", at + 1)
    return found


def _find_placeholder(text: str) -> re.Match[str] | None:
    """``_PLACEHOLDER.search(text)``, skipped when none of the substrings a match needs is present."""
    for hint, guard in _HINT_GUARDS:
        if guard in text and hint in text:
            return _PLACEHOLDER.search(text)
    return None


_LINE_PLACEHOLDERS: dict[str, str | None] = {}


def _line_placeholder(text: str) -> str | None:
    """The first placeholder left in a subject or preheader (kept per text: most are the same for everyone)."""
    if text in _LINE_PLACEHOLDERS:
        return _LINE_PLACEHOLDERS[text]
    hit = _find_placeholder(text)
    return remember(_LINE_PLACEHOLDERS, text, hit.group(0) if hit else None, 4096)


def _attrs(tag: str) -> dict[str, str]:
    return {k.lower(): v.strip("\"'") for k, v in _ATTR.findall(tag)}


_URL_KEYS: dict[str, tuple[str, str]] = {}


def _url_key(url: str) -> tuple[str, str]:
    """The host and path a link points to (kept per distinct link: most links are the same for everyone)."""
    found = _URL_KEYS.get(url)
    if found is None:
        parts = urlsplit(html_lib.unescape(url.rstrip(".,;:!?)")))
        found = remember(_URL_KEYS, url, (parts.netloc.lower(), parts.path.rstrip("/") or "/"), 4096)
    return found


def _visible_text(html: str) -> str:
    return html_lib.unescape(_TAG.sub(" ", _STYLE_OR_HEAD.sub(" ", html)))


@dataclass(frozen=True, slots=True)
class _HtmlFacts:
    """What the email rules read from an HTML body: its anchors' and images' attributes, visible text, size."""

    anchors: list[dict[str, str]]
    images: list[dict[str, str]]
    visible: str
    size: int


def _html_facts(html: str) -> _HtmlFacts:
    """The facts of one HTML body, read from the whole text."""
    return _HtmlFacts(
        [_attrs(a) for a in _ANCHOR.findall(html)],
        [_attrs(t) for t in _IMG.findall(html)],
        _visible_text(html),
        len(html.encode("utf-8")),
    )


@dataclass(frozen=True, slots=True)
class _Needles:
    """The brand's strings the email rules look for (one set per brand)."""

    unsubscribe: str  # the unsubscribe URL without its trailing slash
    address: str  # the postal address
    name: str  # the brand name (found in any case)
    contacts: tuple[str, ...]  # the support and website URLs (without trailing slash) and the reply-to address
    joined: bool  # a name or contact holds a line break: it is looked for in both bodies joined

    @classmethod
    def of(cls, brand: Brand) -> _Needles:
        urls = tuple(str(u).rstrip("/") for u in (brand.support_url, brand.website_url) if u)
        contacts = (*urls, brand.reply_to) if brand.reply_to else urls
        joined = any("\n" in n for n in (brand.name, *contacts))
        return cls(str(brand.unsubscribe_url).rstrip("/"), brand.postal_address, brand.name, contacts, joined)


@dataclass(frozen=True, slots=True)
class _Links:
    """What the email rules read from the HTML body's anchors and images."""

    unsubscribe: bool  # an anchor links to the unsubscribe URL
    insecure: bool  # an anchor links to an http:// URL
    ctas: tuple[tuple[str, str], ...]  # the distinct pages (host, path) of the anchors marked data-cta, sorted
    bare_images: tuple[str, ...]  # the src of each image without an alt attribute ("?" without a src)

    def quotes(self, text: str) -> bool:
        """Whether what a finding may quote from these holds ``text``."""
        return any(text in host or text in path for host, path in self.ctas) or any(text in s for s in self.bare_images)


def _read_links(anchors: list[dict[str, str]], images: list[dict[str, str]], needles: _Needles) -> _Links:
    hrefs = [html_lib.unescape(a.get("href", "")) for a in anchors]
    unsubscribe = needles.unsubscribe
    return _Links(
        any(h.startswith(unsubscribe) for h in hrefs),
        any(_HTTP.match(h) for h in hrefs),
        tuple(sorted({_url_key(h) for a, h in zip(anchors, hrefs, strict=True) if "data-cta" in a})),
        tuple(attrs.get("src", "?") for attrs in images if "alt" not in attrs),
    )


@dataclass(frozen=True, slots=True)
class _Body:
    """What the email rules read from the text of one body: the HTML body's visible text or the text body."""

    unsubscribe: bool  # the unsubscribe URL is in it
    address: bool  # the postal address is in it
    placeholder: str | None  # the first placeholder left in it
    insecure: bool  # it has an http:// URL
    codes: frozenset[str]  # the offer codes it names
    names: bool  # it names the brand (in any case)
    contact: bool  # it has a support or website URL or the reply-to address

    def quotes(self, text: str) -> bool:
        """Whether what a finding may quote from this holds ``text``."""
        return (self.placeholder is not None and text in self.placeholder) or any(text in c for c in self.codes)


def _read_body(text: str, needles: _Needles) -> _Body:
    lowered = text.lower()
    hit = _find_placeholder(text)
    return _Body(
        needles.unsubscribe in text,
        needles.address in text,
        hit.group(0) if hit else None,
        _search_http(text, lowered) is not None,
        frozenset(_find_codes(text, lowered)),
        _names_in(needles.name, text, lowered),
        any(c in text for c in needles.contacts),
    )


@dataclass(frozen=True, slots=True)
class _Email:
    """What the email rules read from a pair's two bodies, and the HTML body's size in bytes.

    ``visible`` is the HTML body's visible text when the brand's needles must be looked for in both
    bodies joined (see :attr:`_Needles.joined`), else ``""``.
    """

    links: _Links
    seen: _Body
    text: _Body
    size: int
    visible: str = ""


def _read_email(html: str, text: str, needles: _Needles, facts: _HtmlFacts | None = None) -> _Email:
    """The email's readings from its HTML body's facts (read from the whole body unless given) and its text body."""
    if facts is None:
        facts = _html_facts(html)
    return _Email(
        _read_links(facts.anchors, facts.images, needles),
        _read_body(facts.visible, needles),
        _read_body(text, needles),
        facts.size,
        facts.visible if needles.joined else "",
    )


_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
_MARK = re.compile(f"{_MARK_OPEN}(\\d+){_MARK_CLOSE}")
# A marker where a tag or its name starts (`<` + name + marker): the value would decide what the tag is.
_MARK_IN_NAME = re.compile(f"<[/!?]?[A-Za-z0-9-]*{_MARK_OPEN}")
# Characters that end an HTML character reference (html.unescape reads none past them).
_REF_END = frozenset("\t\n\f <;")
# In values joined with NUL after each: a value whose last "&" has none of those after it (a value that
# holds NUL itself is taken for one, which only sends its body to be read whole).
_UNCLOSED_REF = re.compile("&[^\t\n\f <;\x00]*\x00")


def _ref_closed(text: str) -> bool:
    """Whether a character reference begun in ``text`` cannot run on into the text after it."""
    at = text.rfind("&")
    if at < 0:
        return True
    tail = text[at + 1 :]
    return any(c in tail for c in _REF_END)


#: A tag's attributes in order: (name, value, None, []) when the value has no marker, else (name, "",
#: the raw value's pieces, the values written between them).
_AttrTemplate = list[tuple[str, str, list[str] | None, list[int]]]


#: A tag of a layout: its attributes (no marker), else its pieces, values and attribute template.
_LayoutTag = tuple[dict[str, str] | None, list[str], list[int], _AttrTemplate | None]


def _attr_template(tag: str) -> _AttrTemplate | None:
    """The attributes of a tag with markers, as :func:`_attrs` reads them, when every marker is inside a
    quoted value (else None).

    A value without quotes written at a marker inside quotes cannot end the quoted value, and the
    pattern reads nothing else differently (each match ends where the previous scan resumed), so
    :func:`_attrs` of the written tag has the same names, with each value written in.
    """
    marks = [m.start() for m in _MARK.finditer(tag)]
    template: _AttrTemplate = []
    inside = 0
    for m in _ATTR.finditer(tag):
        start, end = m.span(2)
        raw = m.group(2)
        count = sum(1 for at in marks if start <= at < end)
        if not count:
            template.append((m.group(1).lower(), raw.strip("\"'"), None, []))
            continue
        if len(raw) < 2 or raw[0] not in "\"'" or raw[-1] != raw[0]:
            return None  # not a quoted value (an unquoted one can start with a quote)
        pieces = _MARK.split(raw)
        template.append((m.group(1).lower(), "", pieces[0::2], [int(k) for k in pieces[1::2]]))
        inside += count
    return template if inside == len(marks) else None


class _LayoutFacts:
    """The facts of every HTML body of one inlined layout, worked out once (see :class:`~.render.HtmlLayout`).

    The layout is read with a numbered marker in place of each value. When no value holds ``<`` or
    ``>``, every tag starts and ends in the layout's own text, so the anchors, images, the head and
    style blocks and the visible text are the layout's, with the values written in where the markers
    are; a marker right after ``<`` or inside a tag name, and a character reference that could run
    from one piece of text into the next, make the layout read each body whole instead.
    """

    def __init__(self, segments: list[str]) -> None:
        self.segments = segments  # kept so the id() that keys this stays the layout's
        marked = segments[0] + "".join(f"{_MARK_OPEN}{k}{_MARK_CLOSE}{seg}" for k, seg in enumerate(segments[1:]))
        self.ok = not any(_MARK_OPEN in seg or _MARK_CLOSE in seg for seg in segments) and not _MARK_IN_NAME.search(
            marked
        )
        self.anchors = [self._tag(t) for t in _ANCHOR.findall(marked)]
        self.images = [self._tag(t) for t in _IMG.findall(marked)]
        # the values written into the anchors and images (what the links' rules read)
        self.tag_slots = tuple(sorted({k for _, _, slots, _ in (*self.anchors, *self.images) for k in slots}))
        pieces = _MARK.split(_TAG.sub(" ", _STYLE_OR_HEAD.sub(" ", marked)))
        self.text = [html_lib.unescape(p) for p in pieces[0::2]]
        self.text_slots = [int(k) for k in pieces[1::2]]
        if any(not _ref_closed(p) for p in pieces[0::2][:-1]):
            self.ok = False
        self.base_size = sum(len(seg.encode("utf-8")) for seg in segments)
        self.tags: dict[str, dict[str, str]] = {}

    @staticmethod
    def _tag(tag: str) -> _LayoutTag:
        """A tag of the layout: its attributes when it has no marker, else its pieces, the values between
        them and, when every marker is inside a quoted attribute value, each attribute as pieces and values."""
        pieces = _MARK.split(tag)
        if len(pieces) == 1:
            return _attrs(tag), [], [], None
        return None, pieces[0::2], [int(k) for k in pieces[1::2]], _attr_template(tag)

    def _tag_attrs(self, tag: str) -> dict[str, str]:
        """:func:`_attrs` of a tag with its values written in, once per distinct tag (most tags carry the same
        link for everyone). The rules only read the dicts, so pairs share them."""
        found = self.tags.get(tag)
        if found is None:
            found = remember(self.tags, tag, _attrs(tag), _MAX_MEMO)
        return found

    @staticmethod
    def _fill(pieces: list[str], slots: list[int], values: tuple[str, ...]) -> str:
        out = [pieces[0]]
        for k, piece in zip(slots, pieces[1:], strict=True):
            out.append(values[k])
            out.append(piece)
        return "".join(out)

    def _written_tags(self, tags: list[_LayoutTag], values: tuple[str, ...], quoted: bool) -> list[dict[str, str]]:
        """The attributes of each tag with the values written in (``quoted``: a value holds a quote)."""
        fill = self._fill
        return [
            a
            if a is not None
            else {k: v if p is None else fill(p, s, values).strip("\"'") for k, v, p, s in t}
            if t is not None and not quoted
            else self._tag_attrs(fill(p, k, values))
            for a, p, k, t in tags
        ]

    def readable(self, values: tuple[str, ...]) -> bool:
        """Whether the body with these values can be read from the layout (else it is read whole)."""
        if not self.ok:
            return False
        joined = "\x00".join(values) + "\x00"
        if "<" in joined or ">" in joined:
            return False
        return "&" not in joined or _UNCLOSED_REF.search(joined) is None

    def anchors_and_images(self, values: tuple[str, ...]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """The attributes of the anchors and of the images, with the values written in (when readable)."""
        # with no quote in a value, a marker inside a quoted attribute value leaves the tag's parse as it is
        quoted = any('"' in values[k] or "'" in values[k] for k in self.tag_slots)
        return self._written_tags(self.anchors, values, quoted), self._written_tags(self.images, values, quoted)

    def visible(self, values: tuple[str, ...]) -> str:
        """The visible text with the values written in (when readable)."""
        each = [values[k] for k in self.text_slots]
        if any("&" in v for v in each):
            each = [html_lib.unescape(v) if "&" in v else v for v in each]
        return _interleave(self.text, each)

    def size(self, values: tuple[str, ...]) -> int:
        """The body's size in bytes with the values written in."""
        joined = "".join(values)
        # UTF-8 sizes add up, so the values' size is the size of their joined text
        return self.base_size + (len(joined) if joined.isascii() else len(joined.encode("utf-8")))

    def facts(self, values: tuple[str, ...]) -> _HtmlFacts | None:
        """The facts of the body with these values, or None when they must be read from the whole body."""
        if not self.readable(values):
            return None
        anchors, images = self.anchors_and_images(values)
        return _HtmlFacts(anchors, images, self.visible(values), self.size(values))


def _trigrams(text: str) -> set[tuple[str, ...]]:
    lowered = text.lower()
    words = (_ASCII_WORD if lowered.isascii() else _WORD).findall(lowered)
    return set(zip(words, words[1:], words[2:], strict=False))


def _strip_urls(text: str) -> str:
    """``_URL.sub(" ", text)``, trying the pattern only where a match can start.

    Every match is ``http`` or ``https`` (in any case) right before a ``://``, so it starts 4 or 5
    characters before one; those places are tried in order, as the regular expression's scan would
    reach them, each no earlier than the end of the previous match.
    """
    at = text.find("://")
    if at < 0:
        return text
    out: list[str] = []
    last = 0
    while at >= 0:
        for start in (at - 5, at - 4):
            if start >= last:
                m = _URL.match(text, start)
                if m is not None:
                    out.append(text[last:start])
                    out.append(" ")
                    last = m.end()
                    break
        at = text.find("://", max(at + 1, last))
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _clean_for_similarity(text: str) -> str:
    """The text :func:`similarity` compares: links and the greeting and STOP/HELP boilerplate blanked."""
    return _BOILERPLATE.sub(" ", _strip_urls(text))


_SMS_GRAMS: dict[tuple[str, str], frozenset[tuple[str, ...]]] = {}
# by the SMS's trigrams and the email with its links blanked, and with its boilerplate blanked too
_SCORES_STRIPPED: dict[tuple[frozenset[tuple[str, ...]], str], float] = {}
_SCORES: dict[tuple[frozenset[tuple[str, ...]], str], float] = {}
_MAX_SCORES = 4096


def similarity(sms: str, email_text: str, *, brand_name: str = "") -> float:
    """Share of the SMS's word trigrams that also appear in the email (0 = fresh words, 1 = copied).

    Links, the brand prefix, greetings ("Hi Ana,") and the STOP/HELP boilerplate are ignored. The
    SMS's trigrams are kept per SMS, and the score per SMS and cleaned email (most emails differ by
    their links and greeting alone, which cleaning removes).
    """
    grams = _sms_grams(sms, brand_name)
    return _score(grams, _strip_urls(email_text)) if grams else 0.0


def _sms_grams(sms: str, brand_name: str) -> frozenset[tuple[str, ...]]:
    """The SMS's word trigrams, links, boilerplate and brand prefix blanked (kept per SMS)."""
    grams = _SMS_GRAMS.get((sms, brand_name))
    if grams is None:
        cleaned = _clean_for_similarity(sms)
        if brand_name:
            cleaned = cleaned.replace(brand_name + ":", " ")
        grams = remember(_SMS_GRAMS, (sms, brand_name), frozenset(_trigrams(cleaned)), _MAX_EMAIL_GRAMS)
    return grams


def _score(grams: frozenset[tuple[str, ...]], stripped: str) -> float:
    """:func:`similarity` of an SMS's trigrams (not empty) and an email with its links blanked."""
    score = _SCORES_STRIPPED.get((grams, stripped))
    if score is not None:
        return score
    email = _BOILERPLATE.sub(" ", stripped)
    key = (grams, email)
    score = _SCORES.get(key)
    if score is None:
        email_grams = _EMAIL_GRAMS.get(email)
        if email_grams is None:
            email_grams = remember(_EMAIL_GRAMS, email, _trigrams(email), _MAX_EMAIL_GRAMS)
        score = remember(_SCORES, key, len(grams & email_grams) / len(grams), _MAX_SCORES)
    return remember(_SCORES_STRIPPED, (grams, stripped), score, _MAX_SCORES)


_GRAM_WORDS: dict[frozenset[tuple[str, ...]], frozenset[str]] = {}


def _repeat_score(sms: str, email_text: str, brand_name: str, threshold: float) -> float | None:
    """:func:`similarity`, or None when it is sure to be under ``threshold``.

    Every trigram the score counts is three words of the cleaned, lowered email, and each of those is
    part of the lowered email with only its links blanked (cleaning blanks whole stretches, and lowering
    maps each character alone unless the text has a capital sigma). The SMS's trigrams whose words are
    all found there bound the score from above; when that bound is under the threshold, so is the score.
    """
    grams = _sms_grams(sms, brand_name)
    if not grams:
        return 0.0
    stripped = _strip_urls(email_text)
    score = _SCORES_STRIPPED.get((grams, stripped))
    if score is not None:
        return score
    if "\u03a3" not in stripped:
        words = _GRAM_WORDS.get(grams)
        if words is None:
            words = remember(_GRAM_WORDS, grams, frozenset(w for g in grams for w in g), _MAX_EMAIL_GRAMS)
        lowered = stripped.lower()
        found = {w for w in words if w in lowered}
        bound = sum(1 for a, b, c in grams if a in found and b in found and c in found)
        if bound / len(grams) < threshold:
            return None
    return _score(grams, stripped)


# ---------------------------------------------------------------- rules


def lint_manifest(manifest: TemplateManifest, *, profile_columns: Iterable[str] | None = None) -> list[Finding]:
    """Template-level findings: unapproved manifests and required variables missing from the profiles."""
    out: list[Finding] = []
    where = f"{manifest.moment}/manifest.yaml"
    if not manifest.approved:
        out.append(
            Finding(
                "template-unapproved",
                manifest.moment,
                "*",
                f"{where} is {manifest.approval} (version {manifest.version}, owner {manifest.owner})",
                where,
            )
        )
    if profile_columns is not None:
        columns = set(profile_columns)
        missing = [v for v in manifest.required_variables if v not in columns]
        if missing:
            out.append(
                Finding(
                    "template-variables",
                    manifest.moment,
                    "*",
                    f"{where} requires {', '.join(missing)}, not in the profiles",
                    where,
                )
            )
    return out


def lint_translations(renderer: Renderer, moment: str) -> list[Finding]:
    """Locale-level findings of a moment: folders nobody listed or approved, entries without a folder,
    translations missing a part (whose language is then skipped)."""
    manifest = renderer.manifest(moment)
    folders = renderer.translations(moment)
    where = f"{moment}/manifest.yaml"
    out: list[Finding] = []
    for tag, folder in folders.items():
        entry = manifest.locales.get(tag)
        if entry is None:
            out.append(
                Finding(
                    "template-locale-unlisted",
                    moment,
                    "*",
                    f"{moment}/{folder}/ has no entry under locales: in {where}",
                    where,
                    locale=tag,
                )
            )
        elif not entry.approved:
            who = f"approved_by {entry.approved_by}" if entry.approved_by else "no approved_by"
            out.append(
                Finding(
                    "template-locale-unapproved",
                    moment,
                    "*",
                    f"{moment}/{folder}/ is {entry.approval} (version {entry.version}, {who})",
                    where,
                    locale=tag,
                )
            )
    for tag in manifest.locales:
        if tag not in folders and tag != renderer.default_locale:
            out.append(
                Finding(
                    "template-locale-unlisted",
                    moment,
                    "*",
                    f"{where} lists {tag} but {moment}/ has no {tag}/ folder",
                    where,
                    locale=tag,
                )
            )
    for variant in manifest.variants:
        for tag, folder in folders.items():
            try:
                resolution = renderer.resolve(moment, variant, tag)
            except TemplateError as exc:
                out.append(Finding("template-render", moment, variant, str(exc), f"{moment}/{folder}/", locale=tag))
                continue
            if tag in resolution.incomplete:
                missing = ", ".join(resolution.incomplete[tag])
                out.append(
                    Finding(
                        "template-locale-incomplete",
                        moment,
                        variant,
                        f"{moment}/{folder}/ lacks {missing} (also in its language's folders), so {tag} customers "
                        f"get {resolution.content_locale}",
                        f"{moment}/{folder}/",
                        locale=tag,
                    )
                )
    return out


TRANSLATION_COLUMNS = [
    "moment",
    "locale",
    "status",
    "content_locale",
    "chain",
    "files",
    "version",
    "approval",
    "approved_by",
]


def translation_table(
    renderer: Renderer, locales: Iterable[str], *, moments: Sequence[str] | None = None, variant: str | None = None
) -> pd.DataFrame:
    """Per moment and locale: which translation a customer of that locale gets, and who approved it.

    ``status`` is ``translated`` (a locale folder of the customer's language serves every part),
    ``default`` (the customer's language is the brand's) or ``missing`` (the customer falls back to
    the brand's default language: a translation to add).
    """
    rows = []
    wanted = list(moments) if moments is not None else list(renderer.library)
    tags = list(dict.fromkeys(t for t in (canonical_locale(x) for x in locales) if t))
    home = language_of(renderer.default_locale)
    for moment in wanted:
        manifest = renderer.manifest(moment)
        for tag in tags:
            resolution = renderer.resolve(moment, variant or manifest.variants[0], tag)
            if resolution.fallback:
                status = "missing"
            elif language_of(resolution.content_locale) == home and not any(resolution.files.values()):
                status = "default"
            else:
                status = "translated"
            entry = None
            for key in (resolution.content_locale, language_of(resolution.content_locale) or ""):
                entry = manifest.locales.get(key)
                if entry is not None:
                    break
            used = sorted({t or "root" for t in resolution.files.values()})
            rows.append(
                {
                    "moment": moment,
                    "locale": tag,
                    "status": status,
                    "content_locale": resolution.content_locale,
                    "chain": resolution.path,
                    "files": ", ".join(used),
                    "version": entry.version
                    if entry is not None
                    else (manifest.version if status != "missing" else None),
                    "approval": entry.approval
                    if entry is not None
                    else (manifest.approval if status != "missing" else None),
                    "approved_by": entry.approved_by
                    if entry is not None
                    else (manifest.approved_by if status != "missing" else None),
                }
            )
    return pd.DataFrame(rows, columns=TRANSLATION_COLUMNS)


def lint_pair(
    pair: PairedMessage,
    *,
    brand: Brand,
    max_sms_segments: int = 2,
    similarity_threshold: float = 0.5,
    max_subject: int = 50,
    max_preheader: int = 90,
    clip_bytes: int = _CLIP_BYTES,
    markets: Sequence[MarketRule] | None = None,
) -> list[Finding]:
    """Every SMS, email, pair and market rule on one rendered pair.

    Parameters
    ----------
    pair
        A rendered pair (:func:`~workbench.messages.render.render_pair`).
    brand
        The strategy's brand (name, postal address, program name, unsubscribe URL).
    max_sms_segments
        The contact policy's SMS segment limit (DOMAIN.md: providers recommend <= 2, i.e. 320 chars).
    similarity_threshold
        Share of SMS word trigrams found in the email above which the SMS "repeats" the email.
    max_subject, max_preheader
        Length limits (DOMAIN.md section 3: 30-50 characters for subjects, about 90 for preheaders).
    clip_bytes
        Gmail's clipping size for HTML bodies.
    markets
        The policy's market rules (default :data:`~workbench.models.policy.DEFAULT_MARKETS`); the
        recipient's (``pair.market``) says what the message must carry.

    Returns
    -------
    list of Finding
    """
    needles = _Needles.of(brand)
    return _lint_pair(
        pair,
        _read_email(pair.html, pair.text, needles) if pair.html else None,
        brand=brand,
        needles=needles,
        max_sms_segments=max_sms_segments,
        similarity_threshold=similarity_threshold,
        max_subject=max_subject,
        max_preheader=max_preheader,
        clip_bytes=clip_bytes,
        markets=markets,
    )


def _lint_pair(
    pair: PairedMessage,
    email: _Email | None,
    *,
    brand: Brand,
    needles: _Needles,
    max_sms_segments: int = 2,
    similarity_threshold: float = 0.5,
    max_subject: int = 50,
    max_preheader: int = 90,
    clip_bytes: int = _CLIP_BYTES,
    markets: Sequence[MarketRule] | None = None,
    sms_memo: dict[tuple[Any, ...], Any] | None = None,
    score: Callable[[str], float | None] | None = None,
) -> list[Finding]:
    """:func:`lint_pair` with what the rules read from the pair's email already read (:func:`_read_email`;
    None when the pair has no HTML body) and the brand's needles.

    ``sms_memo`` keeps the findings of the rules that read the SMS alone per distinct SMS (with its
    moment's manifest, the recipient's market and the content's locale), for pairs from one renderer.
    ``score`` gives :func:`_repeat_score` of an SMS and the pair's text body (default: worked out here).
    """
    out: list[Finding] = []
    m, v, cid, tpl = pair.moment, pair.variant, pair.customer_id, pair.templates
    manifest = pair.manifest
    content = pair.content_locale
    market = next((r for r in (markets if markets is not None else DEFAULT_MARKETS) if r.name == pair.market), None)

    def add(rule: str, message: str, part: str, severity: str | None = None) -> None:
        out.append(Finding(rule, m, v, message, tpl.get(part, ""), cid, severity, content, pair.market))

    def need(element: str, channel: str) -> Any:
        if market is None:
            return None
        return next((r for r in market.required(channel) if r.element == element), None)

    email_cta: tuple[tuple[str, str], ...] = ()
    if email is not None:
        unsubscribe = needles.unsubscribe
        links, seen, text = email.links, email.seen, email.text
        if not links.unsubscribe or not text.unsubscribe:
            where = "HTML body" if not links.unsubscribe else "text body"
            add("email-unsubscribe", f"no link to {unsubscribe} in the {where}", "html")
        if not seen.address or not text.address:
            where = "HTML body" if not seen.address else "text body"
            add("email-postal-address", f"the postal address {brand.postal_address!r} is not in the {where}", "html")
        lu = pair.headers.get("List-Unsubscribe", "")
        post = pair.headers.get("List-Unsubscribe-Post", "")
        problems = []
        if not _ONE_CLICK_URI.search(lu):
            problems.append("List-Unsubscribe with an https URI")
        if post.replace(" ", "") != "List-Unsubscribe=One-Click":
            problems.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        if problems:
            add("email-one-click", "missing " + " and ".join(problems), "headers")
        if not pair.subject or len(pair.subject) > max_subject:
            add(
                "email-subject-length",
                f"subject has {len(pair.subject)} characters (limit {max_subject}): {pair.subject!r}",
                "subject",
            )
        if not pair.preheader or len(pair.preheader) > max_preheader:
            add(
                "email-preheader-length",
                f"preheader has {len(pair.preheader)} characters (limit {max_preheader})",
                "preheader",
            )
        size = email.size
        if size > clip_bytes:
            add("email-clipping", f"HTML is {size / 1024:.0f} KB; Gmail clips above {clip_bytes / 1024:.0f} KB", "html")
        for src in links.bare_images:
            add("email-img-alt", f"<img src={src!r}> has no alt attribute", "html")
        for part, hit in (
            ("subject", _line_placeholder(pair.subject)),
            ("preheader", _line_placeholder(pair.preheader)),
            ("html", seen.placeholder),
            ("text", text.placeholder),
        ):
            if hit is not None:
                add("email-placeholder", f"{hit!r} left in the {part}", part)
                break
        if links.insecure or text.insecure:
            add("email-insecure-link", "the email links to an http:// URL", "html")
        email_cta = links.ctas
        if len(email_cta) > 1:
            add(
                "pair-multiple-cta",
                f"the email has {len(email_cta)} primary calls to action (data-cta) to different pages",
                "html",
            )

    if pair.sms is not None:
        sms = pair.sms
        key = (sms, pair.sms_analysis is None, id(manifest), pair.market, content)
        rules = sms_memo.get(key) if sms_memo is not None else None
        if rules is None:
            rules = _sms_rules(sms, pair.sms_analysis, manifest, market, content, brand, max_sms_segments)
            if sms_memo is not None:
                remember(sms_memo, key, rules, _MAX_MEMO)
                sms_memo[("manifest", id(manifest))] = manifest  # keeps the id() in the key the manifest's own
        for args in rules[0]:
            add(*args)
        urls = rules[1]
        if email is not None:
            if email_cta and urls and not urls <= set(email_cta):
                sms_paths = ", ".join(sorted(h + p for h, p in urls))
                email_paths = ", ".join(h + p for h, p in email_cta)
                add(
                    "pair-landing-mismatch",
                    f"SMS links to {sms_paths}, the email's call to action to {email_paths}",
                    "sms",
                )
            sms_codes = rules[2]
            email_codes = email.seen.codes | email.text.codes if sms_codes else set()
            if sms_codes and email_codes and sms_codes != email_codes:
                add(
                    "pair-offer-mismatch",
                    f"SMS offers {', '.join(sorted(sms_codes))}, the email {', '.join(sorted(email_codes))}",
                    "sms",
                )
            if score is not None:
                repeated = score(sms)
            else:
                repeated = _repeat_score(sms, pair.text, brand.name, similarity_threshold)
            if repeated is not None and repeated >= similarity_threshold:
                add(
                    "pair-repeats",
                    f"{repeated:.0%} of the SMS's phrases are copied from the email "
                    f"(threshold {similarity_threshold:.0%})",
                    "sms",
                )
    if market is not None:
        _market_checks(pair, market, brand, needles, email, add)
    if pair.locale is not None and pair.locale.fallback:
        out.append(
            Finding(
                "template-locale-fallback",
                m,
                v,
                f"customers with locale {pair.locale.locale} get {pair.locale.content_locale} "
                f"({pair.locale.path}): no translation of {m} in their language",
                f"{m}/",
                cid,
                None,
                pair.locale.locale,
                pair.market,
            )
        )
    return out


def _sms_rules(
    sms: str,
    a: SmsAnalysis | None,
    manifest: TemplateManifest,
    market: MarketRule | None,
    content: str,
    brand: Brand,
    max_sms_segments: int,
) -> tuple[list[tuple[str, str, str, str | None]], set[tuple[str, str]], set[str]]:
    """The rules that read the SMS alone: (rule, message, part, severity) of each finding, the SMS's links
    and its offer codes."""
    found: list[tuple[str, str, str, str | None]] = []

    def add(rule: str, message: str, part: str, severity: str | None = None) -> None:
        found.append((rule, message, part, severity))

    def need(element: str, channel: str) -> Any:
        if market is None:
            return None
        return next((r for r in market.required(channel) if r.element == element), None)

    first = manifest.sms_program_start and (market is None or need("program_disclosures", "sms") is not None)
    if first:
        missing = []
        if brand.sms_program_name.lower() not in sms.lower():
            missing.append(f"program name ({brand.sms_program_name})")
        if not _RATES.search(sms):
            missing.append("'Msg & data rates may apply'")
        if brand.sms_frequency.lower() not in sms.lower() and not _RECURRING.search(sms):
            missing.append(f"frequency ({brand.sms_frequency})")
        if not _HELP.search(sms):
            missing.append("HELP instructions")
        if missing:
            add("sms-first-message", "first message of the program lacks " + ", ".join(missing), "sms")
    if not _STOP_WORDING.search(sms):
        if first:
            add(
                "sms-opt-out",
                "the first message of the program has no opt-out wording (Reply STOP)",
                "sms",
                "error",
            )
        elif not manifest.transactional:
            rule = need("opt_out_instruction", "sms")
            law = rule is not None and rule.certainty == "law"
            where = f" ({rule.source})" if law else ""
            add("sms-opt-out", f"no opt-out wording (Reply STOP to opt out){where}", "sms", "error" if law else None)
    if brand.name.lower() not in sms.lower():
        add("sms-brand", f"the SMS does not name the brand {brand.name!r}", "sms")
    if a is not None and a.segments > max_sms_segments:
        add(
            "sms-segments",
            f"{a.segments} segments ({a.units} {'septets' if a.encoding == 'GSM-7' else 'units'}, "
            f"{a.encoding}); the limit is {max_sms_segments}",
            "sms",
        )
    if a is not None and a.non_gsm:
        accepted = _accepted_ucs2(manifest, content)
        note = f"; accepted in the manifest ({content}): {accepted}" if accepted else ""
        add("sms-non-gsm", _ucs2_message(a) + note, "sms", "info" if accepted else None)
    hit = _find_placeholder(sms)
    if hit:
        add("sms-placeholder", f"{hit.group(0)!r} left in the SMS", "sms")
    if _search_http(sms):
        add("sms-insecure-link", "the SMS links to an http:// URL", "sms")
    urls = {_url_key(u) for u in _URL.findall(sms)}
    if len(urls) > 1:
        add("pair-multiple-cta", f"the SMS has {len(urls)} links to different pages", "sms")
    return found, urls, set(_find_codes(sms))


def _accepted_ucs2(manifest: TemplateManifest, content: str) -> str | None:
    """The manifest's reason for accepting UCS-2 in the SMS of ``content`` (the locale, then its language)."""
    for tag in (content, language_of(content) or ""):
        entry = manifest.locales.get(tag)
        if entry is not None and entry.accept_ucs2:
            return entry.accept_ucs2
    return None


def _ucs2_message(a: SmsAnalysis) -> str:
    """Each character that forces UCS-2, its look-alike and count, and the segments that costs."""
    chars = []
    for c in a.non_gsm:
        count = a.text.count(c)
        times = f" x{count}" if count > 1 else ""
        chars.append(
            f"{c!r}{times} -> {a.replacements[c]!r}" if c in a.replacements else f"{c!r}{times} (no GSM look-alike)"
        )
    safe = analyze_sms(gsm_safe(a.text))
    if safe.encoding == "GSM-7":
        per = a.part_limit if a.segments > 1 else a.single_limit
        cost = (
            f"{a.segments} segment{'s' if a.segments != 1 else ''} in UCS-2 ({a.units} UTF-16 units, {per} a segment) "
            f"instead of {safe.segments} in GSM-7 with the look-alikes ({a.segments - safe.segments:+d} per send)"
        )
    else:
        cost = f"{a.segments} segment{'s' if a.segments != 1 else ''} in UCS-2; some characters have no GSM look-alike"
    return f"UCS-2 because of {', '.join(chars)}: {cost}"


_CONTACT = re.compile(r"https?://|@|\+?\d[\d .()-]{6,}\d")


def _in_body(needle: str, parts: tuple[str, str]) -> bool:
    """``needle in parts[0] + "\\n" + parts[1]``, without building the joined text."""
    if "\n" in needle:
        return needle in "\n".join(parts)
    return needle in parts[0] or needle in parts[1]


def _names_in(name: str, text: str, lowered: str) -> bool:
    """:func:`_names` of one body (``lowered`` is ``text.lower()``), for a name without a line break."""
    if "\u03a3" not in name and name in text:
        return True
    return name.lower() in lowered


def _names(name: str, parts: tuple[str, str]) -> bool:
    """``name.lower() in (parts[0] + "\\n" + parts[1]).lower()``, lowering the text only when needed.

    Lowering maps each character on its own except a capital sigma (its form depends on its
    neighbours, and a line break ends a word on both sides), so text holding the name as written
    holds it lowered too, and the lowered joined text is the two lowered texts joined.
    """
    if "\u03a3" not in name and _in_body(name, parts):
        return True
    return _in_body(name.lower(), (parts[0].lower(), parts[1].lower()))


def _market_checks(
    pair: PairedMessage, market: MarketRule, brand: Brand, needles: _Needles, email: _Email | None, add: Any
) -> None:
    """``market-required`` and ``market-language`` for the recipient's market.

    The postal address, the unsubscribe link and the SMS opt-out wording are the house rules every
    message follows (``email-postal-address``, ``email-unsubscribe``, ``sms-opt-out``); this checks the
    rest: the sender named in the email, contact details (CASL, Spam Act) and the market's language.
    """

    def report(rule: Any, what: str, part: str) -> None:
        severity = None if rule.certainty == "law" else "warning"
        add("market-required", f"market {market.name}: {what} ({rule.certainty}: {rule.source})", part, severity)

    if email is not None:
        if needles.joined:  # a needle with a line break can run from the HTML's visible text into the text body
            parts = (email.visible, pair.text)
            named = _names(needles.name, parts)
            contact = any(_in_body(c, parts) for c in needles.contacts)
        else:
            named = email.seen.names or email.text.names
            contact = email.seen.contact or email.text.contact
        for rule in market.required("email"):
            if rule.element == "sender_identity" and not named:
                report(rule, f"the email does not name the sender {brand.name!r}", "html")
            elif rule.element == "contact_details" and not contact:
                report(rule, "the email gives no phone number, email or web address to contact the sender", "html")
    if pair.sms is not None:
        for rule in market.required("sms"):
            if rule.element == "contact_details" and not _CONTACT.search(pair.sms):
                report(rule, "the SMS gives no web address (or phone or email) to contact the sender", "sms")
    if market.languages and pair.locale is not None:
        lang = language_of(pair.content_locale)
        if lang not in market.languages:
            add(
                "market-language",
                f"market {market.name} asks for {', '.join(market.languages)}; this customer ({pair.locale.locale}) "
                f"gets {pair.content_locale} ({market.languages_source})",
                "subject" if pair.html else "sms",
            )


# ---------------------------------------------------------------- samples and tables


_NON_LATIN = regex.compile(r"[^\p{Latin}\p{Zs}'\-.]")


def lint_sample(profiles: pd.DataFrame, *, n: int = 24, seed: int = 0) -> pd.DataFrame:
    """Real customers that stress templates: long and non-Latin names, missing optional fields, each tier.

    Parameters
    ----------
    profiles
        Profiles (one row per customer).
    n
        Customers to return (edge cases first, then a seeded random fill).
    seed
        Seed of the random fill.

    Returns
    -------
    pandas.DataFrame
        A subset of ``profiles`` rows, edge cases first.
    """
    if profiles.empty:
        return profiles
    picks: list[Any] = []

    def take(mask: pd.Series | None, k: int, *, order: pd.Series | None = None) -> None:
        # by index only: the profiles' rows (every column) are not copied for each mask
        index = profiles.index if mask is None else profiles.index[mask.fillna(False).astype(bool).to_numpy()]
        if order is not None:
            index = order.loc[index].sort_values(ascending=False, kind="stable").index
        for idx in index[: k * 3]:
            if idx not in picks and k > 0:
                picks.append(idx)
                k -= 1

    names = profiles["first_name"] if "first_name" in profiles else pd.Series(pd.NA, index=profiles.index)
    text = names.astype("string")
    take(text.notna(), 2, order=text.str.len().fillna(0))
    take(text.map(lambda s: bool(_NON_LATIN.search(s)) if isinstance(s, str) else False).astype(bool), 3)
    take(text.isna() | (text.str.strip() == ""), 2)
    for column in ("last_viewed_product", "last_order_at", "timezone", "loyalty_tier"):
        if column in profiles:
            take(profiles[column].isna(), 1)
            take(profiles[column].notna(), 1)
    if "loyalty_tier" in profiles:
        for tier in profiles["loyalty_tier"].dropna().unique():
            take(profiles["loyalty_tier"] == tier, 1)
    if "orders_total" in profiles:
        take(profiles["orders_total"] == 0, 1)
        take(profiles["orders_total"] > 3, 1)
    for column in ("locale", "country"):
        if column in profiles:
            for value in profiles[column].dropna().value_counts().index[:12]:
                take(profiles[column] == value, 1)
    picks = picks[:n]
    rest = profiles.index.difference(pd.Index(picks))
    fill = max(n - len(picks), 0)
    if fill and len(rest):
        picks += list(profiles.loc[rest].sample(min(fill, len(rest)), random_state=seed).index)
    return profiles.loc[picks]


_Groups = dict[tuple[str, ...], dict[str, Any]]
_EXAMPLES = 3


def _group(rows: Iterable[Finding], *, examples: int = _EXAMPLES) -> _Groups:
    """Findings grouped by rule, moment, variant, template and severity (first finding's row, count, ids)."""
    groups: _Groups = {}
    for f in rows:
        key = (
            f.rule,
            f.moment,
            f.variant,
            f.template,
            f.severity,
            f.locale,
            f.market if f.rule.startswith("market") else "",
        )
        g = groups.get(key)
        if g is None:
            g = groups[key] = {**f.to_dict(), "customers": 0, "ids": []}
        if f.customer_id:
            g["customers"] += 1
            if len(g["ids"]) < examples:
                g["ids"].append(f.customer_id)
    return groups


def _merge(into: _Groups, groups: _Groups, *, examples: int = _EXAMPLES) -> None:
    """Add the groups of a later chunk: the same groups as grouping both chunks' findings in order."""
    for key, g in groups.items():
        have = into.get(key)
        if have is None:
            into[key] = g
            continue
        have["customers"] += g["customers"]
        have["ids"].extend(g["ids"][: max(examples - len(have["ids"]), 0)])


def _aggregate(rows: Sequence[Finding], *, examples: int = _EXAMPLES) -> pd.DataFrame:
    return _frame(_group(rows, examples=examples))


def _frame(groups: _Groups) -> pd.DataFrame:
    records = []
    for g in groups.values():
        g["example_ids"] = ", ".join(g.pop("ids"))
        g.pop("customer_id", None)
        records.append(g)
    df = pd.DataFrame(records, columns=FINDING_COLUMNS)
    if df.empty:
        return df.astype({"customers": "int64"})
    order = {"error": 0, "warning": 1, "info": 2}
    df = df.sort_values(
        ["severity", "moment", "variant", "locale", "rule"],
        key=lambda s: s.map(order) if s.name == "severity" else s,
        kind="stable",
    )
    return df.reset_index(drop=True)


# ---------------------------------------------------------------- lint what pairs share once

_MAX_MEMO = 4096


class _PairOptions(TypedDict, total=False):
    """The options of :func:`lint_pair` besides the pair and the brand, as they are passed on."""

    max_sms_segments: int
    similarity_threshold: float
    max_subject: int
    max_preheader: int
    clip_bytes: int
    markets: Sequence[MarketRule] | None


class _LintMemo:
    """:func:`lint_pair` for the pairs of one renderer, reading what pairs share once.

    The email rules read a few things from each body (see :class:`_Links`, :class:`_Body`): from the
    HTML body's anchors and images, from its visible text and from the text body. Each is a function
    of that part alone, so it is kept per distinct part, and pairs share it:

    - the links, per HTML layout and the values written into its anchors and images;
    - the visible text, per HTML layout and the values written into its text;
    - the text body, per distinct text; and the share of an SMS's phrases found in it, per SMS.

    The SMS's own rules are kept per distinct SMS (see :func:`_lint_pair`); the subject, preheader and
    headers are read for each pair. The links and text bodies of most customers differ by their id
    alone, written as a query value (``?c=<id>``), so before they are compared, each ``=<id>`` is
    written ``=<sentinel>`` (a run of digits as long as the id) when the id is 1 to 64 ASCII letters
    and digits with at least one digit. That changes nothing the rules read:

    - the id, like the sentinel, is then part of a word with a digit in it that starts right after
      ``=``: no keyword a rule looks for (``nan``, ``None``, ``code``, ``http``, ``hi`` ...) can be
      that word or start inside it, no offer code or placeholder can run into it from before the ``=``,
      and the words around it and its length are the same;
    - a link starts with the unsubscribe URL or with ``http://`` as before: neither holds ``=``, so
      neither can reach past the ``=`` into the id;
    - the brand's strings (the unsubscribe, website and support URLs, the postal address, the reply-to
      address, the brand name in any case) are found at the same places as before: none holds ``=``,
      so none can start before the ``=`` and reach into the id, and ids that could hold the start of
      one (an end of the id or the sentinel is how it starts, or it is inside either) are compared as
      they are;
    - the share of an SMS's phrases found in the text body is the same when the SMS has neither the
      id (in any case) nor the sentinel: the words that changed are in none of its phrases;
    - what a finding quotes from a part (an image's ``src``, a page, a placeholder, a code) is read
      again from the customer's own part whenever it holds the sentinel.

    Brands whose strings hold ``=`` or a line break, and HTML bodies with no layout to read them from,
    are read from each pair's own bodies, as :func:`lint_pair` does.
    """

    def __init__(self, brand: Brand, **options: Unpack[_PairOptions]) -> None:
        self.brand = brand
        self.options = options
        self.threshold = options.get("similarity_threshold", 0.5)
        self.layouts: dict[int, _LayoutFacts] = {}
        self.links: dict[tuple[int, tuple[str, ...]], _Links] = {}
        self.seen: dict[tuple[int, tuple[str, ...]], _Body] = {}
        self.texts: dict[str, _Body] = {}
        self.scores: dict[tuple[str, str], float | None] = {}
        self.sms: dict[tuple[Any, ...], Any] = {}
        self.brand_needles = needles = _Needles.of(brand)
        # the brand's strings the rules look for in a text body, lowered (ids are compared lowered)
        self.words = [n.lower() for n in (needles.unsubscribe, needles.address, *needles.contacts, needles.name) if n]
        self.starts = {n[:k] for n in self.words for k in range(1, min(len(n), 64) + 1)}
        self.firsts = frozenset(n[0] for n in self.words)
        self.shortest = min((len(n) for n in self.words), default=0)
        self.sentinels: dict[str, bool] = {}
        # a string with no "=" cannot reach into an id from before it (the id always follows "=")
        self.shared = not needles.joined and not any("=" in n for n in self.words)

    def lint(self, pair: PairedMessage, layout: HtmlLayout | None = None) -> list[Finding]:
        """The findings of ``pair`` (``layout``: how its HTML body was put together, from the renderer)."""
        score = None
        email = None
        if pair.html:
            facts = self._facts(layout)
            if facts is None or layout is None or not self.shared or not facts.readable(layout.values):
                email = self._own(pair, facts, layout)
            else:
                email, score = self._email(pair, facts, layout.values)
        return _lint_pair(
            pair, email, brand=self.brand, needles=self.brand_needles, sms_memo=self.sms, score=score, **self.options
        )

    def _facts(self, layout: HtmlLayout | None) -> _LayoutFacts | None:
        if layout is None:
            return None
        found = self.layouts.get(id(layout.segments))
        if found is None:
            found = remember(self.layouts, id(layout.segments), _LayoutFacts(layout.segments), _MAX_MEMO)
        return found

    def _email(
        self, pair: PairedMessage, facts: _LayoutFacts, values: tuple[str, ...]
    ) -> tuple[_Email, Callable[[str], float | None]]:
        """The email's readings, shared with the pairs whose parts are the same but for the id, and the
        score of an SMS against its text body."""
        needles = self.brand_needles
        cid, text = pair.customer_id, pair.text
        sentinel = _sentinel(cid)
        mark = "=" + cid
        written = "=" + sentinel
        shared = values
        if sentinel and any(mark in values[k] for k in facts.tag_slots):
            shared = tuple([v.replace(mark, written) if mark in v else v for v in values])
        key = (id(facts.segments), tuple([shared[k] for k in facts.tag_slots]))
        links = self.links.get(key)
        if links is None:
            links = remember(self.links, key, _read_links(*facts.anchors_and_images(shared), needles), _MAX_MEMO)
        if shared is not values and links.quotes(sentinel):
            links = _read_links(*facts.anchors_and_images(values), needles)
        key = (id(facts.segments), tuple([values[k] for k in facts.text_slots]))
        seen = self.seen.get(key)
        if seen is None:
            seen = remember(self.seen, key, _read_body(facts.visible(values), needles), _MAX_MEMO)
        compared = text
        if sentinel and mark in text and self._apart(cid, sentinel):
            compared = text.replace(mark, written)
        body = self.texts.get(compared)
        if body is None:
            body = remember(self.texts, compared, _read_body(compared, needles), _MAX_MEMO)
        if compared is not text and body.quotes(sentinel):
            body = _read_body(text, needles)
        return _Email(links, seen, body, facts.size(values)), self._scorer(pair, compared, sentinel)

    def _scorer(self, pair: PairedMessage, compared: str, sentinel: str) -> Callable[[str], float | None]:
        """:func:`_repeat_score` of an SMS and the pair's text body, kept per SMS and text as compared."""
        text, threshold, name = pair.text, self.threshold, self.brand.name
        cid = pair.customer_id.lower()

        def score(sms: str) -> float | None:
            if compared is not text and (cid in sms.lower() or sentinel in sms):
                return _repeat_score(sms, text, name, threshold)
            key = (sms, compared)
            if key in self.scores:
                return self.scores[key]
            return remember(self.scores, key, _repeat_score(sms, compared, name, threshold), _MAX_MEMO)

        return score

    def _own(self, pair: PairedMessage, facts: _LayoutFacts | None, layout: HtmlLayout | None) -> _Email:
        """The email's readings from this pair's own bodies (its HTML body from its layout when readable)."""
        found = facts.facts(layout.values) if facts is not None and layout is not None else None
        return _read_email(pair.html, pair.text, self.brand_needles, found)

    def _apart(self, cid: str, sentinel: str) -> bool:
        """Whether no brand string can start inside the id or the sentinel, in any text and in any case: none
        is in either, and no end of either is how one starts. (None holds ``=``, so none can start before
        the id's ``=`` and reach into it: the brand's strings are found at the same places with and
        without the id.)"""
        verdict = self.sentinels.get(sentinel)
        if verdict is None:
            verdict = self.sentinels[sentinel] = self._clear(sentinel)
        return verdict and self._clear(cid.lower())

    def _clear(self, word: str) -> bool:
        firsts = self.firsts
        if firsts.isdisjoint(word):
            return True  # nothing can start in it
        starts = self.starts
        if any(c in firsts and word[i:] in starts for i, c in enumerate(word)):
            return False
        return len(word) < self.shortest or not any(n in word for n in self.words)


def _sentinel(cid: str) -> str:
    """What ``=<id>`` is written as before parts are compared (see :class:`_LintMemo`), or ``""`` when the
    id cannot be replaced: not 1 to 64 ASCII letters and digits with at least one digit."""
    # ASCII, letters and digits only, and not letters only
    if not 0 < len(cid) <= 64 or not cid.isascii() or not cid.isalnum() or cid.isalpha():
        return ""
    return ("0" * len(cid)) if cid != "0" * len(cid) else ("1" * len(cid))


def _rendered(
    renderer: Renderer, moment: str, customer: Mapping[str, Any], *, variant: str | None, promotion: str | None
) -> tuple[PairedMessage, HtmlLayout | None] | Finding:
    """One pair for a clean customer context and its HTML layout, or the ``template-render`` finding of a
    template that cannot be rendered (``variant`` None is the default ``"A"``, as in
    :meth:`Renderer.render_pair`)."""
    try:
        return renderer.render_pair_layout(moment, customer, variant=variant, promotion=promotion, clean=True)
    except TemplateError as exc:
        return Finding(
            "template-render",
            moment,
            variant or "A",
            str(exc),
            getattr(exc, "template", ""),
            str(customer.get("customer_id", "")),
        )


def _render_and_lint(
    renderer: Renderer,
    moment: str,
    customer: Mapping[str, Any],
    *,
    variant: str | None,
    promotion: str | None,
    brand: Brand,
    memo: _LintMemo | None = None,
    **options: Unpack[_PairOptions],
) -> tuple[bool, list[Finding]]:
    """Render one pair for a clean customer context and lint it: whether it rendered, and the findings.

    A template that cannot be rendered is one ``template-render`` finding (``variant`` None is the
    default ``"A"``, as in :meth:`Renderer.render_pair`). ``memo`` (made for the same brand and
    options) reads what pairs share once (see :class:`_LintMemo`).
    """
    rendered = _rendered(renderer, moment, customer, variant=variant, promotion=promotion)
    if isinstance(rendered, Finding):
        return False, [rendered]
    pair, layout = rendered
    if memo is not None:
        return True, memo.lint(pair, layout)
    options.setdefault("markets", renderer.strategy.policy.markets)
    return True, lint_pair(pair, brand=brand, **options)


def target_locales(profiles: pd.DataFrame, renderer: Renderer) -> list[str]:
    """The locales a library is checked in: the brand's (its default and ``brand.locales``), the profiles'
    own (most common first), and the locale of any translation folder in a language none of those speaks."""
    out = [renderer.default_locale, *renderer.strategy.brand.locales]
    if "locale" in profiles:
        out.extend(str(v) for v in profiles["locale"].dropna().value_counts().index)
    tags = list(dict.fromkeys(t for t in (canonical_locale(x) for x in out) if t))
    spoken = {language_of(t) for t in tags}
    for moment in renderer.library:  # a translation no customer or brand locale speaks is still checked
        for tag in renderer.translations(moment):
            if language_of(tag) not in spoken:
                tags.append(tag)
                spoken.add(language_of(tag))
    return tags


def _locale_sample(profiles: pd.DataFrame, sample: pd.DataFrame, locale: str, *, n: int, seed: int) -> pd.DataFrame:
    """Customers of one locale: real ones when the profiles have some, else the sample speaking that locale."""
    if "locale" in profiles:
        own = profiles[(profiles["locale"] == locale).fillna(False).astype(bool)]
        if len(own):
            return lint_sample(own, n=n, seed=seed)
    return sample.head(n).assign(locale=locale)


def lint_library(
    profiles: pd.DataFrame,
    *,
    strategy: Strategy,
    templates_dir: str | os.PathLike[str] | None = None,
    moments: Sequence[str] | None = None,
    sample_customers: int = 24,
    seed: int = 0,
    promotion: str | None = None,
    max_sms_segments: int = 2,
    similarity_threshold: float = 0.5,
    renderer: Renderer | None = None,
    locale_customers: int = 6,
) -> pd.DataFrame:
    """Lint every template, variant and translation of the library, rendered for a sample of real customers.

    Parameters
    ----------
    profiles
        Profiles to sample from (see :func:`lint_sample`); all of them when there are fewer.
    strategy
        Brand facts, the brand's locales and the market rules of the contact policy.
    templates_dir
        The library to lint (default: the repository's ``templates/``).
    moments
        Moments to lint (default: all).
    sample_customers, seed
        Size and seed of the customer sample.
    promotion
        A current promotion code to render with (default: each manifest's ``default_offer``).
    max_sms_segments, similarity_threshold
        Limits of the SMS and pair rules (see :func:`lint_pair`).
    renderer
        A prepared renderer (else one is built for ``strategy`` and ``templates_dir``).
    locale_customers
        Customers rendered per locale of :func:`target_locales` on top of the sample (real customers of
        that locale when the profiles have some, else sampled customers given that locale).

    Returns
    -------
    pandas.DataFrame
        Columns ``rule, severity, channel, moment, variant, locale, market, template, message, fix,
        customers, example_ids``: one row per rule, moment, variant, locale and template (errors first).
        Empty when clean. ``attrs["sms_cost"]`` holds the cost of each SMS template per locale over the
        sampled customers (:func:`sms_cost`), ``attrs["sms_characters"]`` each character that forces
        UCS-2 per locale (:func:`sms_characters`), ``attrs["translations"]`` which translation each
        locale gets per moment (:func:`translation_table`).
    """
    renderer = renderer or Renderer(strategy, templates_dir=templates_dir)
    sample = lint_sample(profiles, n=sample_customers, seed=seed)
    locales = target_locales(profiles, renderer)
    groups = [sample] + [
        _locale_sample(profiles, sample, tag, n=locale_customers, seed=seed) for tag in locales if locale_customers
    ]
    everyone = pd.concat(groups, ignore_index=True) if len(groups) > 1 else sample
    records = [customer_context(r) for r in everyone.to_dict("records")]
    findings: list[Finding] = []
    wanted = list(moments) if moments is not None else list(renderer.library)
    options: _PairOptions = {
        "max_sms_segments": max_sms_segments,
        "similarity_threshold": similarity_threshold,
        "markets": strategy.policy.markets,
    }
    for moment in wanted:
        manifest = renderer.manifest(moment)
        findings += lint_manifest(manifest, profile_columns=profiles.columns)
        findings += lint_translations(renderer, moment)
        for variant in manifest.variants:
            for customer in records:
                findings += _render_and_lint(
                    renderer, moment, customer, variant=variant, promotion=promotion, brand=strategy.brand, **options
                )[1]
    out = _aggregate(findings)
    steps = [
        (m, v, promotion)
        for m in wanted
        if "sms" in renderer.manifest(m).channels
        for v in renderer.manifest(m).variants
    ]
    out.attrs["sms_cost"] = sms_cost(everyone, renderer=renderer, steps=steps)
    out.attrs["sms_characters"] = sms_characters(everyone, renderer=renderer, steps=steps)
    out.attrs["translations"] = translation_table(renderer, locales, moments=wanted)
    return out


SMS_COST_COLUMNS = ["moment", "variant", "locale", "offer", "customers", "one_segment_share", "segments_per_1000"]


def _sms_texts(
    profiles: pd.DataFrame, renderer: Renderer, steps: Sequence[tuple[str, str, str | None]] | None
) -> Iterator[tuple[str, str, str | None, str, SmsAnalysis]]:
    """Each SMS of each step rendered for each customer: moment, variant, offer, content locale, analysis."""
    if steps is None:
        steps = [
            (m, v, None)
            for m, manifest in renderer.library.items()
            if "sms" in manifest.channels
            for v in manifest.variants
        ]
    records = [customer_context(r) for r in profiles.to_dict("records")]
    for moment, variant, offer in steps:
        for customer in records:
            try:
                ctx = renderer.context(moment, customer, variant=variant, promotion=offer, clean=True)
                resolution = ctx.pop("resolution")
                template = renderer.templates(moment, variant, resolution.locale).get("sms")
                if template is None:
                    continue
                ctx["channel"] = "sms"
                text = _tidy_sms(renderer._render(template, ctx))
            except TemplateError:
                continue
            yield moment, variant, offer, resolution.content_locale, analyze_sms(text)


def sms_cost(
    profiles: pd.DataFrame,
    *,
    renderer: Renderer,
    steps: Sequence[tuple[str, str, str | None]] | None = None,
    by_locale: bool = True,
) -> pd.DataFrame:
    """The cost of each SMS template, per locale it is written in, in segments per 1,000 sends.

    Parameters
    ----------
    profiles
        The customers to render for (one row each; each gets the translation of their locale).
    renderer
        A prepared renderer (its library and brand).
    steps
        ``(moment, variant, offer)`` to cost; default every SMS moment and variant of the library with
        its default offer. An offer of ``""`` renders without an offer.
    by_locale
        One row per locale the SMS is written in (default); False: one row per step over every locale
        (``locale`` is ``*``), what a send to the whole audience costs.

    Returns
    -------
    pandas.DataFrame
        Columns ``moment, variant, locale`` (the locale the SMS was written in), ``offer, customers,
        one_segment_share`` (share of customers whose SMS fits one segment) and ``segments_per_1000``
        (mean segments per send times 1,000, what a provider bills per 1,000 texts). A template that
        cannot be rendered for a customer is left out of that customer's count.
    """
    segments: dict[tuple[str, str, str, str | None], list[int]] = {}
    for moment, variant, offer, locale, a in _sms_texts(profiles, renderer, steps):
        segments.setdefault((moment, variant, locale if by_locale else "*", offer), []).append(a.segments)
    rows = []
    for (moment, variant, locale, offer), segs in segments.items():
        n = len(segs)
        rows.append(
            {
                "moment": moment,
                "variant": variant,
                "locale": locale,
                "offer": offer if offer is not None else renderer.manifest(moment).default_offer,
                "customers": n,
                "one_segment_share": round(sum(x == 1 for x in segs) / n, 4),
                "segments_per_1000": round(1000 * sum(segs) / n, 1),
            }
        )
    return pd.DataFrame(rows, columns=SMS_COST_COLUMNS)


SMS_CHARACTER_COLUMNS = [
    "moment",
    "variant",
    "locale",
    "character",
    "replacement",
    "occurrences",
    "customers",
    "segments_ucs2",
    "segments_gsm",
    "extra_segments_per_1000",
    "accepted",
]


def sms_characters(
    profiles: pd.DataFrame,
    *,
    renderer: Renderer,
    steps: Sequence[tuple[str, str, str | None]] | None = None,
) -> pd.DataFrame:
    """Each character that switches an SMS to UCS-2, per moment, variant and locale, with what it costs.

    Returns
    -------
    pandas.DataFrame
        ``character`` and its GSM look-alike (``replacement``, empty when there is none), how often it
        appears per message (``occurrences``, the most seen) and for how many customers, the mean segments
        as written (``segments_ucs2``) and with every look-alike applied (``segments_gsm``), the extra
        segments per 1,000 sends that costs, and the manifest's reason when the locale accepts UCS-2.
    """
    found: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for moment, variant, _offer, locale, a in _sms_texts(profiles, renderer, steps):
        if not a.non_gsm:
            continue
        safe = analyze_sms(gsm_safe(a.text)).segments
        for c in a.non_gsm:
            row = found.setdefault(
                (moment, variant, locale, c),
                {"occurrences": 0, "customers": 0, "ucs2": 0, "gsm": 0},
            )
            row["occurrences"] = max(row["occurrences"], a.text.count(c))
            row["customers"] += 1
            row["ucs2"] += a.segments
            row["gsm"] += safe
    rows = []
    for (moment, variant, locale, c), row in found.items():
        n = row["customers"]
        rows.append(
            {
                "moment": moment,
                "variant": variant,
                "locale": locale,
                "character": c,
                "replacement": GSM_REPLACEMENTS.get(c, ""),
                "occurrences": row["occurrences"],
                "customers": n,
                "segments_ucs2": round(row["ucs2"] / n, 2),
                "segments_gsm": round(row["gsm"] / n, 2),
                "extra_segments_per_1000": round(1000 * (row["ucs2"] - row["gsm"]) / n, 1),
                "accepted": _accepted_ucs2(renderer.manifest(moment), locale) or "",
            }
        )
    return pd.DataFrame(rows, columns=SMS_CHARACTER_COLUMNS)


def lint_exit_code(findings: pd.DataFrame) -> int:
    """1 when any finding is an error (export must stop), else 0."""
    return int(bool((findings["severity"] == "error").any())) if len(findings) else 0


# ---------------------------------------------------------------- bulk (chunked, multi-process)

_WORKER: dict[str, Any] = {}
#: Customers rendered before their pairs are linted, in :func:`_lint_chunk`.
_BATCH = 64
_POOL: dict[str, Any] = {}
_CALLS = [0]


def _init_worker(strategy_json: str, templates_dir: str | None, options: Mapping[str, Any]) -> None:
    strategy = Strategy.model_validate_json(strategy_json)
    _WORKER["renderer"] = Renderer(strategy, templates_dir=templates_dir)
    _WORKER["strategy"] = strategy
    _WORKER["options"] = dict(options)
    _WORKER["key"] = (strategy_json, templates_dir, tuple(sorted(options.items())))


def _ensure_worker(strategy_json: str, templates_dir: str | None, options: Mapping[str, Any]) -> None:
    """Set up this process's renderer unless it already serves the same strategy, library and options."""
    if _WORKER.get("key") != (strategy_json, templates_dir, tuple(sorted(options.items()))):
        _init_worker(strategy_json, templates_dir, options)


def _lint_chunk(
    chunk: pd.DataFrame, moments: Sequence[str], variant: str | None, promotion: str | None, call: str = ""
) -> tuple[int, _Groups]:
    """Render, analyse and lint one chunk of profiles; returns the pairs rendered and the grouped findings.

    Chunks of one :func:`lint_audience` call (``call``) share one lint memo per process. What is alive when the
    chunk starts, and after each batch of customers, is left out of the garbage collector's passes while it runs
    (:func:`~.memo.heap_set_aside`).
    """
    renderer: Renderer = _WORKER["renderer"]
    brand = _WORKER["strategy"].brand
    if _WORKER.get("call") != call or "memo" not in _WORKER:
        markets = _WORKER["strategy"].policy.markets
        _WORKER["memo"], _WORKER["call"] = _LintMemo(brand, markets=markets, **_WORKER["options"]), call
    memo: _LintMemo = _WORKER["memo"]
    findings: list[Finding] = []
    rendered = 0
    with heap_set_aside() as settle:
        customers = [customer_context(r) for r in chunk.to_dict("records")]
        for start in range(0, len(customers), _BATCH):
            # A batch is rendered, then linted: the renderer's and the lint's code and memos each stay warm
            # over the batch instead of taking turns for every pair. The findings come in the same order.
            pairs = [
                _rendered(renderer, moment, customer, variant=variant, promotion=promotion)
                for customer in customers[start : start + _BATCH]
                for moment in moments
            ]
            for done in pairs:
                if isinstance(done, Finding):
                    findings.append(done)
                else:
                    rendered += 1
                    findings += memo.lint(*done)
            del pairs
            settle()  # what the memos kept so far is left out of the next batches' collections
    return rendered, _group(findings)


def _shutdown_pool() -> None:
    pool = _POOL.pop("pool", None)
    _POOL.clear()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _pool(workers: int, initargs: tuple[Any, ...]) -> Any:
    """A process pool of ``workers`` processes whose renderers are ready, kept warm between calls."""
    import atexit
    import concurrent.futures as cf
    import multiprocessing as mp

    key = (workers, initargs)
    if _POOL.get("key") == key:
        return _POOL["pool"]
    _shutdown_pool()
    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    pool = cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=initargs)
    if not _POOL.get("atexit"):
        atexit.register(_shutdown_pool)
    _POOL.update(pool=pool, key=key, atexit=True)
    return pool


def lint_audience(
    profiles: pd.DataFrame,
    *,
    strategy: Strategy,
    moments: Sequence[str] | None = None,
    variant: str | None = None,
    promotion: str | None = None,
    templates_dir: str | os.PathLike[str] | None = None,
    chunk_size: int = 2000,
    workers: int = 1,
    progress: bool = False,
    max_sms_segments: int = 2,
    similarity_threshold: float = 0.5,
) -> pd.DataFrame:
    """Render, analyse and lint every customer of an audience, chunk by chunk (memory flat in its size).

    Each chunk of ``chunk_size`` profiles is rendered for each moment, its SMS analysed and every pair
    linted; only grouped findings leave the chunk, so bodies and findings never accumulate. Chunks
    carry only the profile columns the templates read. ``workers > 1`` spreads chunks over processes
    (templates compile once per process; the pool stays warm for the next call with the same
    strategy and library). ``progress=True`` shows a progress bar.

    Returns
    -------
    pandas.DataFrame
        The aggregated findings (same columns as :func:`lint_library`); ``attrs["rendered"]`` holds the
        number of pairs rendered.
    """
    from tqdm.auto import tqdm

    folder = str(templates_dir) if templates_dir is not None else None
    options = {"max_sms_segments": max_sms_segments, "similarity_threshold": similarity_threshold}
    strategy_json = strategy.model_dump_json()
    _ensure_worker(strategy_json, folder, options)
    _CALLS[0] += 1
    call = f"{os.getpid()}:{_CALLS[0]}"  # each call lints its own pairs afresh (the memo is per call)
    moments = list(_WORKER["renderer"].library if moments is None else moments)
    used = _WORKER["renderer"].customer_columns(moments, variant)
    keep = [i for i, c in enumerate(profiles.columns) if used is None or c in used]
    total = len(profiles)
    starts = range(0, total, chunk_size)
    groups: _Groups = {}
    rendered = 0
    with tqdm(total=total, disable=not progress, desc="render + lint", unit="customer") as bar:

        def collect(result: tuple[int, _Groups], size: int) -> None:
            nonlocal rendered
            rendered += result[0]
            _merge(groups, result[1])
            bar.update(size)

        if workers <= 1:
            for start in starts:
                chunk = profiles.iloc[start : start + chunk_size, keep]
                collect(_lint_chunk(chunk, moments, variant, promotion, call), len(chunk))
        else:
            import concurrent.futures as cf

            pool = _pool(workers, (strategy_json, folder, options))
            try:
                # Results are merged in chunk order (the same findings and examples as one process).
                pending: list[tuple[cf.Future[tuple[int, _Groups]], int]] = []
                for start in starts:
                    chunk = profiles.iloc[start : start + chunk_size, keep]
                    pending.append((pool.submit(_lint_chunk, chunk, moments, variant, promotion, call), len(chunk)))
                    while len(pending) > 2 * workers or (pending and pending[0][0].done()):
                        fut, size = pending.pop(0)
                        collect(fut.result(), size)
                for fut, size in pending:
                    collect(fut.result(), size)
            except BaseException:
                _shutdown_pool()
                raise
    out = _frame(groups)
    out.attrs["rendered"] = rendered
    return out
