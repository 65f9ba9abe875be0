"""Cadence: the contact policy applied to every customer's path through every journey, before launch.

``simulate(audience, journeys, policy, start=, days=, seed=)`` returns the send
plan: one row per planned touch, kept, deferred or suppressed, with the rule
that decided it. The summaries turn a plan into the tables a retention analyst
reads (touches per customer per week, collisions between journeys,
suppressions by reason, daily volume, send hours).
"""

from __future__ import annotations

from .engagement import TIERS, engagement_from_profiles, engagement_score, engagement_tier, outcome_rates
from .kernel import STATUSES
from .simulate import PLAN_COLUMNS, apply_policy, resolve_journeys, resolve_start, simulate
from .summary import (
    collisions,
    daily_volume,
    send_hours,
    summarize,
    suppressions_by_reason,
    touches_per_customer_week,
    touches_per_week,
)

__all__ = [
    "PLAN_COLUMNS",
    "STATUSES",
    "TIERS",
    "apply_policy",
    "collisions",
    "daily_volume",
    "engagement_from_profiles",
    "engagement_score",
    "engagement_tier",
    "outcome_rates",
    "resolve_journeys",
    "resolve_start",
    "send_hours",
    "simulate",
    "summarize",
    "suppressions_by_reason",
    "touches_per_customer_week",
    "touches_per_week",
]
