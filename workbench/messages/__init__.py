"""Paired messages: the template library, rendering, SMS analysis, lint and preview.

>>> from workbench.messages import analyze_sms
>>> analyze_sms("😀" * 35).segments
1
"""

from __future__ import annotations

from .library import MOMENTS, TemplateManifest, default_templates_dir, load_library, load_manifest
from .lint import RULES, Finding, Rule, lint_audience, lint_exit_code, lint_library, lint_pair, lint_sample
from .preview import Gallery, Preview, build_gallery, library_table, preview, preview_html
from .render import PairedMessage, Renderer, get_renderer, iter_pairs, render_pair
from .sms import SmsAnalysis, analyze_sms, gsm_safe, is_gsm

__all__ = [
    "MOMENTS",
    "RULES",
    "Finding",
    "Gallery",
    "PairedMessage",
    "Preview",
    "Renderer",
    "Rule",
    "SmsAnalysis",
    "TemplateManifest",
    "analyze_sms",
    "build_gallery",
    "default_templates_dir",
    "get_renderer",
    "gsm_safe",
    "is_gsm",
    "iter_pairs",
    "library_table",
    "lint_audience",
    "lint_exit_code",
    "lint_library",
    "lint_pair",
    "lint_sample",
    "load_library",
    "load_manifest",
    "preview",
    "preview_html",
    "render_pair",
]
