"""The template library: one folder per moment under ``templates/``, each with a manifest.

A moment folder holds ``manifest.yaml`` and, per variant (``A`` is the default),
``subject[.B].txt.j2``, ``preheader[.B].txt.j2``, ``email.html.j2`` (or ``email.B.html.j2``),
``email.txt.j2`` and ``sms.txt.j2``. A file without a variant suffix serves every variant that has no
file of its own. Every email extends ``templates/_base/email.html.j2`` (responsive layout and the
compliance footer). Brand facts come from the strategy file, never from a template.

Translations live in sub-folders named by locale (BCP 47: ``fr``, ``fr-CA``, ``de``), holding the same
file names::

    cart_abandonment/
        manifest.yaml            who approved each locale's version (``locales:``)
        subject.txt.j2 ...       the brand's default language (``brand.locale``)
        fr/subject.txt.j2 ...    French, for every French-speaking customer
        fr-CA/sms.txt.j2         Quebec French where it differs from France's; the rest comes from fr/
        de/ ...                  German

A customer gets the first language of their fallback chain (``fr-CA``, ``fr``, then the brand's
default) whose folders hold every part the moment needs; within a language the most specific file
wins, so ``fr-CA/`` only needs the files that differ. Localised emails extend
``_base/<language>/email.html.j2`` and include ``_base/<language>/blocks/...`` (the footer and blocks
in that language).

The manifest says what the moment is for and who owns it::

    objective: Turn a browse into a purchase of the last viewed product
    primary_cta: View product
    required_variables: [first_name, last_viewed_product]
    default_offer: null
    owner: lifecycle-team
    version: 3
    approval: approved
    variants: [A, B]
    channels: [email, sms]
    locales:
      fr: {version: 2, approval: approved, approved_by: "Camille Roux (France)", approved_on: 2026-09-14,
           primary_cta: Voir le produit}
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..locales import canonical_locale
from ..models.errors import TemplateError
from ..models.policy import Channel
from ..resources import templates_dir

__all__ = [
    "MOMENTS",
    "LocaleVersion",
    "TemplateManifest",
    "default_templates_dir",
    "fill_fields",
    "load_library",
    "load_manifest",
    "translations",
]

#: The moments of the journey blueprints, in lifecycle order.
MOMENTS: tuple[str, ...] = (
    "welcome",
    "activation",
    "post_purchase_confirmation",
    "shipping_update",
    "review_request",
    "browse_abandonment",
    "cart_abandonment",
    "replenishment",
    "proactive_support",
    "win_back",
)


_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def fill_fields(text: str, fields: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` of ``fields`` replaced by its value; ``{{`` and ``}}`` are literal braces.

    A safe substitution of known fields only: unlike ``str.format`` it never reads attributes or
    items (``{0.__class__}``) and never pads (``{x:>999999}``).

    Raises
    ------
    ValueError
        ``text`` names any other field, or has a lone brace.
    """
    if "{" not in text and "}" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name is not None and name in fields:
            return fields[name]
        known = ", ".join("{" + f + "}" for f in fields)
        problem = f"the field {token}" if name is not None else f"a lone {token!r}"
        msg = f"{text!r} has {problem}; only {known} can be filled in (write {{{{ and }}}} for literal braces)"
        raise ValueError(msg)

    return _FIELD.sub(one, text)


class LocaleVersion(BaseModel):
    """Who approved which version of one locale's translation of a moment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, description="Version of this locale's files (raise it with every change).")
    approval: Literal["draft", "approved"] = "draft"
    approved_by: str | None = Field(None, description="Who approved this version (a native speaker of the market).")
    approved_on: dt.date | None = None
    translated_by: str | None = None
    primary_cta: str | None = Field(None, description="The call to action's label in this language.")
    accept_ucs2: str | None = Field(
        None, description="Why this locale's SMS may be sent in UCS-2 (70 characters a segment); empty: it may not."
    )
    notes: str = ""

    @field_validator("approved_by")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            msg = "approved_by names a person or team"
            raise ValueError(msg)
        return value

    @property
    def approved(self) -> bool:
        """Approved, with the approver named."""
        return self.approval == "approved" and bool(self.approved_by)


def _both_channels() -> list[Channel]:
    return ["email", "sms"]


class TemplateManifest(BaseModel):
    """What a moment's paired message is for, what it needs, and who approved it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    moment: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Moment id (= the template folder name).")
    objective: str = Field(min_length=1, description="The one objective of this touch.")
    primary_cta: str = Field(min_length=1, description="Label of the single call to action.")
    required_variables: list[str] = Field(
        default_factory=list, description="Profile columns the templates read (fallbacks exist for optional ones)."
    )
    default_offer: str | None = Field(None, description="Offer code or description used unless a promotion is set.")
    owner: str = Field(min_length=1)
    version: int = Field(ge=1)
    approval: Literal["draft", "approved"] = "draft"
    variants: list[str] = Field(default_factory=lambda: ["A"], min_length=1)
    channels: list[Channel] = Field(default_factory=_both_channels, min_length=1)
    landing_path: str = Field(
        "/", description="Path on the brand website both channels link to; may contain {product_id}."
    )
    fallback_landing_path: str | None = Field(
        None, description="Landing path when landing_path needs a product and the customer has none."
    )
    sms_program_start: bool = Field(
        False, description="The SMS is the first message of the SMS program (CTIA disclosures required)."
    )
    transactional: bool = Field(False, description="Transactional (not marketing) message, e.g. a shipping update.")
    description: str = ""
    approved_by: str | None = Field(None, description="Who approved the default-language version.")
    locales: dict[str, LocaleVersion] = Field(
        default_factory=dict,
        description="Per locale folder (fr, fr-CA, de ...): version, approval and approver of its translation.",
    )

    @field_validator("locales", mode="before")
    @classmethod
    def _locale_keys(cls, value: object) -> object:
        if not isinstance(value, Mapping):
            return value
        out = {}
        for key, entry in value.items():
            canon = canonical_locale(str(key))
            if canon is None:
                msg = f"locales: {key!r} is not a BCP 47 locale tag (write fr, fr-CA, de, en-GB ...)"
                raise ValueError(msg)
            out[canon] = entry
        return out

    @field_validator("landing_path", "fallback_landing_path")
    @classmethod
    def _landing(cls, value: str | None, info: object) -> str | None:
        if value is not None:
            fields = {"product_id": ""} if getattr(info, "field_name", "") == "landing_path" else {}
            fill_fields(value, fields)  # a ValueError names the unknown field
        return value

    @field_validator("variants")
    @classmethod
    def _variants(cls, value: list[str]) -> list[str]:
        if value[0] != "A":
            msg = "the first variant must be 'A' (the default)"
            raise ValueError(msg)
        if len(set(value)) != len(value):
            msg = "variant names must be unique"
            raise ValueError(msg)
        return value

    @property
    def approved(self) -> bool:
        """Whether the template may ship (``approval == "approved"``)."""
        return self.approval == "approved"


