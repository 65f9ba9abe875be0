"""The contact policy: caps, spacing, quiet hours, preferred hours, frequency preferences and adaptive cadence.

The policy lives in the ``policy:`` section of the strategy file and is
validated by :class:`ContactPolicy`. Every field has a default, so an empty
section gives the safe defaults shown in ``data/strategy.yaml``.

Quiet hours are a rule table (:data:`DEFAULT_QUIET_HOURS`) with the US federal,
state (Florida, Oklahoma, Maryland, Washington, Texas, Connecticut) and
Canadian (CRTC) windows of DOMAIN.md section 2, plus a default for every other
country. A strategy overrides a rule by giving one with the same ``name``
(``enabled: false`` switches it off) and adds rules with new names. The rule
that applies to a customer is the most specific match: country and region,
then country, then the default. A time is allowed only when it falls inside
the window in **every** zone of the customer (a phone number can span zones).

The arithmetic of allowed minutes (weekly masks, the next allowed time) is
in :mod:`workbench.policy`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .errors import WorkbenchError

__all__ = [
    "CONSENT_SOURCES",
    "DAYS",
    "DEFAULT_CAPS",
    "DEFAULT_MARKETS",
    "DEFAULT_QUIET_HOURS",
    "AdaptiveCadence",
    "BreakActions",
    "Cap",
    "ConsentRegime",
    "ContactPolicy",
    "EngagementWeights",
    "MarketRule",
    "QuietHoursRule",
    "Requirement",
    "Spacing",
    "TimeWindow",
    "duration_minutes",
    "market_for",
    "rule_for",
]

Channel = Literal["email", "sms"]
Action = Literal["defer", "suppress"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_WEEK = 7 * 1440
_UNITS = {"m": 1, "h": 60, "d": 1440, "w": 10080}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def duration_minutes(text: str | int | float) -> int:
    """Minutes in a duration such as ``"90m"``, ``"4h"``, ``"7d"`` or ``"2w"`` (a bare number is hours).

    Examples
    --------
    >>> duration_minutes("7d"), duration_minutes("90m"), duration_minutes(2)
    (10080, 90, 120)
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        return round(float(text) * 60)
    found = _DURATION.match(str(text))
    if not found:
        msg = f"duration {text!r} is not understood. Fix: write a number and a unit, e.g. 90m, 4h, 7d or 2w"
        raise WorkbenchError(msg)
    return round(float(found.group(1)) * _UNITS[found.group(2)])


def _check_duration(value: str) -> str:
    try:
        duration_minutes(value)
    except WorkbenchError as exc:
        raise ValueError(str(exc)) from None
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]


