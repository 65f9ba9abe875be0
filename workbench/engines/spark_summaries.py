"""The summary tables of a send plan, added up by Spark (:func:`workbench.cadence.summarize` on a Spark plan).

Each table is small (one row per segment, journey pair, reason, day or hour),
so it is computed by Spark and collected; the plan itself stays where it is.
The tables have the columns, rows and types of :func:`workbench.cadence.summarize`'s;
means may differ in their last digits (sums in another order), and rows that
tie on every sort key may come in another order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..cadence.summary import _SENT, _WEEKDAYS
from ..policy import duration_minutes
from .spark_arrow import to_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["plan_summaries"]


def _collect(frame: DataFrame) -> pd.DataFrame:
    return to_pandas(frame)


def touches_per_week(plan: DataFrame, audience: DataFrame, *, days: int) -> pd.DataFrame:
    """Touches that go out per customer per week, for everyone and each ``segment_<name>`` of the audience."""
    from pyspark.sql import functions as F

    sent = plan.where(F.col("status").isin(*_SENT))
    counts = sent.groupBy("customer_id").agg(
        F.sum((F.col("channel") == "email").cast("long")).alias("email"),
        F.sum((F.col("channel") == "sms").cast("long")).alias("sms"),
    )
    segments = [c for c in audience.columns if c.startswith("segment_")]
    per = audience.select("customer_id", *segments).join(counts, on="customer_id", how="left")
    touches = F.coalesce(F.col("email"), F.lit(0)) + F.coalesce(F.col("sms"), F.lit(0))
    per = per.select(*segments, (touches / F.lit(days / 7.0)).alias("x"))
    groups = [("all", F.lit(True))] + [
        (c.removeprefix("segment_"), F.coalesce(F.col(c), F.lit(False))) for c in segments
    ]
    aggs = []
    for i, (_, inside) in enumerate(groups):
        x = F.when(inside, F.col("x"))
        aggs += [
            F.sum(inside.cast("long")).alias(f"n{i}"),
            F.avg(x).alias(f"mean{i}"),
            F.percentile(x, F.lit(0.5)).alias(f"median{i}"),
            F.percentile(x, F.lit(0.9)).alias(f"p90{i}"),
            F.max(x).alias(f"max{i}"),
            F.avg(F.when(inside, (F.col("x") == 0).cast("double"))).alias(f"none{i}"),
        ]
    found = per.agg(*aggs).collect()[0]
    rows = []
    for i, (name, _) in enumerate(groups):
        n = int(found[f"n{i}"] or 0)
        rows.append(
            {
                "segment": name,
                "customers": n,
                **{
                    key: float(found[f"{column}{i}"]) if n else 0.0
                    for key, column in (
                        ("mean", "mean"),
                        ("median", "median"),
                        ("p90", "p90"),
                        ("max", "max"),
                        ("share_none", "none"),
                    )
                },
            }
        )
    return pd.DataFrame(rows)


def collisions(plan: DataFrame, *, window: str = "24h") -> pd.DataFrame:
    """Pairs of journeys whose touches to one customer are planned within ``window``, and what they held back."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    cols = ["journey", "other", "overlaps", "deferred", "suppressed"]
    order = Window.partitionBy("customer_id").orderBy("planned_at", "journey_index", "step_index")
    minute = F.floor(F.unix_seconds("planned_at") / 60)
    steps = plan.select(
        "journey_id",
        minute.alias("t"),
        F.lag("journey_id").over(order).alias("before"),
        F.lag(minute).over(order).alias("t_before"),
    )
    met = steps.where(
        F.col("before").isNotNull()
        & (F.col("before") != F.col("journey_id"))
        & (F.col("t") - F.col("t_before") < duration_minutes(window))
    )
    overlaps = met.groupBy(
        F.least("before", "journey_id").alias("journey"), F.greatest("before", "journey_id").alias("other")
    ).agg(F.count(F.lit(1)).alias("overlaps"))
    held = plan.where(
        F.col("blocked_by").isNotNull() & (F.col("status") != "kept") & (F.col("blocked_by") != F.col("journey_id"))
    )
    blocked = held.groupBy(F.col("journey_id").alias("journey"), F.col("blocked_by").alias("other")).agg(
        F.sum((F.col("status") == "deferred").cast("long")).alias("deferred"),
        F.sum((F.col("status") == "suppressed").cast("long")).alias("suppressed"),
    )
    both = overlaps.join(blocked, on=["journey", "other"], how="full_outer")
    out = _collect(
        both.select(
            "journey",
            "other",
            *[F.coalesce(F.col(c), F.lit(0)).cast("long").alias(c) for c in ("overlaps", "deferred", "suppressed")],
        ).orderBy(F.desc("overlaps"), F.desc("suppressed"), "journey", "other")
    )
    if out.empty:
        return pd.DataFrame(columns=cols)
    for c in ("overlaps", "deferred", "suppressed"):
        out[c] = out[c].astype(int)
    for c in ("journey", "other"):
        out[c] = out[c].astype(object)
    return out[cols]


