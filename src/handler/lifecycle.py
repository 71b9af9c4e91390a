"""What each CloudFormation request does to ECR, decided from the request and ECR's real state.

The success paths make the fewest calls the API allows: Create 1, in-place Update 1,
replacement under a new prefix 1, replacement under the same prefix 2, Delete 1, and an
Update that changes nothing ECR holds 0. ECR is read only where the request alone cannot
tell what to do (a prefix that already exists, or an Update whose old properties do not
describe the rule on record).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from handler.errors import OutOfTime, ProviderError, RuleAlreadyExists, RuleNotFound
from handler.properties import ROOT, RuleSpec, canonical_prefix, is_rule_id
from handler.rules import Change, Rule, changes


class Rules(Protocol):
    """The ECR calls the lifecycle needs (handler.ecr.EcrRules implements them)."""

    def create(self, spec: RuleSpec) -> Rule: ...
    def update(self, prefix: str, credential_arn: str | None, custom_role_arn: str | None) -> Rule: ...
    def delete(self, prefix: str) -> Rule | None: ...
    def describe(self, prefix: str) -> Rule | None: ...
    def validate(self, prefix: str) -> tuple[bool, str]: ...
    def discard(self, prefix: str) -> bool: ...


@dataclass
class Journal:
    """What one request saw and did, logged as a single decision line."""

    held: dict[str, Any] | None = None
    done: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # prefixes of the rules this request made
    left: list[str] = field(default_factory=list)  # rules it made, failed, and could not remove

    def saw(self, rule: Rule | None) -> None:
        self.held = None if rule is None else {k: str(v) for k, v in vars(rule).items() if v}

    def did(self, what: str) -> None:
        self.done.append(what)


@dataclass(frozen=True)
class Outcome:
    """A successful request: the id to answer, and what ECR now holds (as far as known)."""

    physical_id: str
    rule: Rule


def create(asked: RuleSpec, ecr: Rules, journal: Journal) -> Outcome:
    """Create: a new rule, or (AdoptExisting) the existing one taken over."""
    return Outcome(asked.ecr_repository_prefix, _create_or_adopt(asked, ecr, journal, False))


def update(asked: RuleSpec, physical_id: str, old: RuleSpec | None, ecr: Rules, journal: Journal) -> Outcome:
    """Update: in place, under a new prefix, or replaced under the same prefix."""
    if not is_rule_id(physical_id) or not _same(asked.ecr_repository_prefix, physical_id):
        rule = _create_or_adopt(asked, ecr, journal, accept_matching=True)
        return Outcome(asked.ecr_repository_prefix, rule)

    believed = None
    if old is not None and _same(old.ecr_repository_prefix, physical_id):
        believed = Rule.believed_from(old)
    else:  # the old properties do not describe the rule on record (e.g. a rollback): look
        believed = ecr.describe(physical_id)
        journal.saw(believed)
        if believed is None:
            journal.did("the rule on record is missing from ECR: created it again")
            return Outcome(physical_id, _create_checked(asked, ecr, journal))

    diff = changes(believed, asked)
    if not diff:
        journal.did("nothing ECR holds changes: no call")
        return Outcome(physical_id, believed)
    if all(change.in_place for change in diff):
        return Outcome(physical_id, _update_in_place(asked, physical_id, diff, ecr, journal))
    return Outcome(physical_id, _replace_same_prefix(asked, physical_id, believed, diff, ecr, journal))


def delete(physical_id: str, ecr: Rules, journal: Journal) -> None:
    """Delete: the rule on record; an id that cannot be a rule (a failed Create's) is left alone."""
    if not is_rule_id(physical_id):
        journal.did("the id names no rule (e.g. a failed Create): nothing to delete")
        return
    deleted = ecr.delete(physical_id)
    journal.saw(deleted)
    journal.did("deleted the rule" if deleted else "the rule was already gone")


def _same(prefix: str, physical_id: str) -> bool:
    return canonical_prefix(prefix) == canonical_prefix(physical_id)


def _create_or_adopt(asked: RuleSpec, ecr: Rules, journal: Journal, accept_matching: bool) -> Rule:
    try:
        return _create_checked(asked, ecr, journal)
    except RuleAlreadyExists as exists:
        held = ecr.describe(asked.ecr_repository_prefix)
        journal.saw(held)
        if held is None:  # deleted between the two calls
            return _create_checked(asked, ecr, journal)
        diff = changes(held, asked)
        if accept_matching and not diff:
            journal.did("the rule already exists exactly as asked (a rollback): kept it")
            return held
        if not asked.adopt_existing:
            detail = "; it matches the template" if not diff else f"; {_list(diff)}"
            raise ProviderError(
                f"EcrRepositoryPrefix '{asked.ecr_repository_prefix}': a pull-through cache rule "
                f"with this prefix already exists and this resource did not create it{detail}. "
                "Choose another EcrRepositoryPrefix, or set AdoptExisting: 'true' to take the "
                "existing rule over."
            ) from exists
        return _adopt(asked, held, diff, ecr, journal)


def _adopt(asked: RuleSpec, held: Rule, diff: list[Change], ecr: Rules, journal: Journal) -> Rule:
    blocking = [change for change in diff if not change.in_place]
    if blocking:
        raise ProviderError(
            f"AdoptExisting: the existing rule '{held.ecr_repository_prefix}' differs in what only "
            f"a new rule can change: {_list(blocking)}. Make the template match the existing "
            "rule, or delete that rule first, or choose another EcrRepositoryPrefix."
        )
    if not diff:
        journal.did("adopted the existing rule unchanged")
        return held
    updated = ecr.update(held.ecr_repository_prefix, asked.credential_arn, asked.custom_role_arn)
    journal.did(f"adopted the existing rule and updated it in place: {_list(diff)}")
    _check_credentials(asked, ecr, journal, undo=None)
    return _merge(held, updated)


def _create_checked(asked: RuleSpec, ecr: Rules, journal: Journal) -> Rule:
    """Create the rule; with ValidateCredentials, remove it again if ECR cannot reach upstream."""
    rule = ecr.create(asked)
    journal.did("created the rule")
    _check_credentials(asked, ecr, journal, undo="removed the rule it had just created")
    journal.created.append(asked.ecr_repository_prefix)
    return rule


def _update_in_place(
    asked: RuleSpec, physical_id: str, diff: list[Change], ecr: Rules, journal: Journal
) -> Rule:
    try:
        updated = ecr.update(physical_id, asked.credential_arn, asked.custom_role_arn)
    except RuleNotFound:
        journal.did("the rule on record was missing from ECR: created it again")
        return _create_checked(asked, ecr, journal)
    journal.did(f"updated in place: {_list(diff)}")
    # A failed check leaves the new credential for CloudFormation's rollback to revert.
    _check_credentials(asked, ecr, journal, undo=None)
    return _merge(Rule.believed_from(asked), updated)


def _replace_same_prefix(
    asked: RuleSpec,
    physical_id: str,
    believed: Rule,
    diff: list[Change],
    ecr: Rules,
    journal: Journal,
) -> Rule:
    """Delete, then create under the same prefix; put the old rule back if the create fails."""
    deleted = ecr.delete(physical_id)
    journal.did(f"deleted the rule to replace it ({_list(diff)})")
    try:
        return _create_checked(asked, ecr, journal)
    except ProviderError as error:
        if deleted is None:
            raise
        raise _restore(error, deleted, believed, ecr, journal) from error


def _restore(
    error: ProviderError, deleted: Rule, believed: Rule, ecr: Rules, journal: Journal
) -> ProviderError:
    upstream_prefix = deleted.upstream_repository_prefix
    previous = RuleSpec(
        ecr_repository_prefix=deleted.ecr_repository_prefix,
        upstream_registry_url=deleted.upstream_registry_url or believed.upstream_registry_url or "",
        upstream_registry=believed.upstream_registry,
        upstream_repository_prefix=None if upstream_prefix in (None, ROOT) else upstream_prefix,
        credential_arn=deleted.credential_arn,
        custom_role_arn=deleted.custom_role_arn,
    )
    try:
        ecr.create(previous)
    except ProviderError as restore_error:
        journal.did("could NOT put the previous rule back")
        return ProviderError(
            f"{error.reason} Putting the previous rule back failed too "
            f"({restore_error.reason}); recreate it by hand: {_describe(previous)}."
        )
    journal.did("put the previous rule back")
    return ProviderError(f"{error.reason} The previous rule was put back unchanged.")


def _check_credentials(asked: RuleSpec, ecr: Rules, journal: Journal, undo: str | None) -> None:
    """With ValidateCredentials, ECR must report the upstream reachable. `undo` (for a rule this
    request just created) removes the rule when the check fails or cannot be made."""
    if not asked.validate_credentials:
        return
    prefix = asked.ecr_repository_prefix
    try:
        valid, failure = ecr.validate(prefix)
    except ProviderError as error:  # not checked is not passed: the new rule must not stay
        if undo is None:
            raise
        raise ProviderError(f"{error.reason}{_remove_unchecked(prefix, ecr, journal, undo)}") from error
    if valid:
        journal.did("ECR validated the upstream credentials")
        return
    then = "" if undo is None else _remove_unchecked(prefix, ecr, journal, undo)
    raise ProviderError(
        f"ValidateCredentials: ECR cannot reach the upstream of rule '{prefix}' with these "
        f"credentials: {failure or 'ECR gave no reason'}. Check the secret named by CredentialArn "
        f"(username and accessToken) or CustomRoleArn's trust policy.{then}"
    )


def _remove_unchecked(prefix: str, ecr: Rules, journal: Journal, undo: str) -> str:
    """Remove the rule this request just created; the sentence that tells what became of it."""
    try:
        ecr.delete(prefix)
        removed = True
    except OutOfTime:  # no time left for retries: one attempt, whatever the deadline says
        removed = ecr.discard(prefix)
    except ProviderError:
        removed = False
    if removed:
        journal.did(undo)
        return f" The provider {undo}."
    journal.left.append(prefix)
    journal.did("could NOT remove the rule it had just created")
    return (
        f" The rule '{prefix}' it had just created could not be removed; if it is still there "
        f"after the stack's rollback, delete it: aws ecr delete-pull-through-cache-rule "
        f"--ecr-repository-prefix {prefix}."
    )


def _merge(base: Rule, newer: Rule) -> Rule:
    """`base` with every field `newer` reports (an update's answer lacks some fields)."""
    fields = {k: v for k, v in vars(newer).items() if v is not None}
    fields["credential_arn"] = newer.credential_arn
    fields["custom_role_arn"] = newer.custom_role_arn
    return Rule(**{**vars(base), **fields})


def _list(diff: list[Change]) -> str:
    return "; ".join(str(change) for change in diff)


def _describe(spec: RuleSpec) -> str:
    parts = {
        "EcrRepositoryPrefix": spec.ecr_repository_prefix,
        "UpstreamRegistryUrl": spec.upstream_registry_url,
        "UpstreamRegistry": spec.upstream_registry,
        "UpstreamRepositoryPrefix": spec.upstream_repository_prefix,
        "CredentialArn": spec.credential_arn,
        "CustomRoleArn": spec.custom_role_arn,
    }
    return ", ".join(f"{k}={v}" for k, v in parts.items() if v)
