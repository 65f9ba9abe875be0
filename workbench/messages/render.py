"""Render paired messages: one sandboxed Jinja environment, profile-driven context, filters.

Templates live in the template library (see :mod:`workbench.messages.library`). The environment is
the workbench's immutable sandbox (:class:`~workbench.messages.sandbox.TemplateSandbox`: no template
can change shared data, reach Python internals, read files outside the template folder, or run past
the render time and output size limits) with :class:`jinja2.StrictUndefined` (a missing variable
fails instead of printing nothing) and HTML autoescape for ``*.html.j2`` files only: subject,
preheader, text and SMS bodies are plain text and are not HTML-escaped. Each render gets its own
context; the brand facts and customer values in it are read-only (:func:`~.sandbox.freeze`).
Templates are compiled once per renderer and reused for every customer.

Each pair is rendered in the customer's language: the renderer walks the customer's fallback chain
(``fr-CA``, ``fr``, then the brand's default; see :mod:`workbench.locales`) and takes the first
language whose locale folders hold every part of the moment (see :mod:`workbench.messages.library`).
Amounts, dates and plural forms are written by Babel in the customer's locale (in the content's
locale when the customer's language has no translation), amounts in the customer's currency (their
latest order's, see :func:`workbench.locales.resolve_currencies`).

Filters available to templates:

``money(amount, currency=None)``
    ``12.5 | money`` -> ``$12.50`` for en-US in USD, ``12,50 $`` for fr-CA in CAD, ``£12.50`` for en-GB.
``local_date(ts, style="medium")``
    A timestamp in the recipient's own time zone (``customer.timezone``) and locale: short ``Oct 2`` /
    ``2 oct.``, medium ``Oct 2, 2026`` / ``02.10.2026``, long ``Friday, October 2, 2026``.
``local_time(ts)``
    The time of day in the recipient's zone and locale (``3:30 PM``, ``15 h 30``).
``number(x)``, ``plural(n, one=..., other=...)``
    A number with the locale's separators; the CLDR plural form of ``n`` (``#`` is the number).
``first_name(name, fallback="there")``
    The first name, or the fallback when it is missing, blank or too long; in an SMS, a name
    that cannot be written in GSM-7 falls back too, so a name never doubles the SMS cost.
``track(path)``
    An absolute https link on the brand website with the strategy's tracking parameters
    (``{channel}``, ``{moment}`` and ``{variant}`` filled in).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import jinja2
import jinja2.meta
import numpy as np
import pandas as pd
from jinja2 import StrictUndefined, nodes, pass_context, select_autoescape
from jinja2.exceptions import (
    SecurityError,
    TemplateNotFound,
    TemplateRuntimeError,
    TemplateSyntaxError,
    UndefinedError,
)
from markupsafe import escape

if TYPE_CHECKING:
    import css_inline

from ..locales import canonical_locale, language_of, locale_chain
from ..models.errors import StrategyError, TemplateError
from ..models.policy import MarketRule
from ..models.strategy import Brand, Strategy
from .formatting import local_date, local_time, money, number, plural, zone
from .library import TemplateManifest, default_templates_dir, fill_fields, load_library, translations
from .memo import remember
from .sandbox import (
    MAX_OUTPUT_CHARS,
    MAX_RENDER_SECONDS,
    FolderLoader,
    FrozenDict,
    TemplateLimit,
    TemplateOutsideFolder,
    TemplateSandbox,
    freeze,
    render_chunks,
)
from .sms import SmsAnalysis, analyze_sms, gsm_safe, is_gsm

__all__ = [
    "PART_FILES",
    "HtmlLayout",
    "LocaleResolution",
    "PairedMessage",
    "Renderer",
    "brand_context",
    "customer_context",
    "get_renderer",
    "iter_pairs",
    "render_pair",
]

#: Template file names of each part of a pair, per moment folder (``name.<variant>.ext`` overrides).
PART_FILES: dict[str, str] = {
    "subject": "subject.txt.j2",
    "preheader": "preheader.txt.j2",
    "html": "email.html.j2",
    "text": "email.txt.j2",
    "sms": "sms.txt.j2",
}
#: The shared header template declaring the one-click unsubscribe headers (RFC 8058).
HEADERS_FILE = "_base/headers.txt.j2"

_MAX_NAME = 30
_TEXT_OR_NONE = frozenset({str, type(None)})


@dataclass(frozen=True, slots=True)
class LocaleResolution:
    """Which language a customer's pair is written in, and why.

    Attributes
    ----------
    locale : str
        The customer's locale (stated, market or brand).
    chain : tuple of str
        The locales tried, in order (``fr-CA``, ``fr``, ``en-US``, ``en``).
    content_locale : str
        The locale of the content used: the most specific locale folder that gave a part, or the
        brand's default for the files at the moment folder's root.
    format_locale : str
        The locale amounts and dates are written in: the customer's when the content is in their
        language, else the content's.
    files : dict of str to str
        The locale each part came from (``""``: the moment folder's root).
    fallback : bool
        The customer's language has no (complete) translation: they get another language.
    incomplete : dict of str to tuple of str
        Locale folders of the chain skipped because parts are missing, with the missing parts.
    names : dict of str to str
        The template file of each part.
    """

    locale: str
    chain: tuple[str, ...]
    content_locale: str
    format_locale: str
    files: dict[str, str]
    fallback: bool
    incomplete: dict[str, tuple[str, ...]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The chain as people read it, ending at the content used: ``it-IT → it → en-US``."""
        shown = []
        for tag in self.chain:
            shown.append(tag)
            if tag == self.content_locale:
                break
        return " → ".join(shown)


@dataclass(frozen=True, slots=True)
class PairedMessage:
    """One customer's email and SMS for one moment and variant.

    Attributes
    ----------
    moment, variant, customer_id : str
    subject, preheader, html, text : str
        The email: subject line, hidden preheader, HTML body (CSS inlined) and plain-text body.
    sms : str or None
        The SMS body (``None`` when the moment has no SMS).
    sms_analysis : SmsAnalysis or None
        Encoding, units and segments of the SMS.
    headers : dict of str to str
        Email headers the template library declares (``List-Unsubscribe``, ``List-Unsubscribe-Post``).
    offer : str or None
        The offer code the pair promotes.
    landing_path : str
        The landing page both channels should link to.
    manifest : TemplateManifest
    templates : dict of str to str
        Template file used for each part (for lint messages).
    """

    moment: str
    variant: str
    customer_id: str
    subject: str
    preheader: str
    html: str
    text: str
    sms: str | None
    sms_analysis: SmsAnalysis | None
    headers: dict[str, str]
    offer: str | None
    landing_path: str
    manifest: TemplateManifest
    templates: dict[str, str] = field(default_factory=dict)
    locale: LocaleResolution | None = None
    market: str = ""
    currency: str = ""

    @property
    def content_locale(self) -> str:
        """The locale the pair is written in (``""`` when unknown)."""
        return self.locale.content_locale if self.locale is not None else ""

    @property
    def html_bytes(self) -> int:
        """Size of the HTML body in bytes (UTF-8), as Gmail counts it before clipping."""
        return len(self.html.encode("utf-8"))


# ---------------------------------------------------------------- context


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return value is pd.NA or value is pd.NaT


#: Value types that cannot change, passed to templates as they are (anything else goes through ``freeze``).
_SCALARS = frozenset(
    {str, int, float, bool, type(None), pd.Timestamp, dt.datetime, dt.date, decimal.Decimal, np.int64, np.float64}
    | {np.bool_, np.int32, np.float32}
)


def customer_context(customer: Mapping[str, Any]) -> FrozenDict:
    """A profile row as a read-only dict for templates: missing values (NaN, NA, NaT) become ``None``.

    Lists, dicts and arrays in the row become tuples and read-only dicts, so no template can change
    a value that the next message reads.

    Parameters
    ----------
    customer
        A profile row: a mapping or a :class:`pandas.Series` from ``build_profiles``.
    """
    items = customer.items() if hasattr(customer, "items") else dict(customer).items()
    out: dict[str, Any] = {}
    for key, value in items:
        if _is_missing(value):
            out[str(key)] = None
        else:
            out[str(key)] = value if type(value) in _SCALARS else freeze(value)
    if out.get("customer_id") is not None:
        out["customer_id"] = str(out["customer_id"])
    return FrozenDict(out)


def brand_context(brand: Brand) -> dict[str, Any]:
    """The brand facts as plain strings for templates (URLs without a trailing slash)."""
    data = brand.model_dump(mode="json")
    for key in ("website_url", "unsubscribe_url", "preferences_url", "support_url"):
        if data.get(key):
            data[key] = str(data[key]).rstrip("/")
    return data


# ---------------------------------------------------------------- filters


def clean_first_name(value: object, fallback: str = "there", *, gsm: bool = False) -> str:
    """The first name to greet with, or ``fallback`` when it is missing, blank or over 30 characters.

    With ``gsm=True`` (an SMS) look-alike replacements are applied and a name that still needs UCS-2
    (e.g. a name in Chinese or Cyrillic script) falls back too, so a name never doubles the SMS cost.
    """
    if _is_missing(value):
        return fallback
    name = " ".join(str(value).split())
    if not name or len(name) > _MAX_NAME:
        return fallback
    if gsm:
        name = gsm_safe(name)
        if not is_gsm(name):
            return fallback
    return name


# ---------------------------------------------------------------- errors


_UNDEFINED_PATTERNS = (
    re.compile(r"'([^']+)' is undefined"),
    re.compile(r"has no attribute '([^']+)'"),
    re.compile(r"has no element '?([^']+)'?"),
)


def _template_error(exc: Exception, files: Mapping[str, str], fallback: str) -> TemplateError:
    """Turn a Jinja error into a TemplateError naming the template, the line and the variable."""
    template, line = fallback, None
    if isinstance(exc, TemplateSyntaxError) and exc.lineno:
        template = exc.name or exc.filename or fallback
        line = exc.lineno
    tb = exc.__traceback__
    while tb is not None:
        name = files.get(tb.tb_frame.f_code.co_filename)
        if name is not None:
            template, line = name, tb.tb_lineno
        tb = tb.tb_next
    where = f"{template} line {line}" if line else template
    text = str(exc)
    if isinstance(exc, TemplateLimit):
        err = TemplateError(f"{where}: {exc.problem}. Fix: {exc.fix}")
        err.template, err.line, err.limit = template, line, exc.kind  # type: ignore[attr-defined]
        return err
    if isinstance(exc, TemplateOutsideFolder):
        err = TemplateError(
            f"{where}: {exc} ({exc.root}). Fix: keep every template inside the template folder and name it by "
            "its path there, e.g. _base/blocks/cta.html.j2 (a symlink counts where it points)"
        )
        err.template, err.line = template, line  # type: ignore[attr-defined]
        return err
    if isinstance(exc, SecurityError):
        err = TemplateError(
            f"{where}: refused by the sandbox ({text.rstrip('.')}). Fix: templates may only read the message "
            "context (customer, brand, offer, product, links) and use the workbench filters: they cannot change "
            "it (update, append, pop, setdefault ...) or reach Python internals"
        )
        err.template, err.line = template, line  # type: ignore[attr-defined]
        return err
    if isinstance(exc, UndefinedError):
        variable = None
        for pattern in _UNDEFINED_PATTERNS:
            m = pattern.search(text)
            if m:
                variable = m.group(1)
                break
        variable = variable or text
        source_line = _source_line(files, template, line)
        if source_line:
            m = re.search(r"([A-Za-z_][\w.]*)\.\s*" + re.escape(variable) + r"\b", source_line)
            if m:
                variable = f"{m.group(1)}.{variable}"
        err = TemplateError(
            f"{where}: variable {variable!r} is undefined. Fix: add it to the profile (and to the manifest's "
            "required_variables), or give a fallback such as `{{ x | default('') }}` / `{% if x %}`"
        )
        err.template, err.line, err.variable = template, line, variable  # type: ignore[attr-defined]
        return err
    if isinstance(exc, TemplateSyntaxError):
        err = TemplateError(f"{where}: template syntax error: {exc.message}. Fix: correct the Jinja syntax")
    elif isinstance(exc, TemplateRuntimeError) and "non-namespace" in text:
        err = TemplateError(
            f"{where}: refused: a template may set attributes only on its own namespace(), not on the message "
            "context. Fix: copy the value into a variable ({% set name = brand.name | upper %}) or a "
            "namespace ({% set ns = namespace(total=0) %}{% set ns.total = 1 %})"
        )
    elif isinstance(exc, TemplateNotFound):
        err = TemplateError(
            f"{where}: template {exc.name!r} not found in the template folder. Fix: add the file or correct the name"
        )
    else:
        err = TemplateError(f"{where}: {type(exc).__name__}: {text}. Fix: check the template and the profile values")
    err.template, err.line = template, line  # type: ignore[attr-defined]
    return err


def _source_line(files: Mapping[str, str], template: str, line: int | None) -> str | None:
    if not line:
        return None
    for path, name in files.items():
        if name == template:
            try:
                return Path(path).read_text(encoding="utf-8").splitlines()[line - 1]
            except (OSError, IndexError):
                return None
    return None


# ---------------------------------------------------------------- environment


class SharedCompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates shared by every environment of the same configuration in this process.

    Each renderer (one per export target, the previewer, the lint) has its own environment, and each
    compiled the whole library again. Jinja's compiled code depends on the template's source, its name
    and file, and on settings of the environment read at compile time (its class and sandbox guards,
    autoescape for that name, ``finalize``, the filters and tests and the context each asks for, the
    operators the sandbox intercepts, the syntax options); the key holds all of them, so an environment
    only reuses code it would have compiled itself. Code objects are immutable: nothing a render does
    is shared. The cache is bounded.
    """

    MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self._code: dict[str, Any] = {}  # by the repr of the key: names, flags and checksums only
        self._lock = threading.Lock()

    @staticmethod
    def signature(environment: jinja2.Environment, name: str, filename: str | None) -> tuple[object, ...]:
        """What the compiled code of ``name`` depends on besides its source."""
        autoescape = environment.autoescape(name) if callable(environment.autoescape) else environment.autoescape
        finalize = environment.finalize
        # a finalize that takes no context is also called at compile time on constant output: never shared
        finalize_key: object = None
        if finalize is not None:
            passes = _passes(finalize)
            finalize_key = (passes, finalize.__qualname__) if passes != "None" else ("own", id(finalize))
        syntax = tuple(
            getattr(environment, option)
            for option in (
                "block_start_string",
                "block_end_string",
                "variable_start_string",
                "variable_end_string",
                "comment_start_string",
                "comment_end_string",
                "line_statement_prefix",
                "line_comment_prefix",
                "trim_blocks",
                "lstrip_blocks",
                "newline_sequence",
                "keep_trailing_newline",
                "optimized",
                "is_async",
                "sandboxed",
            )
        )
        intercepted = tuple(
            tuple(sorted(getattr(environment, name, ()))) for name in ("intercepted_binops", "intercepted_unops")
        )
        return (
            type(environment).__module__,
            type(environment).__qualname__,
            name,
            filename,
            bool(autoescape),
            finalize_key,
            tuple(sorted(environment.extensions)),
            # a filter's or test's call is compiled with the context it asks for (pass_context...)
            tuple(sorted((k, _passes(f)) for k, f in environment.filters.items())),
            tuple(sorted((k, _passes(f)) for k, f in environment.tests.items())),
            syntax,
            intercepted,
        )

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> jinja2.bccache.Bucket:
        key = repr((*self.signature(environment, name, filename), self.get_source_checksum(source)))
        bucket = jinja2.bccache.Bucket(environment, key, "")
        with self._lock:
            bucket.code = self._code.get(key)
        return bucket

    def set_bucket(self, bucket: jinja2.bccache.Bucket) -> None:
        with self._lock:
            remember(self._code, bucket.key, bucket.code, self.MAX_ENTRIES)

    def clear(self) -> None:
        with self._lock:
            self._code.clear()


_COMPILED = SharedCompiledTemplates()


def _passes(function: Any) -> str:
    """What a filter, test or finalize function asks Jinja to pass it (context, eval context, environment)."""
    return str(jinja2.utils._PassArg.from_obj(function))


def build_environment(
    templates_dir: str | os.PathLike[str], brand: Brand, *, sandboxed: bool = True, memoize: bool = False
) -> jinja2.Environment:
    """The Jinja environment of the library: sandboxed, StrictUndefined, HTML autoescape, workbench filters.

    ``sandboxed=False`` gives the bare environment the benchmark uses as its floor (same templates,
    same filters, no sandbox and no limits). ``memoize=True`` writes each distinct date, plural form
    and number once per locale and channel (see :class:`_FilterMemo`), with the same text.

    Raises
    ------
    StrategyError
        A tracking parameter of the brand names a field other than ``{channel}``, ``{moment}`` and
        ``{variant}``.
    """
    params = dict(brand.tracking_params)
    for key, value in params.items():
        try:
            fill_fields(str(value), {"channel": "", "moment": "", "variant": ""})
        except ValueError as exc:
            msg = (
                f"brand.tracking_params.{key}: {exc}. Fix: write the value as text with at most the fields "
                "{channel}, {moment} and {variant}"
            )
            raise StrategyError(msg) from None
    cls = TemplateSandbox if sandboxed else jinja2.Environment
    env = cls(
        loader=FolderLoader(templates_dir),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
        cache_size=-1,
        bytecode_cache=_COMPILED,
    )
    brand_ctx = brand_context(brand)
    currency = brand.currency
    default_locale = canonical_locale(brand.locale) or "en-US"
    link_cache: dict[tuple[str, str, str, str], str] = {}

    def _where(ctx: jinja2.runtime.Context) -> tuple[str, bool]:
        return str(ctx.get("locale") or default_locale), ctx.get("channel") == "sms"

    @pass_context
    def _money(ctx: jinja2.runtime.Context, amount: object, currency_code: str | None = None) -> str:
        loc, gsm = _where(ctx)
        return money(amount, currency_code or ctx.get("currency") or currency, locale=loc, gsm=gsm)

    memo = _FilterMemo() if memoize else None

    @pass_context
    def _local_date(ctx: jinja2.runtime.Context, value: object, style: str = "medium") -> str:
        customer = ctx.get("customer") or {}
        loc, gsm = _where(ctx)
        if memo is not None:
            return memo.local_date(value, customer.get("timezone"), style, loc, gsm)
        return local_date(value, customer.get("timezone"), style, locale=loc, gsm=gsm)

    @pass_context
    def _local_time(ctx: jinja2.runtime.Context, value: object, style: str = "short") -> str:
        customer = ctx.get("customer") or {}
        loc, gsm = _where(ctx)
        return local_time(value, customer.get("timezone"), style, locale=loc, gsm=gsm)

    @pass_context
    def _number(ctx: jinja2.runtime.Context, value: object) -> str:
        loc, gsm = _where(ctx)
        if memo is not None:
            return memo.number(value, loc, gsm)
        return number(value, locale=loc, gsm=gsm)

    @pass_context
    def _plural(ctx: jinja2.runtime.Context, count: object, one: str = "", other: str = "", **forms: str) -> str:
        loc, gsm = _where(ctx)
        known = {k: str(v) for k, v in forms.items() if k in ("zero", "two", "few", "many")}
        if memo is not None:
            return memo.plural(count, str(one), str(other or one), known, loc, gsm)
        return plural(count, one=str(one), other=str(other or one), locale=loc, gsm=gsm, **known)

    @pass_context
    def _first_name(ctx: jinja2.runtime.Context, value: object, fallback: str = "there") -> str:
        return clean_first_name(value, fallback, gsm=ctx.get("channel") == "sms")

    @pass_context
    def _track(ctx: jinja2.runtime.Context, target: object) -> str:
        channel, moment, variant = str(ctx.get("channel")), str(ctx.get("moment")), str(ctx.get("variant"))
        key = (str(target), channel, moment, variant)
        url = link_cache.get(key)
        if url is None:
            url = tracked_url(
                str(target),
                website_url=brand_ctx["website_url"],
                params=params,
                channel=channel,
                moment=moment,
                variant=variant,
            )
            remember(link_cache, key, url, 4096)
        return url

    env.filters.update(
        money=_money,
        local_date=_local_date,
        local_time=_local_time,
        number=_number,
        plural=_plural,
        first_name=_first_name,
        track=_track,
    )
    return env


def _instant(value: pd.Timestamp, timezone: object) -> tuple[Any, ...] | None:
    """A key for a timestamp's instant in a zone: its nanoseconds since the epoch (read as UTC when it has
    no zone), whether it has one, and the zone's name; None when there is no such key."""
    if type(timezone) not in _TEXT_OR_NONE:
        return None
    try:
        return (value.value, value.tz is None, timezone)
    except OverflowError:  # outside the nanosecond range
        return None