def _parse_days(text: str) -> tuple[int, ...]:
    """``"mon-fri"``, ``"sat,sun"``, ``"mon-sun"`` or ``"sun"`` to weekday numbers (Monday is 0)."""
    out: list[int] = []
    for part in str(text).lower().replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            if a not in DAYS or b not in DAYS:
                msg = f"days {text!r}: use mon, tue, wed, thu, fri, sat, sun, ranges (mon-fri) and commas"
                raise ValueError(msg)
            i, j = DAYS.index(a), DAYS.index(b)
            out.extend(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part in DAYS:
            out.append(DAYS.index(part))
        else:
            msg = f"days {text!r}: use mon, tue, wed, thu, fri, sat, sun, ranges (mon-fri) and commas"
            raise ValueError(msg)
    if not out:
        msg = f"days {text!r} names no day"
        raise ValueError(msg)
    return tuple(sorted(set(out)))


def _clock_minutes(text: str) -> int:
    found = _CLOCK.match(str(text))
    if not found or (found.group(1) == "24" and found.group(2) != "00"):
        msg = f"time {text!r}: write local clock time as HH:MM, 00:00 to 24:00"
        raise ValueError(msg)
    return int(found.group(1)) * 60 + int(found.group(2))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeWindow(_Model):
    """Local clock times on some weekdays: from ``start`` (included) to ``end`` (excluded)."""

    days: str = Field("mon-sun", description="Weekdays: mon-fri, sat,sun, mon-sat, sun ...")
    start: str = Field("08:00", description="Local start, HH:MM (included).")
    end: str = Field("21:00", description="Local end, HH:MM (excluded); 24:00 is midnight.")

    @model_validator(mode="after")
    def _valid(self) -> TimeWindow:
        _parse_days(self.days)
        if _clock_minutes(self.end) <= _clock_minutes(self.start):
            msg = f"window {self.start}-{self.end}: end must be after start (split a window that crosses midnight)"
            raise ValueError(msg)
        return self

    @property
    def weekdays(self) -> tuple[int, ...]:
        return _parse_days(self.days)

    @property
    def minutes(self) -> tuple[int, int]:
        return _clock_minutes(self.start), _clock_minutes(self.end)


def _w(days: str, start: str, end: str) -> TimeWindow:
    return TimeWindow(days=days, start=start, end=end)


class QuietHoursRule(_Model):
    """When a channel may be used in the recipient's local time, for a country and optionally some regions."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable id; a rule with the same name overrides.")
    country: str | None = Field(None, description="ISO 3166 alpha-2; none means every other country (default).")
    regions: list[str] = Field(default_factory=list, description="Regions (e.g. US states); empty: whole country.")
    channels: list[Channel] = Field(
        default_factory=lambda: list[Channel](["sms"]), description="Channels the rule restricts."
    )
    allowed: list[TimeWindow] = Field(description="Windows in which sending is allowed (their union).")
    enabled: bool = True
    source: str = Field("", description="Where the rule comes from (law, practice, vendor table).")

    @model_validator(mode="after")
    def _upper(self) -> QuietHoursRule:
        if self.country is not None and self.country != self.country.upper():
            msg = f"rule {self.name}: country {self.country!r} must be upper-case ISO 3166 alpha-2"
            raise ValueError(msg)
        if not self.allowed:
            msg = f"rule {self.name}: give at least one allowed window"
            raise ValueError(msg)
        return self

    @property
    def specificity(self) -> int:
        return 2 if self.regions else (1 if self.country else 0)


#: Quiet-hour defaults of DOMAIN.md section 2 (allowed windows in the recipient's local time).
DEFAULT_QUIET_HOURS: tuple[QuietHoursRule, ...] = (
    QuietHoursRule(
        name="default",
        allowed=[_w("mon-sun", "08:00", "21:00")],
        source="practice: US federal hours used where no other rule applies",
    ),
    QuietHoursRule(
        name="us_federal",
        country="US",
        allowed=[_w("mon-sun", "08:00", "21:00")],
        source="law: 47 CFR 64.1200 (telephone solicitation); practice for consented texts",
    ),
    QuietHoursRule(
        name="us_fl_ok_md",
        country="US",
        regions=["FL", "OK", "MD"],
        allowed=[_w("mon-sun", "08:00", "20:00")],
        source="law: Florida, Oklahoma, Maryland telephone solicitation acts",
    ),
    QuietHoursRule(
        name="us_wa",
        country="US",
        regions=["WA"],
        allowed=[_w("mon-sun", "08:00", "20:00")],
        source="law: Washington, commercial solicitors",
    ),
    QuietHoursRule(
        name="us_tx",
        country="US",
        regions=["TX"],
        allowed=[_w("mon-sat", "09:00", "21:00"), _w("sun", "12:00", "21:00")],
        source="vendor table, unverified against statute",
    ),
    QuietHoursRule(
        name="us_ct",
        country="US",
        regions=["CT"],
        allowed=[_w("mon-sun", "09:00", "20:00")],
        source="vendor table, unverified against statute",
    ),
    QuietHoursRule(
        name="ca_crtc",
        country="CA",
        allowed=[_w("mon-fri", "09:00", "21:30"), _w("sat-sun", "10:00", "18:00")],
        source="CRTC telemarketing rules",
    ),
    QuietHoursRule(
        name="fr_sms_practice",
        country="FR",
        allowed=[_w("mon-sat", "08:00", "20:00")],
        source=(
            "practice (uncertain as law): French SMS providers hold marketing texts from 20:00 to 08:00, on Sundays "
            "and on public holidays, a rule often attributed to the CNIL but found in no statute; public holidays "
            "are not modelled. The legal hours of Code de la consommation art. D223-9 (decree 2022-1313) name "
            "telephone calls, not texts, and exempt consumers who gave prior express consent: see the disabled "
            "rule fr_d223_9_calls"
        ),
    ),
    QuietHoursRule(
        name="fr_d223_9_calls",
        country="FR",
        allowed=[_w("mon-fri", "10:00", "13:00"), _w("mon-fri", "14:00", "20:00")],
        enabled=False,
        source=(
            "law for marketing calls: Code de la consommation art. D223-9 (decree 2022-1313 of 13 October 2022, "
            "in force 1 March 2023): Monday to Friday 10:00-13:00 and 14:00-20:00, not on public holidays, unless "
            "the consumer gave prior express consent. Whether it reaches SMS is not settled: disabled, enable it "
            "to plan as if it did"
        ),
    ),
    QuietHoursRule(
        name="de_sms_practice",
        country="DE",
        allowed=[_w("mon-sat", "08:00", "20:00")],
        source=(
            "practice (no statute found): German senders avoid nights and Sundays (Sonn- und Feiertagsruhe); "
            "UWG para. 7 sets consent, not hours; public holidays are not modelled"
        ),
    ),
)


# ---------------------------------------------------------------- markets: consent, required elements, locale

Certainty = Literal["law", "practice", "uncertain"]
#: What a message must carry in a market (checked by the lint on the rendered pair).
Element = Literal[
    "sender_identity",
    "postal_address",
    "contact_details",
    "unsubscribe_link",
    "opt_out_instruction",
    "program_disclosures",
]
#: Ledger ``source`` values the market consent check reads; any other source is a single express opt-in.
CONSENT_SOURCES = {
    "double_opt_in": "express consent confirmed by the person (a link in a confirmation email or a reply)",
    "soft_opt_in": "no opt-in: an existing customer's details, used for similar products, refusal offered each time",
    "implied": "implied consent from a purchase (Canada's existing business relationship)",
}


class ConsentRegime(_Model):
    """What a market's law asks before a marketing message on one channel, and how the simulator checks it."""

    channel: Channel
    basis: Literal["opt_in", "opt_out"] = Field(
        "opt_in",
        description="opt_in: prior consent needed; opt_out: allowed until the person objects (the workbench still "
        "sends only with consent on record).",
    )
    soft_opt_in: bool = Field(False, description="Existing customers may get similar products without opt-in.")
    implied_consent_days: int | None = Field(
        None, ge=1, description="Days an implied consent (ledger source 'implied') lasts after it is recorded."
    )
    double_opt_in: bool = Field(False, description="Only confirmed opt-ins (ledger source 'double_opt_in') count.")
    certainty: Certainty = "law"
    source: str = Field(min_length=1, description="Law and section, or regulator page.")
    note: str = ""

    def refuses(self, ledger_source: object) -> bool:
        """Whether a subscribed ledger row with this ``source`` is not valid consent in this market."""
        text = "" if ledger_source is None or ledger_source != ledger_source else str(ledger_source).strip().lower()
        if text == "soft_opt_in":
            return not self.soft_opt_in
        if text == "implied":
            return self.implied_consent_days is None
        if self.double_opt_in:
            return text != "double_opt_in"
        return False


class Requirement(_Model):
    """An element every message of a channel must carry in a market, with the rule that asks for it."""

    element: Element
    channels: list[Channel] = Field(min_length=1)
    certainty: Certainty = "law"
    source: str = Field(min_length=1, description="Law and section, or regulator page.")
    note: str = ""


class MarketRule(_Model):
    """A market (country, optionally some regions): its language, currency, consent regime and required elements.

    The most specific enabled rule applies to a customer: country and region, then country, then the
    default (no country). A strategy overrides a rule by giving one with the same ``name``.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    country: str | None = Field(None, description="ISO 3166 alpha-2; none: every other country (the default).")
    regions: list[str] = Field(default_factory=list)
    enabled: bool = True
    locale: str | None = Field(
        None, description="The market's language (BCP 47, e.g. fr-CA) for customers without a stated locale."
    )
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="The market's currency (ISO 4217).")
    languages: list[str] = Field(
        default_factory=list, description="Languages marketing content must be in (empty: any language)."
    )
    languages_source: str = ""
    consent: list[ConsentRegime] = Field(default_factory=list)
    requirements: list[Requirement] = Field(default_factory=list)
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> MarketRule:
        if self.country is not None and self.country != self.country.upper():
            msg = f"market {self.name}: country {self.country!r} must be upper-case ISO 3166 alpha-2"
            raise ValueError(msg)
        if self.regions and self.country is None:
            msg = f"market {self.name}: regions need a country"
            raise ValueError(msg)
        channels = [c.channel for c in self.consent]
        if len(set(channels)) != len(channels):
            msg = f"market {self.name}: give one consent regime per channel"
            raise ValueError(msg)
        return self

    @property
    def specificity(self) -> int:
        return 2 if self.regions else (1 if self.country else 0)

    def consent_for(self, channel: str) -> ConsentRegime | None:
        """The consent regime of ``channel`` (None: nothing beyond consent on record)."""
        return next((c for c in self.consent if c.channel == channel), None)

    def required(self, channel: str) -> list[Requirement]:
        """The elements a message on ``channel`` must carry here."""
        return [r for r in self.requirements if channel in r.channels]


def _consent(channel: Channel, source: str, **kw: Any) -> ConsentRegime:
    return ConsentRegime(channel=channel, source=source, **kw)


def _need(element: Element, channels: str, source: str, **kw: Any) -> Requirement:
    return Requirement(element=element, channels=channels.split(","), source=source, **kw)


_CASL_ID = "CASL (S.C. 2010, c. 23) s. 6(2)(a)-(b); Electronic Commerce Protection Regulations (CRTC) SOR/2012-36 s. 2"
_CASL_UNSUB = "CASL s. 6(2)(c) and s. 11; CRTC bulletin 2012-548 (a link to a web page is acceptable in an SMS)"


def _casl_requirements() -> list[Requirement]:
    """What CASL asks of every commercial electronic message in Canada, and the short-code practice for SMS."""
    return [
        _need("sender_identity", "email,sms", _CASL_ID),
        _need("postal_address", "email", _CASL_ID + " (mailing address)"),
        _need(
            "contact_details",
            "email,sms",
            _CASL_ID + " (a phone number, email or web address); in an SMS a "
            "link to a page with them is acceptable (SOR/2012-36 s. 3)",
        ),
        _need("unsubscribe_link", "email", _CASL_UNSUB),
        _need("opt_out_instruction", "sms", _CASL_UNSUB),
        _need(
            "program_disclosures",
            "sms",
            "CWTA Canadian Common Short Code Application Guidelines",
            certainty="practice",
        ),
    ]


_PECR = "Privacy and Electronic Communications Regulations 2003 (UK)"
_CPCE = "Code des postes et des communications electroniques art. L34-5 (France)"
_UWG = "UWG (Germany) para. 7"

#: Market rules of the sample audience's countries (and a default), each element with its source.
DEFAULT_MARKETS: tuple[MarketRule, ...] = (
    MarketRule(
        name="default",
        locale=None,
        consent=[
            _consent("email", "house rule: no marketing without consent on record", certainty="practice"),
            _consent("sms", "house rule: no marketing without consent on record", certainty="practice"),
        ],
        requirements=[
            _need(
                "sender_identity",
                "email,sms",
                "practice: every marketing law reviewed asks for it",
                certainty="practice",
            ),
            _need("unsubscribe_link", "email", "practice", certainty="practice"),
            _need("opt_out_instruction", "sms", "practice", certainty="practice"),
        ],
        note="Countries without a rule of their own; extend the table before sending to a new market.",
    ),
    MarketRule(
        name="us",
        country="US",
        locale="en-US",
        currency="USD",
        consent=[
            _consent(
                "email",
                "CAN-SPAM Act, 15 U.S.C. 7704(a)(3)-(4)",
                basis="opt_out",
                note="email marketing may be sent until the person opts out; the workbench still needs consent",
            ),
            _consent("sms", "TCPA, 47 CFR 64.1200(a)(2): prior express written consent for marketing texts"),
        ],
        requirements=[
            _need("postal_address", "email", "CAN-SPAM, 15 U.S.C. 7704(a)(5)(A)(iii)"),
            _need("unsubscribe_link", "email", "CAN-SPAM, 15 U.S.C. 7704(a)(3) and (a)(5)(A)(ii)"),
            _need(
                "sender_identity",
                "email,sms",
                "CAN-SPAM 7704(a)(1) (no misleading header); CTIA Messaging Principles and Best Practices for texts",
                certainty="law",
            ),
            _need(
                "opt_out_instruction",
                "sms",
                "CTIA Messaging Principles and Best Practices; 47 CFR 64.1200(a)(10)",
                certainty="practice",
            ),
            _need(
                "program_disclosures",
                "sms",
                "CTIA Messaging Principles and Best Practices (first message)",
                certainty="practice",
            ),
        ],
    ),
    MarketRule(
        name="ca",
        country="CA",
        locale="en-CA",
        currency="CAD",
        consent=[
            _consent(
                ch,
                "CASL s. 6(1)(a) (consent) and s. 10(9)-(10) (implied consent: existing business relationship, "
                "2 years after a purchase, 6 months after an inquiry)",
                implied_consent_days=730,
                note="an implied consent from an inquiry lasts 183 days: record such rows with their own expiry",
            )
            for ch in ("email", "sms")
        ],
        requirements=_casl_requirements(),
    ),
    MarketRule(
        name="ca_qc",
        country="CA",
        regions=["QC"],
        locale="fr-CA",
        currency="CAD",
        languages=["fr"],
        languages_source=(
            "uncertain: Charter of the French language (Quebec) s. 52 asks for commercial publications in French; "
            "whether it reaches an email to a customer who chose English is not settled (French alongside "
            "another language is accepted)"
        ),
        consent=[
            _consent(
                ch,
                "CASL s. 6(1)(a) and s. 10(9)-(10) (implied consent: 2 years after a purchase)",
                implied_consent_days=730,
            )
            for ch in ("email", "sms")
        ],
        requirements=_casl_requirements(),  # CASL is federal: Quebec's messages carry the same
    ),
    MarketRule(
        name="gb",
        country="GB",
        locale="en-GB",
        currency="GBP",
        consent=[
            _consent(
                ch,
                _PECR + " reg. 22(2)-(3) (consent, or the soft opt-in: details from a sale, similar products, a "
                "simple refusal offered at collection and in every message); reg. 2 counts SMS as electronic mail",
                soft_opt_in=True,
            )
            for ch in ("email", "sms")
        ],
        requirements=[
            _need("sender_identity", "email,sms", _PECR + " reg. 23(a)"),
            _need("unsubscribe_link", "email", _PECR + " reg. 23(b) (a valid address to ask that messages stop)"),
            _need("opt_out_instruction", "sms", _PECR + " reg. 23(b); ICO guidance accepts a free short code (STOP)"),
            _need(
                "postal_address",
                "email",
                "Electronic Commerce (EC Directive) Regulations 2002 reg. 6(1)(b): the "
                "geographic address must be easily accessible, which a web page can satisfy",
                certainty="uncertain",
            ),
        ],
    ),
    MarketRule(
        name="fr",
        country="FR",
        locale="fr-FR",
        currency="EUR",
        consent=[
            _consent(
                ch,
                _CPCE + " al. 1 and 2; CNIL, 'La prospection commerciale par SMS-MMS' and 'par courrier "
                "electronique' (existing customers, analogous products: no opt-in, a free refusal at collection "
                "and in each message)",
                soft_opt_in=True,
            )
            for ch in ("email", "sms")
        ],
        requirements=[
            _need("sender_identity", "email,sms", _CPCE + " al. 5 (hiding the sender's identity is forbidden)"),
            _need("unsubscribe_link", "email", _CPCE + " al. 5 (valid details to ask that messages stop)"),
            _need("opt_out_instruction", "sms", _CPCE + " al. 5; CNIL recommends 'STOP' in each SMS"),
        ],
    ),
    MarketRule(
        name="de",
        country="DE",
        locale="de-DE",
        currency="EUR",
        consent=[
            _consent(
                "email",
                _UWG + " Abs. 2 Nr. 2 (prior express consent for electronic mail; Nr. 3 before the 2022 "
                "amendment) and Abs. 3 (existing customers); BGH I ZR 164/09 (the sender must prove consent)",
                soft_opt_in=True,
                double_opt_in=True,
                certainty="practice",
                note="double opt-in is the accepted proof of consent in German practice, not a statutory step",
            ),
            _consent(
                "sms",
                _UWG + " Abs. 2 Nr. 2 (SMS is electronic mail)",
                soft_opt_in=True,
                certainty="uncertain",
                note="whether the existing-customer exception of Abs. 3 covers SMS is disputed",
            ),
        ],
        requirements=[
            _need("sender_identity", "email,sms", _UWG + " Abs. 2 Nr. 3 (Nr. 4 before 2022); DDG para. 6(1) Nr. 2"),
            _need("unsubscribe_link", "email", _UWG + " Abs. 2 Nr. 3 and Abs. 3 Nr. 4 (a valid address to object)"),
            _need("opt_out_instruction", "sms", _UWG + " Abs. 2 Nr. 3 and Abs. 3 Nr. 4"),
            _need(
                "postal_address",
                "email",
                "practice: German senders add the imprint (DDG para. 5) to emails; "
                "not settled as a duty for marketing emails of a foreign sender",
                certainty="uncertain",
            ),
        ],
    ),
    MarketRule(
        name="au",
        country="AU",
        locale="en-AU",
        currency="AUD",
        consent=[
            _consent(ch, "Spam Act 2003 (Cth) s. 16 and Schedule 2 (express or inferred consent)")
            for ch in ("email", "sms")
        ],
        requirements=[
            _need("sender_identity", "email,sms", "Spam Act 2003 s. 17"),
            _need("contact_details", "email,sms", "Spam Act 2003 s. 17 (how to contact the sender)"),
            _need("unsubscribe_link", "email", "Spam Act 2003 s. 18"),
            _need("opt_out_instruction", "sms", "Spam Act 2003 s. 18"),
        ],
    ),
)


def _merge_markets(defaults: Sequence[MarketRule], given: Sequence[MarketRule]) -> list[MarketRule]:
    by_name = {r.name: r for r in defaults}
    for rule in given:
        by_name[rule.name] = rule
    return list(by_name.values())


def market_for(markets: Sequence[MarketRule], country: object, region: object) -> MarketRule | None:
    """The most specific enabled market rule: country and region, then country, then the default."""
    co, rg = _norm(country), _norm(region)
    best: MarketRule | None = None
    for rule in markets:
        if not rule.enabled:
            continue
        if rule.country is not None and rule.country != co:
            continue
        if rule.regions and rg not in {r.upper() for r in rule.regions}:
            continue
        if best is None or rule.specificity > best.specificity:
            best = rule
    return best


class Cap(_Model):
    """At most ``max`` touches on ``channel`` (``any``: all channels) in any rolling window of length ``per``."""

    channel: Literal["email", "sms", "any"] = "any"
    max: int = Field(ge=1)
    per: Duration = Field(description="Window length, e.g. 24h, 7d.")

    @property
    def window_minutes(self) -> int:
        return duration_minutes(self.per)

    @property
    def label(self) -> str:
        return f"{self.max}/{self.per}"


DEFAULT_CAPS: tuple[Cap, ...] = (
    Cap(channel="email", max=3, per="7d"),
    Cap(channel="sms", max=2, per="7d"),
    Cap(channel="any", max=1, per="1d"),
    Cap(channel="any", max=4, per="7d"),
)


class Spacing(_Model):
    """Minimum time between touches."""

    any_touch: Duration = Field("4h", description="Between any two touches to a customer.")
    same_moment: Duration = Field("20h", description="Between the email and the SMS of one journey (moment).")


class BreakActions(_Model):
    """What happens to a touch that breaks a rule: ``suppress`` it, or ``defer`` it to the next allowed moment."""

    quiet_hours: Action = "defer"
    preferred_hours: Action = "defer"
    caps: Action = "defer"
    spacing: Action = "defer"
    frequency: Action = "suppress"


class EngagementWeights(_Model):
    """Weights of each recent signal in the engagement score (each decays with the half-life)."""

    email_open: float = Field(1.0, ge=0)
    email_click: float = Field(3.0, ge=0)
    sms_click: float = Field(3.0, ge=0)
    site_visit: float = Field(0.5, ge=0)
    order: float = Field(5.0, ge=0)


class AdaptiveCadence(_Model):
    """Engagement-driven cadence: engaged customers get shorter delays, fading ones longer, dormant ones pause."""

    enabled: bool = True
    half_life_days: float = Field(30.0, gt=0, description="A signal counts half after this many days.")
    weights: EngagementWeights = EngagementWeights()
    engaged_at: float = Field(6.0, description="Score at or above: engaged.")
    fading_below: float = Field(1.5, description="Score below: fading.")
    dormant_below: float = Field(0.25, description="Score below: dormant.")
    engaged_delay_factor: float = Field(0.75, gt=0, description="Journey delays are multiplied by this.")
    fading_delay_factor: float = Field(1.5, gt=0)
    dormant_delay_factor: float = Field(2.0, gt=0)
    pause_when_dormant: list[Channel] = Field(
        default_factory=lambda: list[Channel](["sms"]), description="Channels not used at all for dormant customers."
    )

    @model_validator(mode="after")
    def _ordered(self) -> AdaptiveCadence:
        if not self.dormant_below <= self.fading_below <= self.engaged_at:
            msg = "thresholds must grow: dormant_below <= fading_below <= engaged_at"
            raise ValueError(msg)
        return self


def _default_preferred() -> dict[Channel, list[TimeWindow]]:
    return {"email": [_w("mon-sun", "09:00", "20:00")], "sms": [_w("mon-sun", "10:00", "20:00")]}


def _default_frequencies() -> dict[str, Cap]:
    return {
        "daily": Cap(channel="any", max=1, per="1d"),
        "weekly": Cap(channel="any", max=1, per="7d"),
        "biweekly": Cap(channel="any", max=1, per="14d"),
        "monthly": Cap(channel="any", max=1, per="30d"),
    }


def _merge_rules(defaults: Sequence[QuietHoursRule], given: Sequence[QuietHoursRule]) -> list[QuietHoursRule]:
    by_name = {r.name: r for r in defaults}
    for rule in given:
        by_name[rule.name] = rule
    return list(by_name.values())


class ContactPolicy(_Model):
    """The whole contact policy of a strategy.

    Examples
    --------
    >>> policy = ContactPolicy()
    >>> [c.label for c in policy.caps]
    ['3/7d', '2/7d', '1/1d', '4/7d']
    >>> policy.rule_for("US", "TX").name
    'us_tx'
    """

    caps: list[Cap] = Field(
        default_factory=lambda: list(DEFAULT_CAPS), description="Per-channel and global caps over rolling windows."
    )
    spacing: Spacing = Spacing()
    quiet_hours: list[QuietHoursRule] = Field(
        default_factory=lambda: list(DEFAULT_QUIET_HOURS),
        description="Quiet-hour rules, merged by name over the defaults (enabled: false switches one off).",
    )
    include_default_quiet_hours: bool = Field(True, description="Merge quiet_hours over DEFAULT_QUIET_HOURS.")
    preferred_hours: dict[Channel, list[TimeWindow]] = Field(
        default_factory=_default_preferred, description="Local send hours preferred per channel."
    )
    frequency_column: str = Field("frequency_preference", description="Audience column with the customer's choice.")
    frequency_preferences: dict[str, Cap] = Field(
        default_factory=_default_frequencies, description="Cap for each value of the frequency column."
    )
    on_break: BreakActions = BreakActions()
    max_defer: Duration = Field("48h", description="A touch deferred further than this is suppressed.")
    adaptive: AdaptiveCadence = AdaptiveCadence()
    max_sms_segments: int = Field(2, ge=1, le=10, description="Longest SMS allowed (segments); read by the lint.")
    markets: list[MarketRule] = Field(
        default_factory=lambda: list(DEFAULT_MARKETS),
        description="Market rules (locale, currency, consent regime, required elements), merged by name over the "
        "defaults (enabled: false switches one off).",
    )
    include_default_markets: bool = Field(True, description="Merge markets over DEFAULT_MARKETS.")

    @model_validator(mode="after")
    def _merge(self) -> ContactPolicy:
        names = [r.name for r in self.quiet_hours]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            msg = f"quiet-hour rule names must be unique: {', '.join(dupes)}"
            raise ValueError(msg)
        if self.include_default_quiet_hours:
            merged = _merge_rules(DEFAULT_QUIET_HOURS, self.quiet_hours)
            if [r.name for r in merged] != names or merged != self.quiet_hours:
                object.__setattr__(self, "quiet_hours", merged)
        market_names = [m.name for m in self.markets]
        dupes = sorted({n for n in market_names if market_names.count(n) > 1})
        if dupes:
            msg = f"market rule names must be unique: {', '.join(dupes)}"
            raise ValueError(msg)
        if self.include_default_markets:
            markets = _merge_markets(DEFAULT_MARKETS, self.markets)
            if markets != self.markets:
                object.__setattr__(self, "markets", markets)
        return self

    @property
    def max_defer_minutes(self) -> int:
        return duration_minutes(self.max_defer)

    def rule_for(self, country: object, region: object, channel: str = "sms") -> QuietHoursRule | None:
        """The quiet-hour rule for a country/region and channel (None: the channel has no quiet hours)."""
        return rule_for(self.quiet_hours, country, region, channel)

    def market_for(self, country: object, region: object) -> MarketRule | None:
        """The market rule for a country/region (see :func:`market_for`)."""
        return market_for(self.markets, country, region)

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> ContactPolicy:
        """A copy with some fields replaced, validated again.

        Nested mappings merge (``{"spacing": {"any_touch": "2h"}}`` keeps
        ``same_moment``); an empty mapping replaces (``{"preferred_hours": {}}``
        drops the preferred hours); lists replace.
        """
        if not overrides:
            return self
        data = self.model_dump(mode="json")
        _deep_update(data, dict(overrides))
        return ContactPolicy.model_validate(data)


def _deep_update(base: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and value and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = value


def _norm(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip().upper()
    return text or None


def rule_for(
    rules: Sequence[QuietHoursRule], country: object, region: object, channel: str = "sms"
) -> QuietHoursRule | None:
    """The most specific enabled rule for the channel: country and region, then country, then the default."""
    co, rg = _norm(country), _norm(region)
    best: QuietHoursRule | None = None
    for rule in rules:
        if not rule.enabled or channel not in rule.channels:
            continue
        if rule.country is not None and rule.country != co:
            continue
        if rule.regions and rg not in {r.upper() for r in rule.regions}:
            continue
        if best is None or rule.specificity > best.specificity:
            best = rule
    return best
