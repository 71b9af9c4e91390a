"""One CloudFormation request in, one decision out: parse, run the lifecycle, claim the answer,
and log a single line of what was asked, what ECR held, what was done and what was answered."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ecr_ptc_contract import VERSION
from handler import lifecycle
from handler.attributes import attributes
from handler.deadline import Deadline
from handler.ecr import EcrRules
from handler.errors import ProviderError
from handler.partitions import partition_of
from handler.properties import InvalidProperties, RuleSpec, is_rule_id, parse
from handler.resource import ProviderResource
from handler.response import FAILED, SUCCESS, failed_create_id, shorten
from handler.stacks import Stacks

log = logging.getLogger(__name__)

_NOT_LOGGED = ("ServiceToken", "ServiceTimeout")
TIMED_OUT = "the timeout answer had already said FAILED"
NOT_STORED = "its answer did not reach CloudFormation"


class Dispatcher:
    """The hook crhelper calls for Create, Update and Delete."""

    def __init__(
        self,
        resource: ProviderResource,
        rules_for: Callable[[Deadline], EcrRules],
        stacks_for: Callable[[Deadline], Stacks],
    ) -> None:
        self._resource = resource
        self._rules_for = rules_for
        self._stacks_for = stacks_for

    def __call__(self, event: dict[str, Any], context: Any) -> str:
        journal = lifecycle.Journal()
        self._resource.if_timed_out(lambda killed_at: _timeout_answer(event, journal, killed_at))
        deadline = self._resource.deadline()
        ecr = self._rules_for(deadline)
        stacks = self._stacks_for(deadline)
        kind = str(event["RequestType"])
        try:
            physical_id, data = self._run(kind, event, ecr, stacks, journal, _location(context))
        except (ProviderError, InvalidProperties) as error:
            reason = error.reason if isinstance(error, ProviderError) else str(error)
            return self._fail(event, journal, ecr, stacks, _failed_id(event, journal), reason)
        except Exception as error:  # a bug: still answer, with a Reason that points at the logs
            log.exception("unexpected error")
            reason = (
                f"The provider hit an unexpected error ({type(error).__name__}: "
                f"{shorten(str(error), 300)}). Its logs for RequestId {event['RequestId']} have "
                "the details; please report it."
            )
            return self._fail(event, journal, ecr, stacks, _failed_id(event, journal), reason)
        if not self._resource.claim():
            self._undo_unowned(event, journal, ecr, TIMED_OUT)
            _log_decision(event, journal, ecr, stacks, self._resource.sent())
            return physical_id
        self._resource.undo_if_not_stored(lambda: self._undo_unowned(event, journal, ecr, NOT_STORED))
        self._resource.Data = data
        _log_decision(event, journal, ecr, stacks, _answer(SUCCESS, physical_id, ""))
        return physical_id

    def _run(
        self,
        kind: str,
        event: Mapping[str, Any],
        ecr: EcrRules,
        stacks: Stacks,
        journal: lifecycle.Journal,
        location: tuple[str, str, str],
    ) -> tuple[str, dict[str, str]]:
        properties = event.get("ResourceProperties")
        if kind == "Delete":
            asked = _parse_or_none(properties if isinstance(properties, Mapping) else None)
            lifecycle.delete(str(event["PhysicalResourceId"]), asked, ecr, journal)
            return str(event["PhysicalResourceId"]), {}
        asked = parse(properties or {})
        record = stacks.record(str(event["StackId"]), str(event["LogicalResourceId"]))
        if kind == "Create":
            outcome = lifecycle.create(asked, ecr, journal, record)
        else:
            outcome = lifecycle.update(asked, str(event["PhysicalResourceId"]), ecr, journal, record)
        return outcome.physical_id, attributes(asked, outcome.rule, *location)

    def _undo_unowned(
        self, event: Mapping[str, Any], journal: lifecycle.Journal, ecr: EcrRules, because: str
    ) -> None:
        """CloudFormation will never own a rule this request created under a new prefix when it
        never hears of it (the answer did not reach S3), or was told FAILED by the timeout answer
        (whose id lets the rollback remove it: removing it now is a courtesy, not a need). Remove
        the rule rather than leave it to chance."""
        for prefix in journal.outstanding(besides=_on_record(event)):
            removed = ecr.remove(prefix)
            if removed:
                journal.removed_again(prefix)
            journal.did(f"{'removed' if removed else 'could NOT remove'} '{prefix}': {because}")
            log.warning(
                "removed a rule CloudFormation will never own" if removed else "could not remove a rule",
                extra={"prefix": prefix, "because": because, "removed": removed},
            )

    def _fail(
        self,
        event: Mapping[str, Any],
        journal: lifecycle.Journal,
        ecr: EcrRules,
        stacks: Stacks,
        physical_id: str,
        reason: str,
    ) -> str:
        if not self._resource.claim():
            self._undo_unowned(event, journal, ecr, TIMED_OUT)
            _log_decision(event, journal, ecr, stacks, self._resource.sent())
            return physical_id
        self._resource.Status = FAILED
        self._resource.Reason = reason
        if event.get("RequestType") == "Update" and journal.unsure:
            # a create ECR did not confirm, under a prefix CloudFormation will not own (the answer
            # is FAILED): once the answer is out, read it back again and remove what it made
            self._resource.after_answer(lambda: _remove_unconfirmed(journal, ecr))
        _log_decision(event, journal, ecr, stacks, _answer(FAILED, physical_id, reason))
        return physical_id


def _remove_unconfirmed(journal: lifecycle.Journal, ecr: EcrRules) -> None:
    done = len(journal.done)
    lifecycle.remove_unconfirmed(journal, ecr.after_answer())
    log.warning("after the answer", extra={"done": journal.done[done:]})


def _on_record(event: Mapping[str, Any]) -> str:
    """The id CloudFormation holds for the resource ("" for a Create: none yet)."""
    return "" if event.get("RequestType") == "Create" else str(event.get("PhysicalResourceId") or "")


def _failed_id(event: Mapping[str, Any], journal: lifecycle.Journal) -> str:
    """The id of the request's own FAILED answer: one from which CloudFormation's rollback Delete
    removes what it may have made under a new prefix (lifecycle.answer_id; no create is under
    way now); otherwise the id on record, or, for a Create, one that names no rule, so that its
    Delete touches nothing. Never an id from the request's properties."""
    made = lifecycle.answer_id(journal, _on_record(event), datetime.now(UTC))
    return made or _on_record(event) or failed_create_id(str(event["RequestId"]))


