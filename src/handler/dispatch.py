"""One CloudFormation request in, one result out: parse, run the lifecycle, and return the id and
attributes, or FAILED with the Reason; and log a single line of what was asked, what ECR held,
what was done and what was answered. The answer itself is handler.answers' to send."""

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
from handler.response import FAILED, SUCCESS, Result, failed_create_id, shorten
from handler.stacks import Stacks

log = logging.getLogger(__name__)

_NOT_LOGGED = ("ServiceToken", "ServiceTimeout")


class Dispatcher:
    """Serves Create, Update and Delete: one `Request` per event, with its ECR and CloudFormation
    calls bounded by the request's deadline."""

    def __init__(
        self,
        rules_for: Callable[[Deadline], EcrRules],
        stacks_for: Callable[[Deadline], Stacks],
    ) -> None:
        self._rules_for = rules_for
        self._stacks_for = stacks_for

    def begin(self, event: Mapping[str, Any], context: Any, deadline: Deadline) -> Request:
        return Request(event, self._rules_for(deadline), self._stacks_for(deadline), _location(context))


class Request:
    """One request's work. `run` decides and returns the answer; it never sends one. What the
    answer's owner (handler.answers.Answers) may still need of it: the timeout answer's id, undoing
    a rule CloudFormation will never own, the work after a FAILED answer, the decision line."""

    def __init__(
        self, event: Mapping[str, Any], ecr: EcrRules, stacks: Stacks, location: tuple[str, str, str]
    ) -> None:
        self.event = event
        self.ecr = ecr
        self.stacks = stacks
        self.location = location
        self.journal = lifecycle.Journal()

    def run(self) -> Result:
        event, journal = self.event, self.journal
        try:
            physical_id, data = self._run(str(event["RequestType"]))
        except (ProviderError, InvalidProperties) as error:
            reason = error.reason if isinstance(error, ProviderError) else str(error)
            return Result(FAILED, _failed_id(event, journal), reason)
        except Exception as error:  # a bug: still answer, with a Reason that points at the logs
            log.exception("unexpected error")
            reason = (
                f"The provider hit an unexpected error ({type(error).__name__}: "
                f"{shorten(str(error), 300)}). Its logs for RequestId {event['RequestId']} have "
                "the details; please report it."
            )
            return Result(FAILED, _failed_id(event, journal), reason)
        return Result(SUCCESS, physical_id, data=data)

    def _run(self, kind: str) -> tuple[str, dict[str, str]]:
        event, ecr, journal = self.event, self.ecr, self.journal
        properties = event.get("ResourceProperties")
        if kind == "Delete":
            asked = _parse_or_none(properties if isinstance(properties, Mapping) else None)
            lifecycle.delete(str(event["PhysicalResourceId"]), asked, ecr, journal)
            return str(event["PhysicalResourceId"]), {}
        asked = parse(properties or {})
        record = self.stacks.record(str(event["StackId"]), str(event["LogicalResourceId"]))
        if kind == "Create":
            outcome = lifecycle.create(asked, ecr, journal, record)
        else:
            outcome = lifecycle.update(asked, str(event["PhysicalResourceId"]), ecr, journal, record)
        return outcome.physical_id, attributes(asked, outcome.rule, *self.location)

    def timeout_answer(self, killed_at: datetime) -> tuple[str | None, str]:
        """The timeout answer's id (None: the default one) and what its Reason says of it. From now
        on this request starts no create, and nothing it does later is needed for the rollback."""
        journal = self.journal
        journal.close()
        made = lifecycle.answer_id(journal, _on_record(self.event), killed_at)
        if made is None:
            return None, ""
        if is_rule_id(made):
            return made, f" The stack's rollback deletes the rule '{made}' this request had created."
        return made, (
            f" ECR had not answered whether it created the rule '{lifecycle.unsure_prefix(made)}': the "
            "stack's rollback deletes it if it did."
        )

    def undo_unowned(self, because: str) -> None:
        """CloudFormation will never own a rule this request created under a new prefix when it
        never hears of it (the answer did not reach S3), or was told FAILED by the timeout answer
        (whose id lets the rollback remove it: removing it now is a courtesy, not a need). Remove
        the rule rather than leave it to chance."""
        journal = self.journal
        for prefix in journal.outstanding(besides=_on_record(self.event)):
            removed = self.ecr.remove(prefix)
            if removed:
                journal.removed_again(prefix)
            journal.did(f"{'removed' if removed else 'could NOT remove'} '{prefix}': {because}")
            log.warning(
                "removed a rule CloudFormation will never own" if removed else "could not remove a rule",
                extra={"prefix": prefix, "because": because, "removed": removed},
            )

    def after_failed_answer(self) -> None:
        """A create ECR did not confirm, in an Update whose answer was FAILED, was under a prefix
        CloudFormation will not own: read it back again and remove what it made."""
        if self.event.get("RequestType") != "Update" or not self.journal.unsure:
            return
        done = len(self.journal.done)
        lifecycle.remove_unconfirmed(self.journal, self.ecr.after_answer())
        log.warning("after the answer", extra={"done": self.journal.done[done:]})

    def log_decision(self, answer: Mapping[str, Any]) -> None:
        _log_decision(self.event, self.journal, self.ecr, self.stacks, answer)


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
