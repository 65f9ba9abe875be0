"""Measurement settings: attribution windows and health-alert thresholds, as plain data.

Both are pydantic models so that the strategy file can carry them (a diff of
the file is a diff of how results are measured). Defaults come from
DOMAIN.md: the attribution windows of section 4 and the spam-complaint limits
of section 3; bounce and opt-out limits are industry practice and say so.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "READOUT_DATASETS",
    "AttributionWindows",
    "ExchangeRate",
    "HealthThresholds",
    "MeasurementSettings",
    "settings_from",
]

# The data a measurement readout reads: the journeys' own message history, or the Hillstrom experiment.
READOUT_DATASETS = ("sample", "hillstrom")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttributionWindows(_Model):
    """How long after a touch an order still counts for it, in hours, per channel and touch type.

    Defaults are one ESP's defaults for new accounts (DOMAIN.md section 4):
    email open 5 d, email click 5 d, SMS click 5 d, SMS delivery 12 h. An email
    delivery without an open or click is not a touch (0 h). Last touch wins.
    """

    email_open_hours: float = Field(120.0, ge=0, description="An order within this many hours of an email open.")
    email_click_hours: float = Field(120.0, ge=0, description="An order within this many hours of an email click.")
    email_delivery_hours: float = Field(0.0, ge=0, description="An order after a delivered email (0: not a touch).")
    sms_click_hours: float = Field(120.0, ge=0, description="An order within this many hours of an SMS click.")
    sms_delivery_hours: float = Field(12.0, ge=0, description="An order within this many hours of an SMS delivery.")

    def touch_types(self) -> list[tuple[str, str, str, float]]:
        """(channel, touch type, messages column, hours) for every touch type with a window."""
        rows = [
            ("email", "email_open", "opened_at", self.email_open_hours),
            ("email", "email_click", "clicked_at", self.email_click_hours),
            ("email", "email_delivery", "delivered_at", self.email_delivery_hours),
            ("sms", "sms_click", "clicked_at", self.sms_click_hours),
            ("sms", "sms_delivery", "delivered_at", self.sms_delivery_hours),
        ]
        return [r for r in rows if r[3] > 0]


class HealthThresholds(_Model):
    """Rates at which a step is flagged, with a warning level and a critical level.

    - Spam complaints (email): warning 0.1%, critical 0.3% of delivered (DOMAIN.md
      section 3: Gmail and Yahoo require under 0.1% and never 0.3%).
    - Bounces (share of sent) and unsubscribes or opt-outs (share of delivered):
      industry practice (email bounces under 2%, unsubscribes under 0.5% a send;
      SMS carriers filter senders with many undelivered texts or opt-outs).
    - Steps with fewer than ``min_delivered`` delivered messages are not judged.
    """

    email_bounce_warning: float = Field(0.02, ge=0, le=1)
    email_bounce_critical: float = Field(0.05, ge=0, le=1)
    sms_bounce_warning: float = Field(0.03, ge=0, le=1)
    sms_bounce_critical: float = Field(0.08, ge=0, le=1)
    email_unsubscribe_warning: float = Field(0.005, ge=0, le=1)
    email_unsubscribe_critical: float = Field(0.01, ge=0, le=1)
    sms_opt_out_warning: float = Field(0.02, ge=0, le=1)
    sms_opt_out_critical: float = Field(0.05, ge=0, le=1)
    spam_complaint_warning: float = Field(0.001, ge=0, le=1)
    spam_complaint_critical: float = Field(0.003, ge=0, le=1)
    min_delivered: int = Field(100, ge=0, description="Steps with fewer delivered messages are not judged.")

    @model_validator(mode="after")
    def _ordered(self) -> HealthThresholds:
        pairs = [
            ("email_bounce", self.email_bounce_warning, self.email_bounce_critical),
            ("sms_bounce", self.sms_bounce_warning, self.sms_bounce_critical),
            ("email_unsubscribe", self.email_unsubscribe_warning, self.email_unsubscribe_critical),
            ("sms_opt_out", self.sms_opt_out_warning, self.sms_opt_out_critical),
            ("spam_complaint", self.spam_complaint_warning, self.spam_complaint_critical),
        ]
        for name, warn, crit in pairs:
            if warn > crit:
                msg = f"{name}_warning ({warn}) is above {name}_critical ({crit}); the warning must come first"
                raise ValueError(msg)
        return self


class ExchangeRate(_Model):
    """What one unit of a currency is worth in the reporting currency, on a stated day, from a stated source.

    Rates are data the analyst chooses and can audit (a diff of the strategy file
    shows a changed rate): the workbench never looks one up.
    """

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="The currency converted from (ISO 4217, e.g. GBP).")
    rate: float = Field(gt=0, description="Units of the reporting currency for one unit of `currency`.")
    date: dt.date = Field(description="The day the rate is for (e.g. the reference rate of the last day measured).")
    source: str = Field(min_length=1, description="Where the rate comes from, e.g. 'ECB euro reference rates'.")


class MeasurementSettings(_Model):
    """Everything the measurement of a strategy is configured by (the ``measurement`` part of a strategy)."""

    attribution_windows: AttributionWindows = AttributionWindows()
    health: HealthThresholds = HealthThresholds()
    time_decay_half_life_hours: float = Field(168.0, gt=0, description="Half-life of the time-decay model.")
    position_weights: tuple[float, float, float] = Field(
        (0.4, 0.2, 0.4), description="Position-based credit: first touch, all middle touches together, last touch."
    )
    visit_window_hours: float = Field(24.0, gt=0, description="Site visits this long after a delivery count for it.")
    machine_open_seconds: float = Field(
        2.0, ge=0, description="An open this soon after delivery is taken as a machine open (privacy proxies)."
    )
    reporting_currency: str | None = Field(
        None,
        pattern=r"^[A-Z]{3}$",
        description="The currency revenue is reported in when orders are in several (default: the brand's).",
    )
    exchange_rates: list[ExchangeRate] = Field(
        default_factory=list,
        description="Rates into the reporting currency, each with its day and source; without them, orders in "
        "several currencies are refused rather than added up.",
    )

    @field_validator("exchange_rates")
    @classmethod
    def _one_rate_per_currency(cls, value: list[ExchangeRate]) -> list[ExchangeRate]:
        seen: set[str] = set()
        for rate in value:
            if rate.currency in seen:
                msg = f"exchange_rates lists {rate.currency} twice; give one rate per currency"
                raise ValueError(msg)
            seen.add(rate.currency)
        return value

    @model_validator(mode="after")
    def _weights(self) -> MeasurementSettings:
        if min(self.position_weights) < 0 or abs(sum(self.position_weights) - 1) > 1e-9:
            msg = "position_weights must be three non-negative numbers adding up to 1, e.g. [0.4, 0.2, 0.4]"
            raise ValueError(msg)
        to_self = [r for r in self.exchange_rates if r.currency == self.reporting_currency and r.rate != 1]
        if to_self:
            msg = f"exchange_rates gives {to_self[0].currency}, the reporting currency, a rate other than 1"
            raise ValueError(msg)
        return self


def settings_from(strategy: object | None) -> MeasurementSettings:
    """The strategy's measurement settings, or the defaults when it has none (or when ``strategy`` is None)."""
    found = getattr(strategy, "measurement", None) if strategy is not None else None
    if isinstance(found, MeasurementSettings):
        return found
    if isinstance(found, dict):
        return MeasurementSettings.model_validate(found)
    return MeasurementSettings()
