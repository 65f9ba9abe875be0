"""The application layer: one strategy over one dataset at one date, composed once.

A :class:`Workspace` holds a validated dataset, a strategy and the date the
profiles describe (``as_of``). Everything downstream is computed from those
three, once, and reused: profiles, segment membership, the strategy's
journeys, audiences, the send plan, exports, lint and previews. The command
line, the notebooks, the widgets, the reports, the simulator and the exporters
all ask a workspace, so the audience an analyst sees in a notebook is the
audience the simulator plans and the exporter ships.

This is also the only place that chooses defaults:

- ``as_of``: the day (UTC) of the latest order in the data, never the clock
  (:func:`default_as_of`); profiles describe the end of that day;
- ``start`` of a plan: the day after ``as_of``;
- the contact policy, lifecycle thresholds and SMS limits: the strategy's,
  unless an override is given; overrides are recorded in :attr:`Workspace.overrides`
  so a report can say what differs from the strategy.

A workspace is immutable: :meth:`Workspace.with_lifecycle` and
:meth:`Workspace.with_strategy` return new ones that share what did not change
(the dataset and its profiles).

On the Spark engine a workspace can also be made from tables Spark read and
checked (:class:`~workbench.engines.spark.SparkTables`: Parquet folders, Spark
tables): then no table reaches this process; only what is one row per customer
(profiles, segments, the audience of a plan) does, and :meth:`Workspace.spark_profiles`
and :meth:`Workspace.spark_plan` leave even those in Spark for writing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cadence import daily_volume, engagement_score, simulate, summarize
from .cadence.engagement import outcome_priors
from .cadence.simulate import plan_categories, plan_from_rows, resolve_start
from .engines import spark as spark_engine
from .exporters import ExportContext, ExportResult, export_journeys, resolve_targets
from .exporters.registry import NEEDS_PROFILES, IdMap
from .journeys import build_journey, journey_for, journey_problems, known_segments
from .messages import Preview, lint_library, preview
from .models.dataset import Dataset
from .models.errors import JourneyError, SimulationError, WorkbenchError
from .models.journey import Journey
from .models.policy import ContactPolicy
from .models.strategy import LifecycleThresholds, Strategy
from .money import CurrencyMix, may_mix_currencies, orders_in_customer_currency, spend_in_reporting_currency
from .profiles import ATTRIBUTES, build_profiles, resolve_as_of
from .rules import check_rules
from .segments import assign, audience, membership, overlap_matrix, segment_columns, segment_sizes
from .value import CalibrationHoldout, CustomerValue, ValueModelError, calibration_holdout, customer_value

__all__ = [
    "ENGINES",
    "MAX_PLAN_DAYS",
    "Plan",
    "SparkPlan",
    "Workspace",
    "check_journey",
    "default_as_of",
    "export",
    "strategy_journeys",
]

#: Engines the work can run on; DuckDB, embedded, is the default. Spark runs profiles and segment
#: rules in Spark SQL and the plan per partition of customers, with the same results.
ENGINES = ("duckdb", "spark")
#: The longest plan simulated, in days; a longer horizon is refused before any work starts.
MAX_PLAN_DAYS = 1096
#: How many segment assignments (one per strategy variant) a workspace and its variants keep.
_KEEP_ASSIGNED = 4


def default_as_of(dataset: Dataset | spark_engine.SparkTables) -> dt.date:
    """The default profile date: the day (UTC) of the latest order in the data.

    The one rule every command, notebook and report uses when no ``as_of`` is
    given, so a rerun on the same data gives the same results.
    """
    if isinstance(dataset, spark_engine.SparkTables):
        found: dt.date = spark_engine.latest_order_day(dataset)
        return found
    latest = dataset.orders["ordered_at"].max()
    if pd.isna(latest):
        msg = "orders has no order date, so there is no default as_of. Fix: pass as_of (YYYY-MM-DD)"
        raise WorkbenchError(msg)
    day: dt.date = pd.Timestamp(latest).tz_convert("UTC").date()
    return day


def check_journey(journey: Journey, strategy: Strategy, library: Mapping[str, Any] | None) -> Journey:
    """The journey when it is valid for the strategy (segments) and the library (templates); else its first problem."""
    problems = journey_problems(journey, library=library, segments=known_segments(strategy))
    if problems:
        raise problems[0]
    return journey


def strategy_journeys(
    strategy: Strategy, *, library: Mapping[str, Any] | None = None, ids: Iterable[str] | None = None
) -> list[Journey]:
    """The strategy's enabled journeys (or the ones named, enabled or not), built and validated."""
    if ids is None:
        specs = [spec for spec in strategy.journeys if spec.enabled]
    else:
        wanted = list(ids)
        known = {spec.id: spec for spec in strategy.journeys}
        missing = [i for i in wanted if i not in known]
        if missing:
            msg = (
                f"no journey {', '.join(missing)} in strategy {strategy.name!r}. "
                f"Fix: use one of {', '.join(known) or 'none'}"
            )
            raise JourneyError(msg)
        specs = [known[i] for i in wanted]
    return [check_journey(build_journey(spec), strategy, library) for spec in specs]


