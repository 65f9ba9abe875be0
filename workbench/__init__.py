"""Retention workbench: cross-channel (email + SMS) strategy for notebook-driven analysis."""

from __future__ import annotations

__version__ = "0.1.0"
