"""Interactive controls for JupyterLab: the only part of the package that imports ipywidgets.

Widgets only wire controls to pure functions and charts; every number they show
comes from a tested function elsewhere in the package.
"""

from __future__ import annotations

from .audience import *  # noqa: F403
from .preview import message_previewer, show_previewer  # noqa: F401
