"""The request's envelope: the fields CloudFormation puts around the properties, checked before
anything else reads them, so that whatever arrives (a hand-made event, a replay, a harness)
gets one readable answer instead of a Python error or the wrong action."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REQUEST_TYPES = ("Create", "Update", "Delete")
# crhelper's own keys: it reads them to drive polling, which this provider does not use. An
# event that carries them (crhelper puts them in its EventBridge polling events) must not
# change what the provider does.
CRHELPER_KEYS = ("CrHelperPoll", "CrHelperData", "CrHelperPermission", "CrHelperRule")
IDENTIFIERS = ("StackId", "RequestId", "LogicalResourceId")
NOT_SHOWN_CHARS = 60


@dataclass
class Envelope:
    """The event as the provider will serve it, and what is wrong with its envelope."""

    event: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def request_type(self) -> str:
        value = self.event.get("RequestType")
        return value if isinstance(value, str) else ""

    @property
    def response_url(self) -> str:
        value = self.event.get("ResponseURL")
        return value if isinstance(value, str) else ""


def check(event: Any) -> Envelope:
    """The event without crhelper's keys (and a Create without an id of its own), and one
    sentence per problem of its envelope."""
    if not isinstance(event, Mapping):
        return Envelope({}, [f"The event is not an object but {type(event).__name__}."])
    served = {k: copy.deepcopy(v) for k, v in event.items() if k not in CRHELPER_KEYS}
    problems: list[str] = []
    kind = served.get("RequestType")
    if kind not in REQUEST_TYPES:
        close = [t for t in REQUEST_TYPES if isinstance(kind, str) and t.lower() == kind.strip().lower()]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(
            f"RequestType {_show(kind)} is not one CloudFormation sends{hint}: it sends Create, "
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


def _missing(event: Mapping[str, Any], name: str) -> str:
    if name not in event:
        return "missing"
    return f"{_show(event[name])} ({type(event[name]).__name__})"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= NOT_SHOWN_CHARS else f"{text[:NOT_SHOWN_CHARS]}… ({len(text)} characters)"
