"""Amazon ECR pull-through cache rules for moto, which has none.

``install()`` adds CreatePullThroughCacheRule, UpdatePullThroughCacheRule,
DeletePullThroughCacheRule, DescribePullThroughCacheRules and
ValidatePullThroughCacheRule to moto's ECR, in-process (``mock_aws``) and in server
mode (``python -m ecr_ptc_emulator.server``). State lives on moto's ECR backend of
each account and Region, so it is reset with it (every ``mock_aws`` starts empty).

``rules()``, ``calls()`` and ``faults()`` let tests look inside and inject failures;
``teach_upstream()`` adds an upstream registry this botocore's model does not list (a kind and
its host), as if ECR had added it since, to one account and Region (reset with its rules).
Test tooling only: never ship it in the Lambda.
"""

import copy
from datetime import timedelta
from typing import Any

from moto.ecr.models import ecr_backends

from .backend import OPERATIONS, State, state_of, teach
from .faults import Faults
from .responses import install

__all__ = ["OPERATIONS", "Faults", "backdate", "calls", "faults", "install", "rules", "teach_upstream"]

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


def _state(account_id: str, region: str) -> State:
    return state_of(ecr_backends[account_id][region])


def rules(account_id: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION) -> dict[str, dict[str, Any]]:
    """The rules held, by prefix, with their fields as the API returns them (camelCase)."""
    state = _state(account_id, region)
    with state.lock:
        return copy.deepcopy(state.rules)


def calls(
    account_id: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION
) -> list[tuple[str, dict[str, Any]]]:
    """Every pull-through cache call received, in order: (operation name, request params).

    Includes calls answered with an error or an injected fault.
    """
    state = _state(account_id, region)
    with state.lock:
        return copy.deepcopy(state.calls)


def backdate(
    prefix: str, seconds: float, account_id: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION
) -> None:
    """Make the rule look `seconds` older (its createdAt and updatedAt), as if made back then."""
    state = _state(account_id, region)
    with state.lock:
        rule = state.rules[prefix]
        for key in ("createdAt", "updatedAt"):
            rule[key] = rule[key] - timedelta(seconds=seconds)


def faults(account_id: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION) -> Faults:
    """The fault injection settings of this account and Region."""
    return _state(account_id, region).faults


def teach_upstream(
    kind: str,
    host: str,
    needs_credential: bool = False,
    account_id: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
) -> None:
    """From now on this account and Region's ECR caches ``host`` as the upstream registry
    ``kind``: CreatePullThroughCacheRule infers ``kind`` from ``host`` and accepts it as
    ``upstreamRegistry``; with ``needs_credential`` it refuses a rule for ``kind`` without a
    credentialArn. Raises ValueError for a kind the model lists or a host already known."""
    teach(_state(account_id, region), kind, host, needs_credential)
