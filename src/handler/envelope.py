"""The request's envelope: the fields CloudFormation puts around the properties, checked before
anything else reads them, so that whatever arrives (a hand-made event, a replay, a harness)
gets one readable answer instead of a Python error or the wrong action. A value nested deeper
than any request needs is set aside before anything copies, hashes or logs the event (each of
which recurses, and would fail on the thousands of levels JSON allows)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecr_ptc_contract.wording import json_kind, shown

REQUEST_TYPES = ("Create", "Update", "Delete")
# crhelper's own keys: it reads them to drive polling, which this provider does not use. An
# event that carries them (crhelper puts them in its EventBridge polling events) must not
# change what the provider does.
CRHELPER_KEYS = ("CrHelperPoll", "CrHelperData", "CrHelperPermission", "CrHelperRule")
IDENTIFIERS = ("StackId", "RequestId", "LogicalResourceId")
# The properties are strings (an object of them: 2 levels); nothing CloudFormation sends nests
# anywhere near this deep.
MAX_DEPTH = 32
SET_ASIDE = f"(nested more than {MAX_DEPTH} levels deep)"


@dataclass
class Envelope:
    """The event as the provider will serve it, and what is wrong with its envelope."""

    event: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def request_type(self) -> str:
        value = self.event.get("RequestType")
        return value if isinstance(value, str) else ""


def check(event: Any) -> Envelope:
    """The event without crhelper's keys (and a Create without an id of its own), and one
    sentence per problem of its envelope."""
    if not isinstance(event, Mapping):
        return Envelope({}, [f"The event is not an object but {json_kind(event)}."])
    problems: list[str] = []
    kind = event.get("RequestType")
    served = {k: _shallow_enough(k, v, kind, problems) for k, v in event.items() if k not in CRHELPER_KEYS}
    if kind not in REQUEST_TYPES:
        close = [t for t in REQUEST_TYPES if isinstance(kind, str) and t.lower() == kind.strip().lower()]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(
            f"RequestType {shown(kind)} is not one CloudFormation sends{hint}: it sends Create, "
            "Update or Delete, spelt exactly so."
        )
    if kind == "Create":
        served.pop("PhysicalResourceId", None)  # a Create's id is the rule's, never the request's
    for name in IDENTIFIERS:
        if not isinstance(served.get(name), str) or not served[name]:
            missing = _missing(served, name)
            problems.append(f"{name} is {missing}; CloudFormation sends it with every request.")
    if kind in ("Update", "Delete") and (
        not isinstance(served.get("PhysicalResourceId"), str) or not served["PhysicalResourceId"]
    ):
        problems.append(
            f"PhysicalResourceId is {_missing(served, 'PhysicalResourceId')}; CloudFormation sends "
            f"it with every {kind}."
        )
    if kind in ("Create", "Update") and not isinstance(served.get("ResourceProperties"), Mapping):
        problems.append(
            f"ResourceProperties is {_missing(served, 'ResourceProperties')}; it must be an object "
            "holding the resource's properties."
        )
    if not isinstance(served.get("OldResourceProperties", {}), Mapping):
        served["OldResourceProperties"] = {}  # only ever read for the decision log
    return Envelope(served, problems)


def _shallow_enough(name: str, value: Any, kind: Any, problems: list[str]) -> Any:
    """A copy of the value; one nested deeper than MAX_DEPTH is set aside, and said so when the
    request needs it (old properties are only logged; a Delete needs no properties)."""
    if not _deeper_than(value, MAX_DEPTH):
        return copy.deepcopy(value)
    if name == "OldResourceProperties" or (name == "ResourceProperties" and kind == "Delete"):
        return {}
    problems.append(
        f"{name} nests more than {MAX_DEPTH} levels deep; "
        + (
            "the resource's properties are strings (see the provider's reference)."
            if name == "ResourceProperties"
            else "CloudFormation sends it as a string."
        )
    )
    return {} if name == "ResourceProperties" else SET_ASIDE


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests objects or lists more than `limit` levels deep (without recursing)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _missing(event: Mapping[str, Any], name: str) -> str:
    if name not in event:
        return "missing"
    value = event[name]
    return "null" if value is None else f"{shown(value)} ({json_kind(value)})"
