"""Measurement: cross-channel metrics, attribution and experiment statistics over the messages and orders tables.

- :mod:`~workbench.measure.metrics`: sent, delivered, open, click, click-to-open,
  conversion, revenue per recipient, unsubscribe and complaint rates and
  engagement depth by journey, step, channel, segment and variant, each with
  its named denominator; health alerts with the next action.
- :mod:`~workbench.measure.attribution`: last touch, first touch, linear, time
  decay, position based and a Markov-chain removal-effect model, side by side,
  with revenue and customer-value contribution.
- :mod:`~workbench.measure.experiments`: sample size, power and test duration;
  two-proportion, Welch and bootstrap tests; Holm or Benjamini–Hochberg
  corrections; holdout incrementality; lift by segment.
- :mod:`~workbench.measure.readout`: all of it for one report.

Everything here is pure: DataFrames in, new DataFrames out.
"""

from __future__ import annotations

from ..models.measurement import *  # noqa: F403
from ..models.measurement import __all__ as _settings_all
from .attribution import *  # noqa: F403
from .attribution import __all__ as _attribution_all
from .experiments import *  # noqa: F403
from .experiments import __all__ as _experiments_all
from .metrics import *  # noqa: F403
from .metrics import __all__ as _metrics_all
from .readout import *  # noqa: F403
from .readout import __all__ as _readout_all

__all__ = [*_attribution_all, *_experiments_all, *_metrics_all, *_readout_all, *_settings_all]