class _FilterMemo:
    """The date, number and plural filters once per distinct input, for one environment.

    What they write is a function of their arguments, the locale and the channel (and, for dates, of
    the day the timestamp falls on in the customer's time zone), so each distinct input is written by
    Babel once and reused for every customer. A date is looked up by its day in the customer's zone
    (:func:`~.formatting.local_date` formats that day); numbers by their type and ``repr`` (equal
    values written differently, such as ``1`` and ``1.0``, are kept apart). Anything else (a value of
    another type, an error) goes to the filter itself. The memo is bounded.
    """

    MAX_ENTRIES = 4096
    _NUMBERS = frozenset({int, float, decimal.Decimal, np.int64, np.float64, np.int32, np.float32})

    def __init__(self) -> None:
        self._dates: dict[tuple[Any, ...], str] = {}
        self._days: dict[tuple[Any, ...], dt.date] = {}
        self._numbers: dict[tuple[Any, ...], str] = {}

    def local_date(self, value: object, timezone: object, style: str, loc: str, gsm: bool) -> str:
        """:func:`~.formatting.local_date` of a timestamp, once per day, style, locale and channel."""
        kind = type(value)
        if not isinstance(style, str) or kind not in (pd.Timestamp, dt.datetime):
            return local_date(value, timezone, style, locale=loc, gsm=gsm)
        # A timestamp's instant (its nanoseconds since the epoch, read as UTC when it has no zone) and the
        # customer's zone give the day; the same timestamp comes back for many customers.
        instant = _instant(value, timezone) if kind is pd.Timestamp else None
        day = self._days.get(instant) if instant is not None else None
        if day is None:
            when: dt.datetime = value.to_pydatetime(warn=False) if kind is pd.Timestamp else value  # type: ignore[attr-defined,assignment]
            day = (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(zone(timezone)).date()
            if instant is not None:
                remember(self._days, instant, day, self.MAX_ENTRIES)
        key = (day, style, loc, gsm)
        hit = self._dates.get(key)
        if hit is None:
            hit = remember(self._dates, key, local_date(day, None, style, locale=loc, gsm=gsm), self.MAX_ENTRIES)
        return hit

    def number(self, value: object, loc: str, gsm: bool) -> str:
        """:func:`~.formatting.number`, once per distinct value, locale and channel."""
        kind = type(value)
        if kind not in self._NUMBERS:
            return number(value, locale=loc, gsm=gsm)
        key = (kind, repr(value), loc, gsm)
        hit = self._numbers.get(key)
        if hit is None:
            hit = remember(self._numbers, key, number(value, locale=loc, gsm=gsm), self.MAX_ENTRIES)
        return hit

    def plural(self, count: object, one: str, other: str, forms: dict[str, str], loc: str, gsm: bool) -> str:
        """:func:`~.formatting.plural`, once per distinct count, forms, locale and channel."""
        kind = type(count)
        if kind not in self._NUMBERS and count is not None:
            return plural(count, one=one, other=other, locale=loc, gsm=gsm, **forms)
        key = ("plural", kind, repr(count), one, other, tuple(sorted(forms.items())), loc, gsm)
        hit = self._numbers.get(key)
        if hit is None:
            text = plural(count, one=one, other=other, locale=loc, gsm=gsm, **forms)
            hit = remember(self._numbers, key, text, self.MAX_ENTRIES)
        return hit


def tracked_url(
    target: str, *, website_url: str, params: Mapping[str, str], channel: str, moment: str, variant: str
) -> str:
    """An absolute link to ``target`` (a path on the website, or a full URL) with tracking parameters.

    ``{channel}``, ``{moment}`` and ``{variant}`` in a parameter's value are filled in, and nothing
    else: the values are never run through ``str.format``.
    """
    url = target if "://" in target else website_url.rstrip("/") + "/" + target.lstrip("/")
    fields = {"channel": channel, "moment": moment, "variant": variant}
    query = {k: fill_fields(str(v), fields) for k, v in params.items()}
    if not query:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(query)


# ---------------------------------------------------------------- CSS inlining, once per layout

_SLOT_OPEN, _SLOT_CLOSE = "\ue000", "\ue001"
_PROBE_OPEN, _PROBE_CLOSE = "\ue002", "\ue003"
_SLOT = re.compile(f"{_SLOT_OPEN}(\\d+){_SLOT_CLOSE}")
_PROBE = re.compile(f"{_PROBE_OPEN}(\\d+){_PROBE_CLOSE}")
_SLOTS = [f"{_SLOT_OPEN}{i}{_SLOT_CLOSE}" for i in range(256)]


def _split_outputs(chunks: list[str]) -> tuple[str, list[str]] | None:
    """The skeleton of an autoescaped render, and its outputs: each ``{{ ... }}`` output's text, in order.

    In an autoescaped template every output is written as the :class:`~markupsafe.Markup` escaping
    gave, and the template's own text as exactly ``str`` (see :func:`~.sandbox.render_chunks`). The
    skeleton has a numbered marker in place of each output, so it depends only on which branches the
    template took. None when the template's own text has the marker's first character (its markers
    could not be told from the outputs').
    """
    # the template's own text is exactly str; an output is a str subclass (Markup)
    values = [str(c) for c in chunks if c.__class__ is not str]
    marks = _SLOTS if len(values) <= len(_SLOTS) else [f"{_SLOT_OPEN}{k}{_SLOT_CLOSE}" for k in range(len(values))]
    mark = iter(marks).__next__
    skeleton = [c if c.__class__ is str else mark() for c in chunks]
    joined = "".join(skeleton)
    return (joined, values) if joined.count(_SLOT_OPEN) == len(values) else None


# Output text (as Jinja escapes it) the inliner's parser reads as plain characters wherever it lands: no
# markup or raw quotes (only a value marked safe can have them), no carriage return or NUL, no marker
# characters, and only the entities markupsafe writes.
_UNSAFE_VALUE = re.compile(f"[<>\"'\\r\\x00{_SLOT_OPEN}-{_PROBE_CLOSE}]|&(?!(?:amp|lt|gt|#34|#39);)")
_HTML_SPACE = " \t\n\f\r"
_UNSAFE_CHARACTERS = ("<", ">", '"', "'", "\r", "\x00", _SLOT_OPEN, "\ue001", _PROBE_OPEN, _PROBE_CLOSE)
_ENTITIES = ("&amp;", "&lt;", "&gt;", "&#34;", "&#39;")


def _unsafe(text: str) -> bool:
    """``_UNSAFE_VALUE.search(text) is not None``, with a scan per character instead of the pattern's walk.

    Every ``&`` starts at most one of the entities (each starts with its own characters after ``&``,
    and one cannot overlap another), so no ``&`` starts anything else when the counts add up.
    """
    if any(c in text for c in _UNSAFE_CHARACTERS):
        return True
    amps = text.count("&")
    return amps > 0 and amps != sum(text.count(e) for e in _ENTITIES)


def _loose(values: list[str]) -> bool:
    """Whether a value is empty or starts or ends with an HTML space."""
    space = _HTML_SPACE
    return any(not v or v[0] in space or v[-1] in space for v in values)


# A value probing every character whose serialization depends on where it lands (text or attribute).
# Inner spaces check that the value stays in one piece (an unquoted attribute would split).
_PROBE_TAIL = "&#34;&#39;&lt;&gt;&amp;\xa0x y"
_SERIALIZED_TAIL = {"text": "\"'&lt;&gt;&amp;&nbsp;x y", "attr": "&quot;'<>&amp;&nbsp;x y"}
# Template constructs that can transform an output after it is written (block captures, macros, filters
# over blocks, super()/self/caller) or write it unescaped, like the template's own text (autoescape
# blocks); a layout using them is inlined per message.
_OPAQUE_NODES = (
    nodes.Macro,
    nodes.CallBlock,
    nodes.FilterBlock,
    nodes.AssignBlock,
    nodes.Import,
    nodes.FromImport,
    nodes.EvalContextModifier,
)
_OPAQUE_NAMES = frozenset({"super", "self", "caller", "varargs", "kwargs"})
_CSS_ATTRS = frozenset({"class", "id", "style"})
_MAX_SKELETONS = 256


def _unescape_markup(value: str) -> str:
    """Undo markupsafe's escaping (the only entities :data:`_UNSAFE_VALUE` lets through)."""
    if "&" not in value:
        return value
    return (
        value.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", '"')
        .replace("&#39;", "'")
        .replace("&amp;", "&")
    )


def _serialize(value: str, where: str) -> str:
    """A value (markupsafe-escaped) as the inliner's HTML serializer writes it in a text node or an attribute."""
    if "&" not in value and "\xa0" not in value and (where == "text" or '"' not in value):
        return value
    raw = _unescape_markup(value).replace("&", "&amp;").replace("\xa0", "&nbsp;")
    if where == "text":
        return raw.replace("<", "&lt;").replace(">", "&gt;")
    return raw.replace('"', "&quot;")


def _interleave(pieces: Sequence[str], values: Sequence[str]) -> str:
    """``pieces[0] + values[0] + pieces[1] + ... + pieces[-1]`` (one more piece than values)."""
    out = [""] * (2 * len(values) + 1)
    out[0::2] = pieces
    out[1::2] = values
    return "".join(out)


def _fill(skeleton: str, values: list[str]) -> str:
    """The rendered HTML: the skeleton with each output marker replaced by its value."""
    return _SLOT.sub(lambda m: values[int(m.group(1))], skeleton)


@dataclass(frozen=True, slots=True)
class HtmlLayout:
    """How an inlined HTML body is put together: ``segments[0] + values[0] + segments[1] + ...``.

    ``segments`` is the inlined layout (the same list object for every message of one layout, so
    what is worked out from it can be kept per layout); ``values`` are the outputs as written into it.
    """

    segments: list[str]
    values: tuple[str, ...]

    @property
    def html(self) -> str:
        return _interleave(self.segments, self.values)


#: How values are written into an inlined layout: its segments, the (value, "text" or "attr") at each
#: marker, and whether values with spaces around them are written the same way.
_Plan = tuple[list[str], list[tuple[int, str]], bool]


class _CssPlan:
    """CSS inlining done once per layout instead of once per message.

    The HTML of a message is rendered with each ``{{ ... }}`` output replaced by a numbered marker (the
    *skeleton*); it depends only on which branches the template took, so few skeletons exist per
    template. Each skeleton is inlined once, cut at its markers and checked with probe values (every
    marker must come back, in a text node or an attribute, with the expected serialization, never in
    a ``class``/``id``/``style`` attribute). A message is then its inlined skeleton with the values
    written in as the inliner would write them, byte for byte the same as inlining the whole message.
    Values the fast path cannot vouch for (markup, blank values, carriage returns) and skeletons that
    fail the check are inlined the ordinary way.
    """

    def __init__(self, inliner: css_inline.CSSInliner) -> None:
        self.inliner = inliner
        self.skeletons: dict[str, _Plan | None] = {}
        self.streams: dict[tuple[str | None, ...], _Plan | None] = {}

    def inline_chunks(self, chunks: list[str]) -> tuple[str, HtmlLayout | None]:
        """The inlined HTML of an autoescaped render's chunks (see :func:`_split_outputs`), and how it is put
        together when the fast path wrote it (else None).

        The layout is looked up by the template's own pieces of text in order, with ``None`` for each
        output: the same skeleton, found without writing it out (those pieces are the compiled
        template's constants, whose hashes Python keeps).
        """
        key = tuple([c if c.__class__ is str else None for c in chunks])
        if key in self.streams:
            entry = self.streams[key]
        else:
            split = _split_outputs(chunks)
            entry = self._entry(split[0], len(split[1])) if split is not None else None
            remember(self.streams, key, entry, _MAX_SKELETONS)
        if entry is not None:
            placed = self._place(entry, [str(c) for c in chunks if c.__class__ is not str])
            if placed is not None:
                return placed
        return self.inliner.inline("".join(chunks)), None

    def _entry(self, skeleton: str, count: int) -> _Plan | None:
        """The plan of a skeleton with ``count`` outputs, worked out once."""
        if skeleton in self.skeletons:
            return self.skeletons[skeleton]
        return remember(self.skeletons, skeleton, self._plan(skeleton, count), _MAX_SKELETONS)

    @staticmethod
    def _place(entry: _Plan | None, values: list[str]) -> tuple[str, HtmlLayout] | None:
        """The inlined HTML with ``values`` written into the plan's layout, or None when they cannot be."""
        joined = "".join(values)
        if entry is None or _unsafe(joined):
            return None
        segments, slots, padded_ok = entry
        # no quote gets past _UNSAFE_VALUE: without & and no-break spaces every value is written as it is
        plain = "&" not in joined and "\xa0" not in joined
        if not _loose(values):
            # every value has text with no space around it: the loop below would write each one
            each = [values[index] for index, _ in slots]
            if not plain:  # most values still have neither, and are written as they are
                each = [
                    v if "&" not in v and "\xa0" not in v else _serialize(v, where)
                    for v, (_, where) in zip(each, slots, strict=True)
                ]
            return _interleave(segments, each), HtmlLayout(segments, tuple(each))
        out = [segments[0]]
        written: list[str] = []
        for (index, where), segment in zip(slots, segments[1:], strict=True):
            value = values[index]
            stripped = value.strip(_HTML_SPACE)
            if not stripped or (value[0] == "\n") or (not padded_ok and len(stripped) != len(value)):
                return None
            serialized = value if plain else _serialize(value, where)
            written.append(serialized)
            out.append(serialized)
            out.append(segment)
        return "".join(out), HtmlLayout(segments, tuple(written))

    def _stitch(self, segments: list[str], slots: list[tuple[int, str]], values: list[str]) -> str:
        out = [segments[0]]
        for (index, where), segment in zip(slots, segments[1:], strict=True):
            out.append(_serialize(values[index], where))
            out.append(segment)
        return "".join(out)

    def _plan(self, skeleton: str, count: int) -> _Plan | None:
        inlined = self.inliner.inline(skeleton)
        pieces = _SLOT.split(inlined)
        segments = pieces[0::2]
        indices = [int(i) for i in pieces[1::2]]
        if any(i >= count for i in indices):
            return None
        probes = [f"{_PROBE_OPEN}{i}{_PROBE_CLOSE}{_PROBE_TAIL}" for i in range(count)]
        probed = self.inliner.inline(_fill(skeleton, probes))
        found = {int(m.group(1)): m.end() for m in _PROBE.finditer(probed)}
        slots: list[tuple[int, str]] = []
        for index in indices:
            end = found.get(index)
            if end is None:
                return None
            where = next((k for k, tail in _SERIALIZED_TAIL.items() if probed.startswith(tail, end)), None)
            if where is None:
                return None
            slots.append((index, where))
        for match, (_, where) in zip(_SLOT.finditer(inlined), slots, strict=True):
            if where == "attr":
                head = inlined[: match.start()]
                name = re.search(r"([^\s\"'>/=]+)=$", head[: head.rfind('"')])
                tag = re.search(r"<([A-Za-z][\w-]*)[^<]*$", head)
                if name is None or tag is None or name.group(1).lower() in _CSS_ATTRS:
                    return None
                if tag.group(1).lower() in ("link", "base", "style"):
                    return None
        styles = " ".join(re.findall(r"<style\b[^>]*>(.*?)</style>", skeleton, re.S | re.I))
        if "[" in styles or ":lang" in styles or ":dir" in styles:
            return None
        if self._stitch(segments, slots, probes) != probed:
            return None
        padded = [f" \n{p} " for p in probes]
        padded_ok = self._stitch(segments, slots, padded) == self.inliner.inline(_fill(skeleton, padded))
        return segments, slots, padded_ok


def _walk_templates(env: jinja2.Environment, name: str) -> tuple[nodes.Template, ...] | None:
    """The parsed trees of a template and everything it extends or includes; None if one cannot be resolved."""
    trees: list[nodes.Template] = []
    seen = {name}
    todo = [name]
    while todo:
        try:
            source, _, _ = env.loader.get_source(env, todo.pop())  # type: ignore[union-attr]
            tree = env.parse(source)
        except (TemplateNotFound, TemplateSyntaxError, TemplateOutsideFolder):
            return None
        trees.append(tree)
        for child in jinja2.meta.find_referenced_templates(tree):
            if child is None:
                return None
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return tuple(trees)


def _customer_fields(tree: nodes.Template, columns: set[str]) -> bool:
    """Add the ``customer`` fields one parsed template reads; False if it uses ``customer`` any other way."""

    def is_customer(node: nodes.Node) -> bool:
        return isinstance(node, nodes.Name) and node.name == "customer"

    uses = sum(1 for n in tree.find_all(nodes.Name) if n.name == "customer")
    called = {id(c.node) for c in tree.find_all(nodes.Call)}
    fields = 0
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if not isinstance(node, (nodes.Getattr, nodes.Getitem)):  # always: Jinja annotates the result as Expr
            continue
        if not is_customer(node.node) or id(node) in called:
            continue
        if isinstance(node, nodes.Getattr):
            columns.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            columns.add(node.arg.value)
        else:
            continue
        fields += 1
    return fields == uses


def _plain_outputs(tree: nodes.Template) -> bool:
    """Whether one parsed template writes its outputs untransformed."""
    if any(True for _ in tree.find_all(_OPAQUE_NODES)):
        return False
    return not any(n.name in _OPAQUE_NAMES for n in tree.find_all(nodes.Name))


def _written_as_they_are(tree: nodes.Template, names: frozenset[str]) -> bool:
    """Whether one parsed template reads ``names`` only as outputs of their own (``{{ name }}``), untransformed."""
    if not _plain_outputs(tree):
        return False
    direct = {
        id(child)
        for output in tree.find_all(nodes.Output)
        for child in output.nodes
        if isinstance(child, nodes.Name) and child.name in names
    }
    return all(id(n) in direct for n in tree.find_all(nodes.Name) if n.name in names)


# ---------------------------------------------------------------- rendered parts kept per distinct input

#: Context values every filter may read (besides the customer's time zone).
_FILTER_READS = ("channel", "locale", "currency", "moment", "variant")
#: Context values that differ for every customer. A template that only writes them as they are
#: (``{{ unsubscribe_link }}``) is kept with a stand-in for each and has them written in; a template that
#: reads them any other way is rendered for each customer.
_PER_CUSTOMER = frozenset({"unsubscribe_link", "preferences_link"})
#: A stand-in is a private-use character, a number drawn for each renderer and the link's place; a
#: kept part where the character appears other than in a stand-in is not kept (see ``_kept_part``).
_STAND_IN_OPEN, _STAND_IN_CLOSE = "\ue004", "\ue005"
_MAX_PARTS = 8192
_MISSING = object()
#: Types whose equal values are written the same (compared by value, with the type).
_BY_VALUE = frozenset({str, int, bool, type(None)})
#: Types compared by ``repr`` (equal values can be written differently, e.g. ``-0.0`` or another time zone).
_BY_REPR = frozenset({float, decimal.Decimal, pd.Timestamp, dt.datetime, dt.date, np.int64, np.float64})
_BY_REPR |= frozenset({np.bool_, np.int32, np.float32})


#: What a part reads: context names, customer fields, and the customer's links it writes as they are.
_Reads = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


class _Uncacheable(Exception):
    """A value the part cache cannot compare safely: the part is rendered for this customer."""


def _canon(value: object) -> object:
    """A hashable stand-in for a context value that two values share only when templates see the same."""
    if value is _MISSING:
        return value
    kind = type(value)
    if kind in _BY_VALUE:
        return (kind, value)
    if kind is pd.Timestamp:  # what its repr is made of (the repr itself takes 20 µs)
        return (kind, value.value, value.unit, repr(value.tzinfo))  # type: ignore[attr-defined]
    if kind in _BY_REPR:
        return (kind, repr(value))
    if kind is FrozenDict:
        return (kind, tuple((_canon(k), _canon(v)) for k, v in value.items()))  # type: ignore[attr-defined]
    if kind is tuple:
        return (kind, tuple(_canon(v) for v in value))  # type: ignore[attr-defined]
    raise _Uncacheable


# ---------------------------------------------------------------- renderer


class Renderer:
    """Renders the pairs of one template library for one strategy; templates are compiled once.

    Parameters
    ----------
    strategy
        The strategy whose ``brand`` supplies every brand fact.
    templates_dir
        The template library; default :func:`~workbench.messages.library.default_templates_dir`.
    inline_css
        Inline the layout's CSS into ``style`` attributes (email clients drop ``<style>``).
    catalog
        Optional product facts by product id (``name``, ``price``, ``url``) for the product blocks.
    sandboxed
        Use the sandboxed environment (always, except for the benchmark floor).
    time_limit
        Seconds one template part may take to render (:data:`~.sandbox.MAX_RENDER_SECONDS`); a
        template that runs past it fails at once for the rest of this renderer's life.
    max_output
        Characters one template part may write (:data:`~.sandbox.MAX_OUTPUT_CHARS`).
    cache_parts
        Render a part once per distinct set of values its template reads and reuse it for every
        customer with the same values (the subject and preheader of most moments, most SMS);
        ``False`` renders every part for every customer.
    """

    def __init__(
        self,
        strategy: Strategy,
        *,
        templates_dir: str | os.PathLike[str] | None = None,
        inline_css: bool = True,
        catalog: Mapping[str, Mapping[str, Any]] | None = None,
        sandboxed: bool = True,
        time_limit: float = MAX_RENDER_SECONDS,
        max_output: int = MAX_OUTPUT_CHARS,
        cache_parts: bool = True,
    ) -> None:
        self.strategy = strategy
        self.templates_dir = Path(templates_dir) if templates_dir is not None else default_templates_dir()
        self.library = load_library(self.templates_dir)
        self.env = build_environment(self.templates_dir, strategy.brand, sandboxed=sandboxed, memoize=cache_parts)
        self.brand = freeze(brand_context(strategy.brand))
        self.catalog = freeze(dict(catalog or {}))
        self.time_limit = float(time_limit)
        self.max_output = int(max_output)
        self._sandboxed = sandboxed
        self._stopped: dict[str, TemplateError] = {}
        self._inliner = None
        self._css: _CssPlan | None = None
        if inline_css:
            import css_inline

            self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
            self._css = _CssPlan(self._inliner)
        self._parts: dict[tuple[str, str, str], dict[str, jinja2.Template]] = {}
        # by the moment, variant and locale asked for (locales are data: bounded)
        self._parts_asked: dict[tuple[str, str, str | None], dict[str, jinja2.Template]] = {}
        self._escapes: dict[str, bool] = {}
        self._plain: dict[str, bool] = {}
        self._trees: dict[str, tuple[nodes.Template, ...] | None] = {}
        self.default_locale = canonical_locale(strategy.brand.locale) or "en-US"
        self._folders: dict[str, dict[str, str]] = {}
        self._resolved: dict[tuple[str, str, str], LocaleResolution] = {}
        self._sms: dict[str, SmsAnalysis] = {}
        self._cache_parts = cache_parts
        self._reads_of: dict[str, _Reads | None] = {}
        self._part_cache: dict[tuple[Any, ...], str | None] = {}
        nonce = secrets.token_hex(8)  # no template or data can write it
        self._stand_ins = [f"{_STAND_IN_OPEN}{nonce}.{k}{_STAND_IN_CLOSE}" for k in range(len(_PER_CUSTOMER))]
        self._markets: dict[tuple[str | None, str | None], MarketRule | None] = {}

    # -- templates

    @property
    def files(self) -> dict[str, str]:
        """Loaded template files: absolute path -> template name."""
        loader = self.env.loader
        if not isinstance(loader, FolderLoader):
            msg = (
                f"the template environment reads templates with {type(loader).__name__}, not the folder loader "
                "that records which file each template came from. Fix: build it with build_environment"
            )
            raise TemplateError(msg)
        return loader.files

    def manifest(self, moment: str) -> TemplateManifest:
        """The manifest of ``moment`` (a TemplateError lists the moments when it is unknown)."""
        try:
            return self.library[moment]
        except KeyError:
            known = ", ".join(self.library) or "none"
            msg = (
                f"no moment {moment!r} in {self.templates_dir} (moments: {known}). Fix: use one of those or add "
                f"a folder {moment}/ with a manifest.yaml"
            )
            raise TemplateError(msg) from None

    def _parts_of(self, manifest: TemplateManifest) -> list[str]:
        return [
            part
            for part in PART_FILES
            if (part == "sms" and "sms" in manifest.channels) or (part != "sms" and "email" in manifest.channels)
        ]

    def translations(self, moment: str) -> dict[str, str]:
        """The locale folders of a moment: canonical tag -> folder name (``fr-CA`` -> ``fr-CA``)."""
        found = self._folders.get(moment)
        if found is None:
            self.manifest(moment)
            found = self._folders[moment] = {
                tag: path.name for tag, path in translations(self.templates_dir / moment).items()
            }
        return found

    def _market(self, customer: Mapping[str, Any]) -> MarketRule | None:
        """The customer's market rule (:meth:`~workbench.models.policy.ContactPolicy.market_for`), once per
        distinct country and region given as text."""
        country, region = customer.get("country"), customer.get("region")
        if not (type(country) in _TEXT_OR_NONE and type(region) in _TEXT_OR_NONE):
            return self.strategy.policy.market_for(country, region)
        key = (country, region)
        if key in self._markets:
            return self._markets[key]
        return remember(self._markets, key, self.strategy.policy.market_for(country, region), 4096)

    def customer_locale(self, customer: Mapping[str, Any]) -> str:
        """A customer's locale: stated (``locale``), else their market's, else the brand's default."""
        stated = canonical_locale(customer.get("locale"))
        if stated is not None:
            return stated
        market = self._market(customer)
        if market is not None and market.locale:
            return canonical_locale(market.locale) or self.default_locale
        return self.default_locale

    def customer_currency(self, customer: Mapping[str, Any]) -> str:
        """A customer's currency: the profile's (latest order), else their market's, else the brand's."""
        given = customer.get("currency")
        if isinstance(given, str) and len(given.strip()) == 3 and given.strip().isalpha():
            return given.strip().upper()
        market = self._market(customer)
        return (market.currency if market is not None and market.currency else None) or self.strategy.brand.currency

    def _find(self, moment: str, part: str, variant: str, candidates: list[tuple[str, str]]) -> tuple[str, str] | None:
        """The first file of ``part`` among the candidate folders: a file of the variant in any of them before a
        file for every variant (so a variant stays what its test compares), the most specific folder first."""
        stem, _, ext = PART_FILES[part].partition(".")
        for file in (f"{stem}.{variant}.{ext}", f"{stem}.{ext}"):
            for tag, folder in candidates:
                name = f"{moment}/{folder}/{file}" if folder else f"{moment}/{file}"
                if (self.templates_dir / name).exists():
                    return tag, name
        return None

    def resolve(self, moment: str, variant: str, locale: str | None = None) -> LocaleResolution:
        """Which locale folders serve ``moment``/``variant`` to a customer of ``locale`` (see the module docstring).

        The chain's languages are tried in order; a language serves when its folders (most specific
        first, and for the brand's language the moment folder's root last) hold every part.
        """
        wanted = canonical_locale(locale) or self.default_locale
        key = (moment, variant, wanted)
        hit = self._resolved.get(key)
        if hit is not None:
            return hit
        manifest = self.manifest(moment)
        if variant not in manifest.variants:
            msg = (
                f"{moment}/manifest.yaml has no variant {variant!r} (variants: {', '.join(manifest.variants)}). "
                "Fix: pick one of those or add it to the manifest"
            )
            raise TemplateError(msg)
        folders = self.translations(moment)
        chain = locale_chain(wanted, default=self.default_locale)
        home = language_of(self.default_locale)
        incomplete: dict[str, tuple[str, ...]] = {}
        chosen: tuple[str, dict[str, str], dict[str, str]] | None = None
        languages = list(dict.fromkeys(language_of(tag) for tag in chain))
        for lang in languages:
            tags = [t for t in chain if language_of(t) == lang and t in folders]
            candidates = [(t, folders[t]) for t in tags] + ([("", "")] if lang == home else [])
            if not candidates:
                continue
            files: dict[str, str] = {}
            names: dict[str, str] = {}
            missing = []
            for part in self._parts_of(manifest):
                found = self._find(moment, part, variant, candidates)
                if found is None:
                    missing.append(PART_FILES[part])
                else:
                    files[part], names[part] = found
            if missing:
                for t in tags:
                    incomplete[t] = tuple(missing)
                continue
            used = [t for t in tags if t in files.values()]
            chosen = (used[0] if used else self.default_locale, files, names)
            break
        if chosen is None:
            parts = ", ".join(PART_FILES[p] for p in self._parts_of(manifest))
            msg = (
                f"{moment}: no language has every part ({parts}) for variant {variant}. Fix: add the missing files "
                f"at the root of {moment}/ (the brand's default language, {self.default_locale})"
            )
            raise TemplateError(msg)
        content, files, names = chosen
        lang = language_of(content)
        fallback = language_of(wanted) != lang
        resolution = LocaleResolution(
            locale=wanted,
            chain=chain,
            content_locale=content,
            format_locale=content if fallback else wanted,
            files=files,
            fallback=fallback,
            incomplete=incomplete,
            names=names,
        )
        return remember(self._resolved, key, resolution, 4096)

    def templates(self, moment: str, variant: str, locale: str | None = None) -> dict[str, jinja2.Template]:
        """The compiled templates of a moment, variant and customer locale, by part (``subject``, ``sms``...)."""
        asked = (moment, variant, locale)
        found = self._parts_asked.get(asked)
        if found is not None:
            return found
        resolution = self.resolve(moment, variant, locale)
        key = (moment, variant, "|".join(f"{p}={n}" for p, n in sorted(resolution.names.items())))
        found = self._parts.get(key)
        if found is not None:
            return remember(self._parts_asked, asked, found, _MAX_PARTS)
        manifest = self.manifest(moment)
        parts: dict[str, jinja2.Template] = {}
        for part, name in resolution.names.items():
            parts[part] = self._compile(name)
        if "email" in manifest.channels and (self.templates_dir / HEADERS_FILE).exists():
            parts["headers"] = self._compile(HEADERS_FILE)
        self._parts[key] = parts
        return remember(self._parts_asked, asked, parts, _MAX_PARTS)

    def _compile(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except TemplateNotFound as exc:
            msg = f"template {name} not found in {self.templates_dir}. Fix: add the file"
            raise TemplateError(msg) from exc
        except (TemplateSyntaxError, TemplateOutsideFolder) as exc:
            raise _template_error(exc, self.files, name) from None

    def _template_trees(self, name: str) -> tuple[nodes.Template, ...] | None:
        """The parsed trees of template ``name`` and everything it extends or includes (parsed once).

        ``None`` when one of them cannot be resolved (missing, a syntax error or a computed name).
        """
        if name not in self._trees:
            self._trees[name] = _walk_templates(self.env, name)
        return self._trees[name]

    def customer_columns(self, moments: Iterable[str], variant: str | None = None) -> set[str] | None:
        """The profile columns the templates of ``moments`` can read, or ``None`` when that is not known.

        Collected from ``customer.x`` / ``customer["x"]`` in every template a pair uses (through
        extends and includes), plus the columns the context and the filters read. ``None`` (use every
        column) when a template uses ``customer`` any other way (passes it on, loops over it, calls a
        method) or a template cannot be resolved.
        """
        columns = {"customer_id", "last_viewed_product", "timezone", "locale", "currency", "country", "region"}
        try:
            for moment in moments:
                manifest = self.manifest(moment)
                chosen = variant or manifest.variants[0]
                for tag in [None, *self.translations(moment)]:
                    for template in self.templates(moment, chosen, tag).values():
                        trees = self._template_trees(template.name or "")
                        if trees is None or not all(_customer_fields(tree, columns) for tree in trees):
                            return None
        except TemplateError:
            return None
        return columns

    # -- context

    def context(
        self,
        moment: str,
        customer: Mapping[str, Any],
        *,
        variant: str = "A",
        promotion: str | None = None,
        clean: bool = False,
    ) -> dict[str, Any]:
        """The variables a template sees for one customer (see the module docstring for the filters).

        ``clean=True`` says ``customer`` already went through :func:`customer_context` (bulk paths).
        """
        manifest = self.manifest(moment)
        cust = customer if clean and isinstance(customer, FrozenDict) else customer_context(customer)
        resolution = self.resolve(moment, variant, self.customer_locale(cust))
        cta = manifest.primary_cta
        if language_of(resolution.content_locale) != language_of(self.default_locale):
            for tag in (resolution.content_locale, language_of(resolution.content_locale)):
                entry = manifest.locales.get(tag or "")
                if entry is not None and entry.primary_cta:
                    cta = entry.primary_cta
                    break
        product_id = cust.get("last_viewed_product")
        product = None
        if product_id is not None:
            facts = self.catalog.get(str(product_id), {})
            product = FrozenDict(
                id=str(product_id),
                name=str(facts.get("name") or f"item {product_id}"),
                price=facts.get("price"),
                path=str(facts.get("url") or f"/products/{product_id}"),
            )
        landing = manifest.landing_path
        if "{product_id}" in landing:
            # only the known field is filled in, URL-quoted: never str.format on data
            landing = (
                fill_fields(landing, {"product_id": quote(str(product_id), safe="")})
                if product
                else (manifest.fallback_landing_path or "/")
            )
        cid = str(cust.get("customer_id") or "")
        # urlencode leaves ASCII letters and digits as they are
        query = ("c=" + cid if cid.isascii() and cid.isalnum() else urlencode({"c": cid})) if cid else ""
        return {
            "customer": cust,
            "brand": self.brand,
            "moment": moment,
            "variant": variant,
            "channel": "email",
            "manifest": FrozenDict(objective=manifest.objective, cta=cta),
            "cta": cta,
            "locale": resolution.format_locale,
            "lang": language_of(resolution.content_locale) or "en",
            "currency": self.customer_currency(cust),
            "resolution": resolution,
            "offer": promotion if promotion is not None else manifest.default_offer,
            "product": product,
            "landing": landing,
            "unsubscribe_link": self.brand["unsubscribe_url"] + ("?" + query if query else ""),
            "preferences_link": self.brand["preferences_url"] + ("?" + query if query else ""),
        }

    # -- rendering

    def _render(self, template: jinja2.Template, ctx: dict[str, Any]) -> str:
        """One template part, streamed under the time and output limits; any failure is a TemplateError."""
        return "".join(self._render_chunks(template, ctx))

    def _render_chunks(self, template: jinja2.Template, ctx: dict[str, Any]) -> list[str]:
        """:meth:`_render`, giving the chunks of output as the template wrote them (see :func:`render_chunks`)."""
        name = template.name or "<template>"
        if not self._sandboxed:
            return list(template.generate(ctx))
        stopped = self._stopped.get(name)
        if stopped is not None:  # it ran past the time limit before: do not spend that time again
            raise TemplateError(str(stopped))
        try:
            return render_chunks(template, ctx, seconds=self.time_limit, max_chars=self.max_output)
        except TemplateError:
            raise
        except Exception as exc:
            err = _template_error(exc, self.files, name)
            if isinstance(exc, TemplateLimit) and exc.kind == "time":
                self._stopped[name] = err
            raise err from None

    def _reads(self, name: str) -> _Reads | None:
        """The context names and customer fields template ``name`` can read (through extends and includes),
        and the per-customer links it writes as they are.

        ``None`` when its output is not a function of those alone, or is one per customer anyway: a
        template that cannot be resolved, reads ``customer`` other than field by field, calls ``lipsum``
        or the ``random`` filter, reads the customer's id, or reads a customer's link other than by
        writing it as it is (``{{ unsubscribe_link }}``, outside any block filter, capture or macro).
        """
        if name in self._reads_of:
            return self._reads_of[name]
        found: _Reads | None = None
        trees = self._template_trees(name)
        if trees is not None:
            names: set[str] = set()
            fields: set[str] = set()
            plain = True
            for tree in trees:
                names.update(n.name for n in tree.find_all(nodes.Name) if n.ctx == "load")
                filters = {f.name for f in tree.find_all(nodes.Filter)}
                if "random" in filters or "lipsum" in names or not _customer_fields(tree, fields):
                    plain = False
                if filters & {"local_date", "local_time"}:
                    fields.add("timezone")  # they read the customer's time zone
                if names & _PER_CUSTOMER and not _written_as_they_are(tree, _PER_CUSTOMER):
                    plain = False
            if plain and "customer_id" not in fields:
                links = tuple(sorted(names & _PER_CUSTOMER))
                kept = names - {"customer", "brand"} - set(_FILTER_READS) - _PER_CUSTOMER
                found = (tuple(sorted(kept)), tuple(sorted(fields)), links)
        self._reads_of[name] = found
        return found

    def _filter_key(self, ctx: dict[str, Any]) -> tuple[object, ...] | None:
        """The values every filter may read, for the keys of :meth:`_render_part` (None: parts are not kept)."""
        if not self._cache_parts:
            return None
        try:
            return tuple([_canon(ctx.get(n, _MISSING)) for n in _FILTER_READS])
        except _Uncacheable:
            return None

    def _render_part(self, template: jinja2.Template, ctx: dict[str, Any], filters: tuple[object, ...] | None) -> str:
        """:meth:`_render`, once per distinct set of values the template reads (see :meth:`_reads`);
        ``filters`` is :meth:`_filter_key` of ``ctx``.

        The output of a template is a function of the context values it reads: the sandbox lets no
        render change anything another render sees, and the filters are functions of their arguments
        and of the ``locale``, ``channel``, ``currency``, ``moment``, ``variant`` and the customer's
        time zone. Values are compared with their type (``1``, ``1.0`` and ``True`` differ) and by
        ``repr`` when equal values can be written differently (``-0.0``, ``Decimal("1.0")``, time
        zones). Renders that fail are not kept: they fail again, the ordinary way.

        The customer's links a template only writes as they are do not enter the key: the part is
        kept with a stand-in for each link, and each customer's links are written in its place, as
        Jinja writes them (escaped where the template autoescapes). A stand-in holds a random number
        drawn when the renderer is made, which neither a template nor data can know. A part whose kept
        text has the stand-ins' character elsewhere, a link that holds it, and a part that would pass
        the output limit with the links written in are rendered the ordinary way.
        """
        if filters is None:
            return self._render(template, ctx)
        name = template.name or ""
        reads = self._reads(name) if name else None
        if reads is None:
            return self._render(template, ctx)
        names, fields, links = reads
        customer = ctx.get("customer")
        try:
            get = ctx.get
            key = (
                name,
                filters,
                tuple([_canon(get(n, _MISSING)) for n in names]),
                tuple([_canon(customer.get(f, _MISSING)) for f in fields])
                if customer.__class__ is FrozenDict or isinstance(customer, Mapping)
                else None,
            )
        except _Uncacheable:
            return self._render(template, ctx)
        if key in self._part_cache:
            hit = self._part_cache[key]
        else:
            hit = self._kept_part(template, ctx, links) if links else self._render(template, ctx)
            remember(self._part_cache, key, hit, _MAX_PARTS)
        if hit is None:
            return self._render(template, ctx)
        if not links:
            return hit
        for k, link in enumerate(links):
            text = self._written(template, ctx.get(link, _MISSING))
            if text is None or _STAND_IN_OPEN in text:
                return self._render(template, ctx)
            hit = hit.replace(self._stand_ins[k], text)
        return hit if len(hit) <= self.max_output else self._render(template, ctx)

    def _kept_part(self, template: jinja2.Template, ctx: dict[str, Any], links: tuple[str, ...]) -> str | None:
        """The part rendered with a stand-in for each link, or None when the stand-ins cannot be told apart."""
        stand_ins = self._stand_ins[: len(links)]
        try:
            text = self._render(template, {**ctx, **dict(zip(links, stand_ins, strict=True))})
        except TemplateError:
            return None  # rendered the ordinary way, which fails with this customer's own values
        if text.count(_STAND_IN_OPEN) != sum(text.count(s) for s in stand_ins):
            return None
        return text

    def _written(self, template: jinja2.Template, value: object) -> str | None:
        """A link as the template writes it (``{{ link }}``), or None when it is not a plain text."""
        if type(value) is not str:
            return None
        name = template.name or ""
        escaped = self._escapes.get(name)
        if escaped is None:
            auto = template.environment.autoescape
            escaped = bool(auto(template.name) if callable(auto) else auto)
            if name:
                self._escapes[name] = escaped  # one entry per template file
        return str(escape(value)) if escaped else value

    def _render_html(self, template: jinja2.Template, ctx: dict[str, Any]) -> tuple[str, HtmlLayout | None]:
        """The HTML body with the layout's CSS inlined (see :class:`_CssPlan`), and its layout when known."""
        if self._inliner is None:
            return self._render(template, ctx), None
        name = template.name or ""
        plain = self._plain.get(name)
        if plain is None:
            trees = self._template_trees(name) if name else None
            plain = self._plain[name] = trees is not None and all(_plain_outputs(tree) for tree in trees)
        if not plain or self._css is None:
            return self._inliner.inline(self._render(template, ctx)), None
        return self._css.inline_chunks(self._render_chunks(template, ctx))

    def render_pair(
        self,
        moment: str,
        customer: Mapping[str, Any],
        *,
        variant: str | None = None,
        promotion: str | None = None,
        clean: bool = False,
    ) -> PairedMessage:
        """Render the email and the SMS of ``moment`` for one customer (see :func:`render_pair`)."""
        return self.render_pair_layout(moment, customer, variant=variant, promotion=promotion, clean=clean)[0]

    def render_pair_layout(
        self,
        moment: str,
        customer: Mapping[str, Any],
        *,
        variant: str | None = None,
        promotion: str | None = None,
        clean: bool = False,
    ) -> tuple[PairedMessage, HtmlLayout | None]:
        """:meth:`render_pair`, and the layout of its HTML body when the CSS was inlined per layout (else None)."""
        manifest = self.manifest(moment)
        variant = variant or manifest.variants[0]
        ctx = self.context(moment, customer, variant=variant, promotion=promotion, clean=clean)
        resolution: LocaleResolution = ctx.pop("resolution")
        parts = self.templates(moment, variant, resolution.locale)
        subject = preheader = html = text = ""
        headers: dict[str, str] = {}
        layout = None
        if "html" in parts:
            filters = self._filter_key(ctx)
            subject = " ".join(self._render_part(parts["subject"], ctx, filters).split())
            preheader = " ".join(self._render_part(parts["preheader"], ctx, filters).split())
            ctx["subject"], ctx["preheader"] = subject, preheader
            html, layout = self._render_html(parts["html"], ctx)
            text = self._render_part(parts["text"], ctx, filters).strip() + "\n"
            if "headers" in parts:
                headers = _parse_headers(self._render_part(parts["headers"], ctx, filters))
        sms = analysis = None
        if "sms" in parts:
            ctx["channel"] = "sms"
            sms = _tidy_sms(self._render_part(parts["sms"], ctx, self._filter_key(ctx)))
            analysis = self._analyze_sms(sms)
        pair = PairedMessage(
            moment=moment,
            variant=variant,
            customer_id=str(ctx["customer"].get("customer_id") or ""),
            subject=subject,
            preheader=preheader,
            html=html,
            text=text,
            sms=sms,
            sms_analysis=analysis,
            headers=headers,
            offer=ctx["offer"],
            landing_path=ctx["landing"],
            manifest=manifest,
            templates={part: t.name or "" for part, t in parts.items()},
            locale=resolution,
            market=self._market_name(ctx["customer"]),
            currency=str(ctx["currency"]),
        )
        return pair, layout

    def _analyze_sms(self, text: str) -> SmsAnalysis:
        """:func:`~.sms.analyze_sms` once per distinct SMS text (most differ only by the name, or not at all).

        The analysis is a function of the text alone; each pair gets its own copy of the one mutable
        field (``replacements``), so nothing a caller changes reaches another pair.
        """
        hit = self._sms.get(text)
        if hit is None:
            hit = remember(self._sms, text, analyze_sms(text), 4096)
        return hit.copy()

    def _market_name(self, customer: Mapping[str, Any]) -> str:
        market = self._market(customer)
        return market.name if market is not None else ""


def _tidy_sms(text: str) -> str:
    """Collapse runs of spaces and blank lines the template logic leaves behind."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _parse_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers[name.strip()] = value.strip()
    return headers


_RENDERERS: dict[tuple[int, str], tuple[Strategy, Renderer]] = {}


def get_renderer(strategy: Strategy, *, templates_dir: str | os.PathLike[str] | None = None) -> Renderer:
    """A renderer for this strategy and library, built once and reused (templates compile once)."""
    folder = str(Path(templates_dir) if templates_dir is not None else default_templates_dir())
    key = (id(strategy), folder)
    hit = _RENDERERS.get(key)
    if hit is not None and hit[0] is strategy:
        return hit[1]
    renderer = Renderer(strategy, templates_dir=folder)
    if len(_RENDERERS) > 16:
        _RENDERERS.clear()
    _RENDERERS[key] = (strategy, renderer)
    return renderer


def render_pair(
    moment: str,
    customer: Mapping[str, Any],
    *,
    strategy: Strategy,
    variant: str | None = None,
    promotion: str | None = None,
    templates_dir: str | os.PathLike[str] | None = None,
) -> PairedMessage:
    """Render the email and the SMS of one moment for one customer.

    Parameters
    ----------
    moment
        Moment id (a folder of the template library), e.g. ``"cart_abandonment"``.
    customer
        A profile row (mapping or Series) from ``build_profiles`` / ``segments.assign``.
    strategy
        Brand facts come from ``strategy.brand``.
    variant
        Template variant; default the manifest's first (``"A"``).
    promotion
        Offer code of the current promotion; default the manifest's ``default_offer``.
    templates_dir
        Another template library (default: the repository's ``templates/``).

    Returns
    -------
    PairedMessage

    Raises
    ------
    TemplateError
        Unknown moment or variant, a missing variable (naming template, line and variable), or a
        template refused by the sandbox.
    """
    renderer = get_renderer(strategy, templates_dir=templates_dir)
    return renderer.render_pair(moment, customer, variant=variant, promotion=promotion)


def iter_pairs(
    profiles: Any,
    moment: str,
    *,
    strategy: Strategy,
    variant: str | None = None,
    promotion: str | None = None,
    templates_dir: str | os.PathLike[str] | None = None,
    chunk_size: int = 2000,
    progress: bool = False,
) -> Iterator[list[PairedMessage]]:
    """Render an audience chunk by chunk: yields one list of pairs per chunk of ``chunk_size`` profiles.

    Memory stays flat in the audience size as long as the caller does not keep every chunk.
    ``progress=True`` shows a progress bar (tqdm) over the customers.
    """
    from tqdm.auto import tqdm

    renderer = get_renderer(strategy, templates_dir=templates_dir)
    total = len(profiles)
    with tqdm(total=total, disable=not progress, desc=f"render {moment}", unit="customer") as bar:
        for start in range(0, total, chunk_size):
            chunk = profiles.iloc[start : start + chunk_size]
            records = [customer_context(r) for r in chunk.to_dict("records")]
            yield [renderer.render_pair(moment, r, variant=variant, promotion=promotion, clean=True) for r in records]
            bar.update(len(records))