def default_templates_dir() -> Path:
    """The template folder: ``$WORKBENCH_TEMPLATES`` if set, else the templates that ship with the package."""
    return templates_dir()


def load_manifest(folder: str | os.PathLike[str]) -> TemplateManifest:
    """Read and validate ``<folder>/manifest.yaml``; the moment id is the folder name.

    Raises
    ------
    TemplateError
        The manifest is missing, not YAML, or breaks the manifest model (naming the field and a fix).
    """
    folder = Path(folder)
    path = folder / "manifest.yaml"
    if not path.exists():
        msg = f"{path} is missing. Fix: add a manifest with objective, primary_cta, owner and version"
        raise TemplateError(msg)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML ({exc}). Fix: check indentation and quoting"
        raise TemplateError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{path}: a manifest is a YAML mapping. Fix: write `objective: ...` lines"
        raise TemplateError(msg)
    data.setdefault("moment", folder.name)
    if data["moment"] != folder.name:
        msg = (
            f"{path}: moment {data['moment']!r} differs from its folder {folder.name!r}. "
            "Fix: remove the moment field or rename the folder"
        )
        raise TemplateError(msg)
    try:
        return TemplateManifest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors())
        msg = f"{path}: {problems}. Fix: see workbench.messages.library.TemplateManifest"
        raise TemplateError(msg) from None


def load_library(templates_dir: str | os.PathLike[str] | None = None) -> dict[str, TemplateManifest]:
    """Every moment's manifest, keyed by moment id, in lifecycle order (other moments after, by name).

    Parameters
    ----------
    templates_dir
        Folder holding one sub-folder per moment; default :func:`default_templates_dir`.
        Folders starting with ``_`` or ``.`` (the shared base layout) are not moments.

    Returns
    -------
    dict of str to TemplateManifest

    Raises
    ------
    TemplateError
        The folder does not exist or a manifest is invalid.
    """
    root = Path(templates_dir) if templates_dir is not None else default_templates_dir()
    if not root.is_dir():
        msg = f"template folder {root} does not exist. Fix: pass templates_dir or set WORKBENCH_TEMPLATES"
        raise TemplateError(msg)
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]
    real_root = root.resolve()
    for folder in folders:
        for path in (folder, folder / "manifest.yaml"):
            real = path.resolve()
            if path.exists() and not real.is_relative_to(real_root):
                msg = (
                    f"{path} is a link to {real}, outside the template folder {real_root}. Fix: copy the moment "
                    "into the template folder instead of linking to it"
                )
                raise TemplateError(msg)
    order = {m: i for i, m in enumerate(MOMENTS)}
    folders.sort(key=lambda p: (order.get(p.name, len(order)), p.name))
    return {p.name: load_manifest(p) for p in folders}


def translations(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """The locale sub-folders of a moment folder, by canonical tag (``fr-ca/`` is read as ``fr-CA``).

    Raises
    ------
    TemplateError
        A sub-folder is not named by a locale tag, or two name the same locale.
    """
    root = Path(folder)
    out: dict[str, Path] = {}
    for child in sorted(root.iterdir()) if root.is_dir() else ():
        if not child.is_dir() or child.name.startswith((".", "_")):
            continue
        canon = canonical_locale(child.name)
        if canon is None:
            msg = (
                f"{child} is not named by a locale. Fix: name translation folders by BCP 47 tag (fr, fr-CA, de, "
                "en-GB) and keep other files out of moment folders"
            )
            raise TemplateError(msg)
        if canon in out:
            msg = f"{child} and {out[canon]} are both {canon}. Fix: keep one folder per locale"
            raise TemplateError(msg)
        out[canon] = child
    return out
