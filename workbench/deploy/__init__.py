"""Deploy: the one place that talks to the execution tools' APIs (Klaviyo, Dittofeed).

``plan`` says what a deploy would create or change and sends nothing that changes the account;
``apply`` does it and records what it created in a state file next to the strategy, so a second
deploy with nothing changed plans nothing. ``lookup_ids`` reads the ids an account already has.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import dittofeed, klaviyo
from .client import ApiClient, DeployError, RateLimit
from .plan import Plan, Step, load_state, save_state, state_path

__all__ = [
    "TARGETS",
    "ApiClient",
    "DeployError",
    "Plan",
    "RateLimit",
    "Step",
    "deploy",
    "lookup_ids",
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
    from ..journeys import build_journeys
    from ..strategy import load_strategy

    module = _module(target)
    strategy = load_strategy(strategy_path)
    built = journeys if journeys is not None else build_journeys(strategy)
    path = state_path(strategy_path, target)
    state = load_state(path, target)
    url = base_url or module.BASE_URL
    own = api is None and (apply or (target == "klaviyo" and os.environ.get(klaviyo.API_KEY_ENV)))
    if own:
        api = module.client(url)
    try:
        if target == "dittofeed":
            if idmap is None or not getattr(idmap, "workspace_id", None):
                ws = os.environ.get("DITTOFEED_WORKSPACE_ID")
                if ws:
                    from ..exporters.registry import IdMap

                    idmap = idmap or IdMap(target="dittofeed")
                    idmap.workspace_id = ws
            if apply:
                if idmap is None or not idmap.workspace_id:
                    msg = (
                        "a Dittofeed deploy needs the workspace id. Fix: set workspace_id in the id map "
                        "or DITTOFEED_WORKSPACE_ID"
                    )
                    raise DeployError(msg)
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


def read_idmap(path: str | os.PathLike[str] | None) -> Any:
    """An id map file (YAML or JSON), or None."""
    if path is None:
        return None
    import yaml

    from ..exporters.registry import IdMap

    text = Path(path).read_text(encoding="utf-8")
    return IdMap.from_dict(yaml.safe_load(text) or {}, source=str(path))
