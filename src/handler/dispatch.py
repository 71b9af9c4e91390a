"""One CloudFormation request in, one decision out: parse, run the lifecycle, set the answer,
and log a single line of what was asked, what ECR held, and what was done."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from handler import lifecycle
from handler.attributes import attributes
from handler.ecr import EcrRules
from handler.errors import ProviderError
from handler.properties import InvalidProperties, RuleSpec, canonical_prefix, parse
from handler.resource import ProviderResource
from handler.response import FAILED, SUCCESS, failed_create_id, shorten
from handler.version import VERSION

log = logging.getLogger(__name__)

_NOT_LOGGED = ("ServiceToken", "ServiceTimeout")


class Dispatcher:
    """The hook crhelper calls for Create, Update and Delete."""

    def __init__(self, resource: ProviderResource, rules_for: Callable[[Any], EcrRules]) -> None:
        self._resource = resource
        self._rules_for = rules_for

    def __call__(self, event: dict[str, Any], context: Any) -> str:
        journal = lifecycle.Journal()
        ecr = self._rules_for(context)
        kind = event["RequestType"]
        fallback_id = str(event.get("PhysicalResourceId") or failed_create_id(event["RequestId"]))
        try:
            physical_id, data = self._run(kind, event, ecr, journal, _account(context))
        except (ProviderError, InvalidProperties) as error:
            reason = error.reason if isinstance(error, ProviderError) else str(error)
            return self._fail(event, journal, ecr, _failed_id(kind, fallback_id, journal), reason)
        except Exception as error:  # a bug: still answer, with a Reason that points at the logs
            log.exception("unexpected error")
            reason = (
                f"The provider hit an unexpected error ({type(error).__name__}: "
                f"{shorten(str(error), 300)}). Its logs for RequestId {event['RequestId']} have "
                "the details; please report it."
            )
            return self._fail(event, journal, ecr, fallback_id, reason)
        if self._resource.answered:
            self._undo_unowned(event, journal, ecr, "the timeout answer had already said FAILED")
        else:
            self._resource.if_undelivered(
                lambda: self._undo_unowned(event, journal, ecr, "its answer could not be delivered")
            )
        self._resource.Data = data
        _log_decision(event, journal, ecr, SUCCESS, physical_id, "")
        return physical_id

    def _undo_unowned(
        self, event: Mapping[str, Any], journal: lifecycle.Journal, ecr: EcrRules, because: str
    ) -> None:
        """CloudFormation will never own a rule this request created under a new prefix when it
        never hears of it (it was told FAILED by the timeout answer, or the answer could not be
        delivered): its rollback keeps the id on record. Remove the rule rather than orphan it."""
        on_record = str(event.get("PhysicalResourceId", ""))
        for prefix in journal.created:
            if canonical_prefix(prefix) != canonical_prefix(on_record):
                removed = ecr.discard(prefix)
                journal.did(f"removed '{prefix}': {because}")
                log.warning(
                    "removed a rule CloudFormation will never own",
                    extra={"prefix": prefix, "because": because, "removed": removed},
                )

    def _run(
        self,
        kind: str,
        event: Mapping[str, Any],
        ecr: EcrRules,
        journal: lifecycle.Journal,
        account_id: str,
    ) -> tuple[str, dict[str, str]]:
        if kind == "Delete":
            lifecycle.delete(str(event.get("PhysicalResourceId", "")), ecr, journal)
            return str(event["PhysicalResourceId"]), {}
        asked = parse(event.get("ResourceProperties") or {})
        if kind == "Create":
            outcome = lifecycle.create(asked, ecr, journal)
        else:
            old = _parse_or_none(event.get("OldResourceProperties"))
            outcome = lifecycle.update(asked, str(event["PhysicalResourceId"]), old, ecr, journal)
        return outcome.physical_id, attributes(asked, outcome.rule, account_id)

    def _fail(
        self,
        event: Mapping[str, Any],
        journal: lifecycle.Journal,
        ecr: EcrRules,
        physical_id: str,
        reason: str,
    ) -> str:
        self._resource.Status = FAILED
        self._resource.Reason = reason
        _log_decision(event, journal, ecr, FAILED, physical_id, reason)
        return physical_id


def _failed_id(kind: str, fallback_id: str, journal: lifecycle.Journal) -> str:
    """A failed Create answers an id that names no rule, so the Delete of its rollback touches
    nothing; unless it made a rule it then could not remove: that rule's prefix, so the Delete
    removes it instead of leaving it orphaned."""
    if kind == "Create" and journal.left:
        return journal.left[-1]
    return fallback_id


def _parse_or_none(properties: Mapping[str, Any] | None) -> RuleSpec | None:
    """The old properties, when they were valid (a failed update's may not have been)."""
    try:
        return parse(properties or {})
    except InvalidProperties:
        return None


def _account(context: Any) -> str:
    arn = str(getattr(context, "invoked_function_arn", "") or "")
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _visible(properties: Any) -> Any:
    if not isinstance(properties, Mapping):
        return properties
    return {k: v for k, v in properties.items() if k not in _NOT_LOGGED}


def _log_decision(
    event: Mapping[str, Any],
    journal: lifecycle.Journal,
    ecr: EcrRules,
    status: str,
    physical_id: str,
    reason: str,
) -> None:
    decision = {
        "request_type": event.get("RequestType"),
        "logical_resource_id": event.get("LogicalResourceId"),
        "physical_id_in": event.get("PhysicalResourceId"),
        "asked": _visible(event.get("ResourceProperties")),
        "old": _visible(event.get("OldResourceProperties")),
        "held": journal.held,
        "done": journal.done,
        "ecr_calls": ecr.calls,
        "status": status,
        "physical_id": physical_id,
        "reason": reason,
        "provider_version": VERSION,
    }
    if status == SUCCESS:
        log.info("decision", extra={"decision": decision})
    else:
        log.warning("decision", extra={"decision": decision})