def export(
    strategy: Strategy,
    targets: str | Iterable[str] | None = "all",
    *,
    journeys: Sequence[Journey] | None = None,
    library: Mapping[str, Any] | None = None,
    assigned: pd.DataFrame | None = None,
    ids: Mapping[str, IdMap] | None = None,
) -> dict[str, ExportResult]:
    """Every target's export of the journeys (default: the strategy's enabled ones); nothing is written.

    ``assigned`` (profiles with segments) gives the audience files, real customers for the template
    bundle and the SMS cost; without it those parts report what is missing. ``ids`` are the id maps by
    target (``workbench ids``): every id a body references must be in them; without, placeholders are
    reported.
    """
    names = resolve_targets(targets)
    chosen = [check_journey(j, strategy, library) for j in journeys] if journeys is not None else None
    chosen = chosen if chosen is not None else strategy_journeys(strategy, library=library)
    context = ExportContext(strategy=strategy, assigned=assigned, library=library, ids=ids)
    return export_journeys(chosen, targets=names, context=context)


@dataclass(frozen=True)
class Plan:
    """A send plan and what it was made from.

    ``plan`` has one row per planned touch (kept, deferred or suppressed, with
    the rule that decided); ``audience`` is the assigned profiles with the
    engagement score the adaptive cadence used; ``start`` and ``days`` are the
    horizon.
    """

    plan: pd.DataFrame
    audience: pd.DataFrame
    start: pd.Timestamp
    days: int
    seed: int
    policy: ContactPolicy

    def summaries(self) -> dict[str, pd.DataFrame]:
        """Every summary table of the plan (touches per week, collisions, suppressions, volume, send hours)."""
        return summarize(self.plan, self.audience, days=self.days)


@dataclass(frozen=True)
class SparkPlan:
    """A send plan left in Spark, for writing where Spark writes.

    ``rows`` is lazy (Spark DataFrame): every planned touch with the columns of
    :data:`workbench.cadence.simulate.PLAN_COLUMNS` plus ``position`` (the
    customer's row in ``audience``), ``journey_index`` and ``step_index``, by
    which the touches sort as the DuckDB engine's plan. ``audience`` is the
    assigned profiles with the engagement score (one row per customer, on this
    machine), ``audience_frame`` the same in Spark.
    """

    rows: Any
    audience: pd.DataFrame
    audience_frame: Any
    start: pd.Timestamp
    days: int
    seed: int
    policy: ContactPolicy
    journeys: tuple[Journey, ...]

    def summaries(self, rows: Any = None) -> dict[str, pd.DataFrame]:
        """The summary tables of :meth:`Plan.summaries`, added up by Spark from ``rows`` (default: the plan's;
        pass a persisted copy when the plan is also written, so that it is simulated once)."""
        return spark_engine.plan_summaries(self.rows if rows is None else rows, self.audience_frame, days=self.days)


