"""Altair charts: a DataFrame in, a chart out. Nothing here shows, saves or reads a file.

Charts aggregate before they draw (Altair refuses more than 5,000 rows by
default), so each one takes a summary frame or builds it with a pure function
from the package. One submodule per area; everything public is re-exported here.
"""

from __future__ import annotations

from .audience import *  # noqa: F403
from .cadence import *  # noqa: F403
from .journey import *  # noqa: F403
from .measure import *  # noqa: F403
from .render import *  # noqa: F403
from .value import *  # noqa: F403