def suppressions_by_reason(plan: DataFrame) -> pd.DataFrame:
    """Touches deferred or suppressed, by status, reason and channel, with the customers concerned."""
    from pyspark.sql import functions as F

    columns = ["status", "reason", "channel", "touches", "customers", "share"]
    total = plan.count()
    moved = plan.where((F.col("status") != "kept") & F.col("reason").isNotNull())
    out = _collect(
        moved.groupBy("status", "reason", "channel")
        .agg(F.count(F.lit(1)).alias("touches"), F.countDistinct("customer_id").alias("customers"))
        .orderBy(F.desc("status"), F.desc("touches"), "reason", "channel")
    )
    if out.empty:
        return pd.DataFrame(columns=columns)
    out["share"] = out["touches"] / max(total, 1)
    return out[columns].reset_index(drop=True)


def daily_volume(plan: DataFrame) -> pd.DataFrame:
    """Touches per UTC day and channel: ``sent`` (kept or deferred, on the day they go out) and ``suppressed``."""
    from pyspark.sql import functions as F

    sent = F.col("status").isin(*_SENT)
    out = _collect(
        plan.where(F.col("scheduled_at").isNotNull())
        .groupBy(F.to_date("scheduled_at").alias("date"), "channel")
        .agg(F.sum(sent.cast("long")).alias("sent"), F.sum((~sent).cast("long")).alias("suppressed"))
        .orderBy("date", "channel")
    )
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[us]")
    for c in ("sent", "suppressed"):
        out[c] = out[c].to_numpy(dtype=np.int64)
    return out[["date", "channel", "sent", "suppressed"]]


def send_hours(plan: DataFrame) -> pd.DataFrame:
    """Touches that go out by local weekday, hour and channel (the send-hour heat map)."""
    from pyspark.sql import functions as F

    local = F.col("local_time")
    out = _collect(
        plan.where(F.col("status").isin(*_SENT))
        .groupBy(
            "channel", ((F.dayofweek(local) + 5) % 7).alias("day"), F.hour(local).alias("hour")
        )  # Spark counts Sunday as 1; Monday is 0 here
        .agg(F.count(F.lit(1)).alias("touches"))
        .orderBy("channel", "day", "hour")
    )
    weekday = pd.Categorical(np.array(_WEEKDAYS)[out["day"].to_numpy(dtype=int)], categories=_WEEKDAYS)
    return pd.DataFrame(
        {
            "channel": out["channel"],
            "weekday": weekday,
            "hour": out["hour"].to_numpy(dtype=np.int32),
            "touches": out["touches"].to_numpy(dtype=np.int64),
        }
    )


def plan_summaries(plan: DataFrame, audience: DataFrame, *, days: int) -> dict[str, pd.DataFrame]:
    """Every summary table of a plan made by :func:`workbench.engines.spark.plan`, by name.

    ``audience`` is the Spark frame the plan was simulated from (``customer_id`` and
    the ``segment_<name>`` columns). The names and columns are those of
    :func:`workbench.cadence.summarize`, so the files written are the same.
    """
    return {
        "touches_per_week": touches_per_week(plan, audience, days=days),
        "collisions": collisions(plan),
        "suppressions_by_reason": suppressions_by_reason(plan),
        "daily_volume": daily_volume(plan),
        "send_hours": send_hours(plan),
    }