@dataclass(frozen=True)
class Workspace:
    """A dataset, a strategy and a profile date, with everything computed from them once.

    Parameters
    ----------
    data
        The validated tables: a :class:`~workbench.models.dataset.Dataset` (:func:`workbench.io.load_dataset`),
        or, on the Spark engine, :class:`~workbench.engines.spark.SparkTables`
        (:func:`workbench.io.read_spark_tables`).
    strategy
        The strategy (:func:`workbench.io.load_strategy`).
    as_of
        Profile date (``YYYY-MM-DD`` means the end of that UTC day); default :func:`default_as_of`.
    library
        Template manifests by moment (:func:`workbench.io.load_templates`), for journey validation,
        lint, previews and exports; None skips the template checks.
    templates_dir
        Where the templates of ``library`` are, for rendering.
    overrides, replaced
        What differs from the strategy file, by name, and the file's own values for those names
        (recorded for reports; see :meth:`with_lifecycle` and :meth:`with_overrides`).
    engine
        ``duckdb`` (the default: embedded, one process) or ``spark``: profiles and segment rules in
        Spark SQL and the send plan per partition of customers (:mod:`workbench.engines.spark`), with
        the results of the DuckDB engine.
    master
        The Spark master (``local[2]``, ``spark://host:7077``, ``yarn``...); None keeps a running
        session's (``spark-submit``, Databricks) or starts ``local[2]``.
    partitions
        Partitions of customers the Spark engine simulates the plan in (None: Spark's own).

    Examples
    --------
    >>> ws = Workspace.create(dataset, strategy)                 # doctest: +SKIP
    >>> ws.segment_sizes.head()                                  # doctest: +SKIP
    >>> ws.plan(days=30).summaries()["daily_volume"]             # doctest: +SKIP
    """

    data: Dataset | spark_engine.SparkTables
    strategy: Strategy
    as_of: dt.date | pd.Timestamp
    as_of_source: str = "given"
    library: Mapping[str, Any] | None = None
    templates_dir: Path | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    replaced: Mapping[str, Any] = field(default_factory=dict)
    engine: str = "duckdb"
    master: str | None = None
    partitions: int | None = None
    strategy_source: Path | None = None
    data_source: str = ""
    _shared: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        dataset: Dataset | spark_engine.SparkTables,
        strategy: Strategy,
        *,
        as_of: object = None,
        library: Mapping[str, Any] | None = None,
        templates_dir: str | Path | None = None,
        engine: str = "duckdb",
        master: str | None = None,
        partitions: int | None = None,
        strategy_source: str | Path | None = None,
    ) -> Workspace:
        """A workspace; ``as_of`` defaults to :func:`default_as_of` (recorded in ``as_of_source``)."""
        if engine not in ENGINES:
            msg = f"engine {engine!r} is not available. Fix: use one of {', '.join(ENGINES)}"
            raise WorkbenchError(msg)
        if isinstance(dataset, spark_engine.SparkTables) and engine != "spark":
            msg = f"tables read by Spark ({dataset.source or 'Spark DataFrames'}) need engine='spark'. Fix: pass "
            msg += "engine='spark' (--engine spark), or load the data with load_dataset for the DuckDB engine"
            raise WorkbenchError(msg)
        if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
            day: dt.date | pd.Timestamp = default_as_of(dataset)
            source = "the day of the latest order"
        else:
            resolved = resolve_as_of(as_of)
            day = resolved.date() if _is_day(as_of) else resolved
            source = "given"
        return cls(
            data=dataset,
            strategy=strategy,
            as_of=day,
            as_of_source=source,
            library=library,
            templates_dir=Path(templates_dir) if templates_dir is not None else None,
            engine=engine,
            master=master,
            partitions=partitions,
            strategy_source=Path(strategy_source) if strategy_source is not None else None,
            data_source=dataset.source,
        )

    # ------------------------------------------------------------ variants

    def with_strategy(self, strategy: Strategy) -> Workspace:
        """The same data and date under another strategy (profiles are shared, segments recomputed)."""
        return replace(self, strategy=strategy)

    def with_lifecycle(
        self, thresholds: LifecycleThresholds | Mapping[str, Any] | None = None, **days: Any
    ) -> Workspace:
        """The strategy with other lifecycle thresholds; every segment that depends on them is recomputed.

        Thresholds equal to the strategy's are not overrides; the others are
        recorded in :attr:`overrides` as ``lifecycle.<name>``.
        """
        given = dict(thresholds.model_dump() if isinstance(thresholds, LifecycleThresholds) else thresholds or {})
        given.update({k: v for k, v in days.items() if v is not None})
        given = {k: v for k, v in given.items() if v is not None}
        if not given:
            return self
        base = self.strategy.lifecycle
        new = LifecycleThresholds.model_validate({**base.model_dump(), **given})
        if new == base:
            return self
        changed = {f"lifecycle.{k}": v for k, v in new.model_dump().items() if getattr(base, k) != v}
        before = {f"lifecycle.{k}": getattr(base, k) for k in new.model_dump() if f"lifecycle.{k}" in changed}
        return replace(
            self,
            strategy=self.strategy.model_copy(update={"lifecycle": new}),
            overrides={**self.overrides, **changed},
            replaced={**before, **self.replaced},
        )

    def with_overrides(self, **overrides: Any) -> Workspace:
        """Overrides of the strategy given at run time: ``max_sms_segments`` (the lint's SMS limit) and ``policy``
        (changes to the contact policy for plans). None values are ignored; the rest are recorded for reports."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        known: dict[str, Any] = {
            "max_sms_segments": self.strategy.policy.max_sms_segments,
            "policy": "the policy: section",
        }
        unknown = sorted(set(given) - set(known))
        if unknown:
            msg = f"unknown override {', '.join(unknown)}. Fix: use one of {', '.join(known)}"
            raise WorkbenchError(msg)
        before = {k: known[k] for k in given}
        return replace(self, overrides={**self.overrides, **given}, replaced={**before, **self.replaced})

    # ------------------------------------------------------------ the data

    @property
    def dataset(self) -> Dataset:
        """The tables on this machine. For tables read by Spark, a local copy made when first asked
        (:meth:`~workbench.engines.spark.SparkTables.to_dataset`): the engine's own work never asks."""
        if isinstance(self.data, Dataset):
            return self.data
        if "dataset" not in self._shared:
            self._shared["dataset"] = self.data.to_dataset()
        found: Dataset = self._shared["dataset"]
        return found

    @property
    def spark_tables(self) -> spark_engine.SparkTables | None:
        """The tables Spark read, when the workspace was made from them (else None)."""
        return self.data if isinstance(self.data, spark_engine.SparkTables) else None

    # ------------------------------------------------------------ profiles and segments

    @property
    def as_of_label(self) -> str:
        """``as_of`` as people read it (a date, or a timestamp to the second)."""
        if isinstance(self.as_of, pd.Timestamp):
            return str(self.as_of.strftime("%Y-%m-%d %H:%M:%S UTC"))
        return self.as_of.isoformat()

    @property
    def profiles(self) -> pd.DataFrame:
        """One row per customer at ``as_of``, shared by variants of the workspace.

        :func:`workbench.profiles.build_profiles`, plus the predicted value of
        :attr:`customer_value` (``p_alive``, ``expected_orders_90d``,
        ``expected_orders_365d``, ``expected_spend``, ``clv_365d``), which segment
        rules may read.
        """
        brand = self.strategy.brand
        markets_key = hash(self.strategy.policy.model_dump_json(include={"markets"}))
        key = f"profiles:{self.as_of_label}:{brand.locale}:{brand.currency}:{markets_key}:{self._rates_key}"
        if key not in self._shared:
            locales = self._locales()
            profiles = (
                self._spark_profiles(**locales)
                if self.engine == "spark"
                else build_profiles(self._profile_dataset, as_of=self.as_of, **locales)
            )
            value = self._value(profiles)
            frame = value.frame.drop(columns="customer_id")
            self._shared[key] = pd.concat([profiles, frame.set_axis(profiles.index)], axis=1)
        found: pd.DataFrame = self._shared[key]
        return found

    @property
    def _profile_dataset(self) -> Dataset:
        """The dataset whose orders the profiles sum: a customer's orders in another currency than their own
        converted with the strategy's rates (:func:`workbench.money.orders_in_customer_currency`).

        Whether anyone mixes currencies is first asked of two columns (the customer keys and ``currency``); the
        orders become a DataFrame only when someone may."""
        name = f"profile_dataset:{self._rates_key}"
        if name not in self._shared:
            dataset, default = self.dataset, self.strategy.brand.currency
            currency = dataset.column("orders", "currency") if "currency" in dataset.column_names("orders") else None
            profile, mix = dataset, CurrencyMix.none()
            if may_mix_currencies(dataset.customer_keys("orders"), currency, default_currency=default):
                orders, mix = orders_in_customer_currency(
                    dataset.orders, settings=self.strategy.measurement, default_currency=default
                )
                profile = dataset if orders is dataset.orders else dataset.with_tables(orders=orders)
            self._shared[f"currency_mix:{self._rates_key}"] = mix
            self._shared[name] = profile
        return self._shared[name]  # type: ignore[no-any-return]

    @property
    def _rates_key(self) -> str:
        return self.strategy.measurement.model_dump_json(include={"reporting_currency", "exchange_rates"})

    @property
    def currency_mix(self) -> CurrencyMix:
        """The customers whose orders are in more than one currency, and what their profiles' sums hold."""
        self._profile_dataset  # noqa: B018
        return self._shared[f"currency_mix:{self._rates_key}"]  # type: ignore[no-any-return]

    @property
    def quality(self) -> pd.DataFrame:
        """The dataset's data-quality findings, plus the customers who ordered in more than one currency."""
        mix = self.currency_mix
        if not len(mix):
            return self.dataset.quality
        row = pd.DataFrame([mix.quality_row(len(self.dataset.orders))])
        return pd.concat([self.dataset.quality, row], ignore_index=True) if len(self.dataset.quality) else row

    @property
    def customer_value(self) -> CustomerValue:
        """The fitted BG/NBD and Gamma-Gamma models behind the value columns, with their notes."""
        if self._value_key not in self._shared:
            self.profiles  # noqa: B018  (fits the models once, with the profiles)
        found: CustomerValue = self._shared[self._value_key]
        return found

    @property
    def _value_key(self) -> str:
        return f"value:{self.as_of_label}:{self._rates_key}"

    def _value(self, profiles: pd.DataFrame) -> CustomerValue:
        """The value models fitted on ``profiles``, spend in the reporting currency (computed once)."""
        if self._value_key not in self._shared:
            brand = self.strategy.brand
            spend = spend_in_reporting_currency(
                profiles, settings=self.strategy.measurement, default_currency=brand.currency
            )
            value = customer_value(spend)
            rates = spend.attrs.get("exchange_rates")
            if rates:
                code = self.strategy.measurement.reporting_currency
                listed = "; ".join(f"1 {r['currency']} = {r['rate']:g} {code} on {r['date']}" for r in rates)
                note = f"Spend and CLV in {code}: each customer's average order converted at the strategy's rates"
                value = replace(value, notes=(*value.notes, f"{note} ({listed})."))
            self._shared[self._value_key] = value
        found: CustomerValue = self._shared[self._value_key]
        return found

    def value_check(self, *, holdout_days: int = 180) -> CalibrationHoldout | str:
        """The calibration/holdout check of the value model: fit up to ``holdout_days`` before ``as_of``,
        compare predicted with actual purchases after. A note (text) when the data cannot identify the model.
        """
        end = self.as_of.date() if isinstance(self.as_of, pd.Timestamp) else self.as_of
        start = end - dt.timedelta(days=holdout_days)
        try:
            return calibration_holdout(self.dataset.orders, calibration_end=start, holdout_end=end)
        except ValueModelError as exc:
            return f"No calibration check: {exc}"

    @property
    def assigned(self) -> pd.DataFrame:
        """Profiles with every segment column of the strategy (:func:`workbench.segments.assign`).

        Kept per strategy (its lifecycle thresholds and segments), for the last few strategies asked,
        so an explorer that moves a threshold back finds its earlier result.
        """
        key = f"assigned:{self.as_of_label}:{self.strategy.lifecycle.model_dump_json()}:" + "|".join(
            f"{s.name}={s.rule}" for s in self.strategy.segments
        )
        cache: dict[str, pd.DataFrame] = self._shared.setdefault("assigned", {})
        if key not in cache:
            if self.engine == "spark":
                cache[key] = self._spark_assign()
            else:
                cache[key] = assign(self.profiles, self.strategy)
            while len(cache) > _KEEP_ASSIGNED:
                cache.pop(next(iter(cache)))
        return cache[key]

    @cached_property
    def segment_sizes(self) -> pd.DataFrame:
        """Customers per segment and how many each channel reaches."""
        return segment_sizes(self.assigned)

    def overlap(self, segments: Sequence[str] | None = None) -> pd.DataFrame:
        """Customers in both of each pair of rule segments."""
        return overlap_matrix(self.assigned, segments)

    def membership(self, segment: str) -> np.ndarray:
        """Which customers (rows of :attr:`assigned`) are in a segment: the one rule for every reader."""
        return membership(self.assigned, segment)

    def audience(self, segment: str) -> pd.DataFrame:
        """The customers of one segment with their contact and consent state."""
        return audience(self.assigned, segment)

    def audiences(self) -> dict[str, pd.DataFrame]:
        """The audience of every rule segment of the strategy, by name, and ``segment_sizes``."""
        tables = {"segment_sizes": self.segment_sizes}
        tables.update({name: self.audience(name) for name in segment_columns(self.assigned)})
        return tables

    # ------------------------------------------------------------ journeys

    @cached_property
    def journeys(self) -> list[Journey]:
        """The strategy's enabled journeys, built and validated (the first problem raises)."""
        return strategy_journeys(self.strategy, library=self.library)

    def journey(self, journey_id: str, **params: Any) -> Journey:
        """One journey of the strategy (or a moment blueprint) with parameter overrides, validated."""
        return check_journey(journey_for(self.strategy, journey_id, **params), self.strategy, self.library)

    # ------------------------------------------------------------ plan

    def plan(
        self,
        *,
        start: object = None,
        days: int = 90,
        seed: int = 7,
        policy_overrides: Mapping[str, Any] | None = None,
        journeys: Sequence[Journey] | None = None,
        chunk_size: int = 50_000,
        progress: bool = False,
    ) -> Plan:
        """The send plan of the strategy's journeys over ``days`` from ``start`` (default: the day after ``as_of``).

        ``policy_overrides`` change the strategy's contact policy for this plan (default: the workspace's
        ``policy`` override, see :meth:`with_overrides`).

        Journeys are validated first, so a plan is never made of a journey that
        ``workbench validate`` rejects. The result is kept: asking again with the
        same arguments returns the same plan.
        """
        start_ts, policy, chosen = self._plan_inputs(start, days, policy_overrides, journeys)
        key = (start_ts, int(days), int(seed), policy.model_dump_json(), tuple(j.model_dump_json() for j in chosen))
        plans: dict[tuple[Any, ...], Plan] = self.__dict__.setdefault("_plans", {})
        if key not in plans:
            people = self._plan_audience(policy)
            run = self._spark_plan if self.engine == "spark" else simulate
            plan = run(
                people,
                chosen,
                policy,
                start=start_ts,
                days=int(days),
                seed=int(seed),
                consents=None if self.engine == "spark" else self.dataset.consents,
                chunk_size=chunk_size,
                progress=progress,
            )
            plans[key] = Plan(plan=plan, audience=people, start=start_ts, days=int(days), seed=int(seed), policy=policy)
        return plans[key]

    def spark_plan(
        self,
        *,
        start: object = None,
        days: int = 90,
        seed: int = 7,
        policy_overrides: Mapping[str, Any] | None = None,
        journeys: Sequence[Journey] | None = None,
    ) -> SparkPlan:
        """The plan of :meth:`plan` left in Spark (engine ``spark`` only), for writing where Spark writes.

        The same touches as :meth:`plan` gives (a test reads a written plan back and compares), without
        collecting them: only the audience (one row per customer) is on this machine.
        """
        self._require_spark("spark_plan")
        start_ts, policy, chosen = self._plan_inputs(start, days, policy_overrides, journeys)
        people = self._plan_audience(policy)
        rows, _, frame = self._spark_plan_frames(people, chosen, policy, start=start_ts, days=int(days), seed=int(seed))
        return SparkPlan(
            rows=rows,
            audience=people,
            audience_frame=frame,
            start=start_ts,
            days=int(days),
            seed=int(seed),
            policy=policy,
            journeys=tuple(chosen),
        )

    def spark_profiles(self) -> Any:
        """:attr:`profiles` as a Spark DataFrame (engine ``spark`` only), computed and left in Spark.

        Only the four columns the value model is fitted on come to this machine
        (unless :attr:`profiles` was asked already); the predicted value is
        joined back in Spark. The rows are in no particular order.
        """
        self._require_spark("spark_profiles")
        spark = self._spark()
        frame = self._spark_profile_frame(**self._locales())
        if self._value_key not in self._shared:
            fitted = ["customer_id", "frequency", "recency", "T", "monetary_value", "orders_total", "currency"]
            slim = spark_engine.to_pandas(
                frame.select(*fitted, *spark_engine.HIDDEN).orderBy(spark_engine.source_order())
            ).drop(columns=list(spark_engine.HIDDEN))
            self._value(slim)
        value = self.customer_value
        columns = [c for c in frame.columns if c not in spark_engine.HIDDEN]
        values = spark.createDataFrame(spark_engine.arrow_table(value.frame))
        return (
            frame.select(*columns)
            .join(values, on="customer_id", how="left")
            .select(*columns, *[c for c in value.frame.columns if c != "customer_id"])
        )

    # ------------------------------------------------------------ the spark engine

    def _require_spark(self, what: str) -> None:
        if self.engine != "spark":
            msg = f"{what} needs the spark engine. Fix: create the workspace with engine='spark' (--engine spark)"
            raise WorkbenchError(msg)

    def _spark(self) -> Any:
        """The Spark session of this workspace (started once, shared by its variants)."""
        if "spark" not in self._shared:
            self._shared["spark"] = spark_engine.session(self.master)
        return self._shared["spark"]

    def _spark_tables(self) -> spark_engine.SparkTables:
        if self.spark_tables is not None:
            return self.spark_tables
        if "spark_tables" not in self._shared:
            self._shared["spark_tables"] = spark_engine.from_dataset(self._spark(), self._profile_dataset)
        found: spark_engine.SparkTables = self._shared["spark_tables"]
        return found

    def _locales(self) -> dict[str, Any]:
        """The brand's locale and currency and the market rules, as the profiles' finish takes them."""
        brand = self.strategy.brand
        return {
            "default_locale": brand.locale,
            "default_currency": brand.currency,
            "markets": self.strategy.policy.markets,
        }

    def _spark_profile_frame(self, **locales: Any) -> Any:
        """The profiles in Spark with the order of the source (kept by Spark once computed, memory then disk)."""
        key = f"spark_profiles:{self.as_of_label}:{locales!r}"
        if key not in self._shared:
            frame = spark_engine.profiles(
                self._spark(), self._spark_tables(), as_of=self.as_of, keep_order=True, **locales
            )
            self._shared[key] = frame.persist()
        return self._shared[key]

    def _spark_profiles(self, **locales: Any) -> pd.DataFrame:
        """:func:`build_profiles` computed by Spark, in the order and column types of the DuckDB engine's."""
        frame = self._spark_profile_frame(**locales)
        ordered = spark_engine.to_pandas(frame.orderBy(spark_engine.source_order())).drop(
            columns=list(spark_engine.HIDDEN)
        )
        if self.spark_tables is not None:  # text attributes with the type a table read on this machine has
            for column in ATTRIBUTES:
                if column in ordered.columns and pd.api.types.is_string_dtype(ordered[column].dtype):
                    ordered[column] = ordered[column].astype("str")
            return ordered
        customers = self.dataset.customers.reset_index(drop=True)
        for column in ("customer_id", *ATTRIBUTES):  # the customers' own columns as the dataset holds them
            if column in ordered.columns and column in customers.columns:
                ordered[column] = customers[column]
        return ordered

    def _spark_assign(self) -> pd.DataFrame:
        """Segments with the strategy's rules evaluated by Spark SQL (the built-in segments are ranks
        over the whole audience, computed on the driver as the DuckDB engine does)."""
        built = assign(self.profiles, (), thresholds=self.strategy.lifecycle)
        checked = check_rules(self.strategy.segments)
        if not checked:
            return built
        needed = list(dict.fromkeys(c for rule in checked for c in rule.columns))
        missing = [c for c in needed if c not in built.columns]
        if missing:  # the DuckDB engine's message for it
            return assign(self.profiles, self.strategy)
        rows = built[needed].assign(position=np.arange(len(built)))
        frame = self._spark().createDataFrame(spark_engine.arrow_table(rows))
        masks = spark_engine.to_pandas(spark_engine.rule_segments(frame, checked).drop(*needed))
        masks = masks.sort_values("position").reset_index(drop=True)
        for rule in checked:
            built[f"segment_{rule.segment}"] = masks[f"segment_{rule.segment}"].to_numpy(dtype=bool)
        return built

    def _spark_plan_frames(
        self, people: pd.DataFrame, journeys: Sequence[Journey], policy: ContactPolicy, **kwargs: Any
    ) -> tuple[Any, Any, Any]:
        """The plan's rows and per-journey counts in Spark, and the audience frame they were made from."""
        spark = self._spark()
        audience = spark.createDataFrame(spark_engine.arrow_table(people.assign(position=np.arange(len(people)))))
        rows, stats = spark_engine.plan(
            audience,
            list(journeys),
            policy,
            start=kwargs["start"],
            days=kwargs["days"],
            seed=kwargs["seed"],
            consents=self._spark_tables().get("consents"),
            partitions=self.partitions,
            priors=outcome_priors(people),
        )
        return rows, stats, audience

    def _spark_plan(
        self, people: pd.DataFrame, journeys: Sequence[Journey], policy: ContactPolicy, **kwargs: Any
    ) -> pd.DataFrame:
        """:func:`simulate` per partition of customers on Spark: the same plan, touch for touch."""
        rows, stats, _ = self._spark_plan_frames(people, journeys, policy, **kwargs)
        found = spark_engine.to_pandas(rows)
        found = found.sort_values(["position", "planned_at", "journey_index", "step_index"], kind="stable")
        plan = plan_from_rows(found.reset_index(drop=True), plan_categories(people, journeys, policy))
        counts = spark_engine.to_pandas(stats)
        order = {j.id: i for i, j in enumerate(journeys)}
        totals = counts.groupby("journey_id", sort=False)[["entries", "customers", "goal_exits", "holdout"]].sum()
        plan.attrs["journey_stats"] = [
            {"journey_id": jid, **{k: int(v) for k, v in totals.loc[jid].items()}}
            for jid in sorted(totals.index, key=order.__getitem__)
        ]
        plan.attrs["horizon"] = {"start": kwargs["start"].isoformat(), "days": kwargs["days"], "seed": kwargs["seed"]}
        return plan

    def _plan_inputs(
        self,
        start: object,
        days: int,
        policy_overrides: Mapping[str, Any] | None,
        journeys: Sequence[Journey] | None,
    ) -> tuple[pd.Timestamp, ContactPolicy, list[Journey]]:
        """The plan's start, policy and journeys, with the horizon checked before any work starts."""
        if not 0 < days <= MAX_PLAN_DAYS:
            msg = (
                f"days must be 1 to {MAX_PLAN_DAYS:,}, not {days:,}. Fix: pass the length of the plan in days, e.g. 90"
            )
            raise SimulationError(msg)
        start_ts = resolve_start(start) if start is not None else self._day_after_as_of()
        given = self.overrides.get("policy") if policy_overrides is None else policy_overrides
        policy = self.strategy.policy.with_overrides(given)
        chosen = list(journeys) if journeys is not None else self.journeys
        return start_ts, policy, chosen

    def _day_after_as_of(self) -> pd.Timestamp:
        day = self.as_of.date() if isinstance(self.as_of, pd.Timestamp) else self.as_of
        return pd.Timestamp(day + dt.timedelta(days=1), tz="UTC")

    def _plan_audience(self, policy: ContactPolicy) -> pd.DataFrame:
        tables = self.spark_tables
        weights, half_life = policy.adaptive.weights, policy.adaptive.half_life_days
        if tables is None:
            scores = engagement_score(self.dataset, as_of=self.as_of, weights=weights, half_life_days=half_life)
        else:  # added up where the tables are; one row per customer comes back
            frame = spark_engine.engagement_scores(tables, as_of=self.as_of, weights=weights, half_life_days=half_life)
            scores = spark_engine.to_pandas(frame)
        people = self.assigned.merge(scores, on="customer_id", how="left")
        column = policy.frequency_column
        if column in people.columns:
            return people
        if tables is None:
            customers = self.dataset.customers
            if column in customers.columns:
                people = people.merge(customers[["customer_id", column]], on="customer_id", how="left")
        elif column in tables["customers"].columns:
            stated = spark_engine.to_pandas(tables["customers"].select("customer_id", column))
            people = people.merge(stated, on="customer_id", how="left")
        return people

    def simulated_volume(self, journey: Journey, *, days: int = 14, seed: int = 0) -> pd.DataFrame:
        """Simulated touches per day and channel for one journey alone, under the strategy's policy."""
        return daily_volume(self.plan(days=days, seed=seed, journeys=[journey]).plan)

    # ------------------------------------------------------------ exports

    def exports(
        self,
        targets: str | Iterable[str] | None = "all",
        *,
        journeys: Sequence[Journey] | None = None,
        ids: Mapping[str, IdMap] | None = None,
    ) -> dict[str, ExportResult]:
        """The export of the journeys (default: the strategy's enabled ones) to each target; nothing is written.

        The audience files come from the same membership as everything else (:meth:`membership`); profiles
        are built only when a target reads them.
        """
        names = resolve_targets(targets)
        return export(
            self.strategy,
            names,
            journeys=list(journeys) if journeys is not None else self.journeys,
            library=self.library,
            assigned=self.assigned if NEEDS_PROFILES.intersection(names) else None,
            ids=ids,
        )

    # ------------------------------------------------------------ messages

    @property
    def max_sms_segments(self) -> int:
        """The SMS segment limit: an override, else the strategy's policy."""
        return int(self.overrides.get("max_sms_segments", self.strategy.policy.max_sms_segments))

    def lint(self, *, sample_customers: int = 24, moments: Sequence[str] | None = None) -> pd.DataFrame:
        """Lint every template and variant of the library for a sample of this workspace's customers."""
        if sample_customers < 1:
            msg = f"a lint needs at least one customer, not {sample_customers}. Fix: pass --sample 1 or more"
            raise WorkbenchError(msg)
        return lint_library(
            self.assigned,
            strategy=self.strategy,
            templates_dir=self.templates_dir,
            moments=moments,
            sample_customers=sample_customers,
            max_sms_segments=self.max_sms_segments,
        )

    def preview(self, moment: str, customer_id: str, *, variant: str | None = None) -> Preview:
        """One customer's paired message for ``moment`` in their language, linted, as a side-by-side preview."""
        assigned = self.assigned
        found = assigned[assigned["customer_id"].astype("string") == str(customer_id)]
        if found.empty:
            examples = ", ".join(assigned["customer_id"].astype("string").head(3).tolist())
            msg = (
                f"no customer {customer_id!r} in the data ({len(assigned):,} customers, e.g. {examples}). "
                "Fix: pass a customer_id of the customers table"
            )
            raise WorkbenchError(msg)
        return preview(
            moment,
            found.iloc[0].to_dict(),
            strategy=self.strategy,
            variant=variant,
            templates_dir=self.templates_dir,
            max_sms_segments=self.max_sms_segments,
        )


def _is_day(value: object) -> bool:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return True
    return isinstance(value, str) and len(value.strip()) == 10