def _timeout_answer(
    event: Mapping[str, Any], journal: lifecycle.Journal, killed_at: datetime
) -> tuple[str | None, str]:
    """The timeout answer's id (None: the default one) and what its Reason says of it. From now on
    the request's thread starts no create, and nothing it does later is needed for the rollback."""
    journal.close()
    made = lifecycle.answer_id(journal, _on_record(event), killed_at)
    if made is None:
        return None, ""
    if is_rule_id(made):
        return made, f" The stack's rollback deletes the rule '{made}' this request had created."
    return made, (
        f" ECR had not answered whether it created the rule '{lifecycle.unsure_prefix(made)}': the "
        "stack's rollback deletes it if it did."
    )


def _parse_or_none(properties: Mapping[str, Any] | None) -> RuleSpec | None:
    try:
        return parse(properties or {})
    except InvalidProperties:
        return None


def _location(context: Any) -> tuple[str, str, str]:
    """(account, Region, partition) of the provider, from the function's ARN (the Region from
    the environment, and its partition, when the context has no ARN)."""
    parts = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    if len(parts) > 4:
        return parts[4], parts[3], parts[1]
    region = os.environ.get("AWS_REGION", "")
    return "", region, partition_of(region)


def _visible(properties: Any) -> Any:
    if not isinstance(properties, Mapping):
        return properties
    return {k: v for k, v in properties.items() if k not in _NOT_LOGGED}


def _answer(status: str, physical_id: str, reason: str) -> dict[str, Any]:
    return {"Status": status, "PhysicalResourceId": physical_id, "Reason": reason}


def _log_decision(
    event: Mapping[str, Any],
    journal: lifecycle.Journal,
    ecr: EcrRules,
    stacks: Stacks,
    answer: Mapping[str, Any],
) -> None:
    """The decision line: what was asked and held, what was done, and the answer that went (or
    goes) to CloudFormation, which is the timeout answer when that went first."""
    status = str(answer.get("Status") or FAILED)
    decision = {
        "request_type": event.get("RequestType"),
        "logical_resource_id": event.get("LogicalResourceId"),
        "physical_id_in": event.get("PhysicalResourceId"),
        "asked": _visible(event.get("ResourceProperties")),
        "old": _visible(event.get("OldResourceProperties")),
        "held": journal.held,
        "done": journal.done,
        "ecr_calls": ecr.calls,
        "stack_calls": stacks.calls,
        "status": status,
        "physical_id": answer.get("PhysicalResourceId"),
        "reason": answer.get("Reason") or "",
        "provider_version": VERSION,
    }
    if status == SUCCESS:
        log.info("decision", extra={"decision": decision})
    else:
        log.warning("decision", extra={"decision": decision})
