"""Deploy: the one place that talks to the execution tools' APIs (Klaviyo, Dittofeed).

``plan`` says what a deploy would create or change and sends nothing that changes the account;
``apply`` does it and records what it created in a state file next to the strategy, so a second
deploy with nothing changed plans nothing. ``lookup_ids`` reads the ids an account already has.
"""

from __future__ import annotations

import os
from typing import Any

from ..application import strategy_journeys
from ..exporters import ExportContext, export_journeys
from ..exporters.registry import IdMap, id_skeleton, placeholder_id
from ..io import load_strategy, load_templates, read_text
from ..models.documents import load_yaml
from ..models.errors import DeployError
from ..models.strategy import Strategy
from . import dittofeed, klaviyo
from .client import ApiClient, RateLimit
from .plan import Plan, Step, load_state, save_state, state_path

__all__ = [
    "TARGETS",
    "ApiClient",
    "DeployError",
    "Plan",
    "RateLimit",
    "Step",
    "deploy",
    "id_map_for",
    "lookup_ids",
    "read_idmap",
    "state_path",
]

TARGETS = {"klaviyo": klaviyo, "dittofeed": dittofeed}


def _module(target: str) -> Any:
    if target not in TARGETS:
        msg = f"unknown deploy target {target!r}. Fix: use klaviyo or dittofeed"
        raise DeployError(msg)
    return TARGETS[target]


def lookup_ids(target: str, api: ApiClient, *, workspace_id: str | None = None) -> Any:
    """The ids the account already has, by kind and name (an :class:`~workbench.exporters.registry.IdMap`)."""
    if target == "dittofeed":
        if not workspace_id:
            msg = (
                "Dittofeed look-ups need the workspace id. Fix: set workspace_id in the id map or "
                "DITTOFEED_WORKSPACE_ID"
            )
            raise DeployError(msg)
        return dittofeed.lookup(api, workspace_id)
    return _module(target).lookup(api)


def deploy(
    strategy_path: str | os.PathLike[str],
    *,
    target: str,
    apply: bool = False,
    idmap: Any = None,
    base_url: str | None = None,
    api: ApiClient | None = None,
    journeys: list[Any] | None = None,
) -> Plan:
    """Plan (and with ``apply=True`` carry out) the deploy of a strategy's journeys to ``target``.

    Without ``apply`` nothing that changes the account is sent: Klaviyo's plan reads the account's
    metric, segment and template ids when an API key is set (read-only requests); Dittofeed's plan
    needs no request. The state file is ``<strategy>.<target>.deploy.json`` beside the strategy.
    """
    module = _module(target)
    strategy = load_strategy(strategy_path)
    _, library = load_templates()
    built = journeys if journeys is not None else strategy_journeys(strategy, library=library)
    path = state_path(strategy_path, target)
    state = load_state(path, target)
    url = base_url or module.BASE_URL
    own = api is None and bool(apply or (target == "klaviyo" and os.environ.get(klaviyo.API_KEY_ENV)))
    if own:
        api = module.client(url)
    try:
        if target == "dittofeed":
            if idmap is None or not getattr(idmap, "workspace_id", None):
                ws = os.environ.get("DITTOFEED_WORKSPACE_ID")
                if ws:
                    idmap = idmap or IdMap(target="dittofeed")
                    idmap.workspace_id = ws
            if apply:
                if idmap is None or not idmap.workspace_id:
                    msg = (
                        "a Dittofeed deploy needs the workspace id. Fix: set workspace_id in the id map "
                        "or DITTOFEED_WORKSPACE_ID"
                    )
                    raise DeployError(msg)
                assert api is not None  # apply always has a client (its own or the one given)
                return dittofeed.apply(
                    built,
                    strategy,
                    api=api,
                    state=state,
                    state_file=path,
                    idmap=idmap,
                    save=lambda s: save_state(path, s),
                )
            return dittofeed.plan(built, strategy, state=state, state_file=path, idmap=idmap, base_url=url)
        account = klaviyo.lookup(api) if api is not None else None
        if apply:
            assert api is not None
            return klaviyo.apply(
                built,
                strategy,
                api=api,
                state=state,
                state_file=path,
                idmap=idmap,
                account=account,
                save=lambda s: save_state(path, s),
            )
        return klaviyo.plan(built, strategy, state=state, state_file=path, idmap=idmap, account=account, base_url=url)
    finally:
        if own and api is not None:
            api.close()


def read_idmap(path: str | os.PathLike[str] | None) -> IdMap | None:
    """An id map file (YAML or JSON), or None."""
    if path is None:
        return None
    text = read_text(path, what="id map file", error=DeployError)
    return IdMap.from_dict(load_yaml(text, source=str(path), error=DeployError) or {}, source=str(path))


def id_map_for(
    strategy: Strategy, target: str, *, known: IdMap | None = None, base_url: str | None = None
) -> tuple[IdMap, str]:
    """Every id the export of ``strategy`` to ``target`` needs, by kind and name, and where the values came from.

    Ids in ``known`` are kept; with the tool's API key in the environment the account's existing ids
    are looked up (read-only requests) and fill the rest. Dittofeed ids the workbench chooses itself
    (it upserts with them) are filled in as placeholders.
    """
    module = _module(target)
    result = export_journeys(strategy_journeys(strategy), targets=[target], context=ExportContext(strategy=strategy))
    source = "no API key: names only"
    if os.environ.get(module.API_KEY_ENV):
        with module.client(base_url) as api:
            workspace = (known.workspace_id if known else None) or os.environ.get("DITTOFEED_WORKSPACE_ID")
            account = lookup_ids(target, api, workspace_id=workspace)
        if known is not None:
            for kind, names in known.ids.items():
                account.ids.setdefault(kind, {}).update({n: v for n, v in names.items() if v})
        known, source = account, f"looked up in the account at {api.base_url}"
    skeleton = id_skeleton(target, result[target].needed, known=known)
    if target == "dittofeed":
        for kind, names in skeleton.ids.items():
            for name in names:
                names[name] = names[name] or placeholder_id(kind, name)  # the id deploy upserts it with
        skeleton.workspace_id = skeleton.workspace_id or os.environ.get("DITTOFEED_WORKSPACE_ID")
    return skeleton, source
