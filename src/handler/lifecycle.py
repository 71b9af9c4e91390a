"""What each CloudFormation request does to ECR, decided from the request and ECR's real state.

Every Update first reads the rule on record (OldResourceProperties are what the template
asked last time, not what ECR holds: after a failed update the two differ). The success paths
make the fewest calls that allows: Create 1, in-place Update 2 (read, update), replacement
under a new prefix 1, replacement under the same prefix 3 (read, delete, create), Delete 1,
and an Update that changes nothing ECR holds 1 (the read).

A rule is taken as this resource's own only when this request created it, when the template
says AdoptExisting, when CloudFormation already records this resource as that rule (a repeated
delivery), or when CloudFormation is rolling the stack back to it; never when another resource
of the same stack holds it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from handler.errors import EcrError, OutOfTime, ProviderError, RuleAlreadyExists, RuleNotFound
from handler.properties import RuleSpec, canonical_prefix, is_rule_id
from handler.rules import CLOCK_SKEW, Change, Rule, Window, changes, made_within

# The id a failed Create answers when ECR did not confirm whether its create took effect: the
# rollback's Delete reads the prefix and deletes the rule only if it is the one that create made.
_UNSURE_ID = re.compile(
    r"^ecr-ptc:create-unsure:(?P<start>[0-9]{1,15})-(?P<end>[0-9]{1,15}):(?P<prefix>[^:]+)$"
)


class Rules(Protocol):
    """The ECR calls the lifecycle needs (handler.ecr.EcrRules implements them)."""

    def create(self, spec: RuleSpec) -> Rule: ...
    def update(self, prefix: str, credential_arn: str | None, custom_role_arn: str | None) -> Rule: ...
    def delete(self, prefix: str) -> Rule | None: ...
    def describe(self, prefix: str) -> Rule | None: ...
    def validate(self, prefix: str) -> tuple[bool, str]: ...
    def wait_until(self, moment: datetime) -> None:
        """Return once `moment` has passed; OutOfTime when it comes after the answer is due."""
        ...


class Record(Protocol):
    """CloudFormation's record of the request's stack (read only on the paths that need it)."""

    def rolling_back(self) -> bool:
        """Whether CloudFormation is rolling the stack back (raises when it cannot be read)."""
        ...

    def holds(self, prefix: str) -> bool:
        """Whether CloudFormation already records this very resource as the rule `prefix`."""
        ...

    def others_holding(self, prefix: str) -> list[str]:
        """The stack's other resources whose physical id is this prefix."""
        ...


@dataclass
class Journal:
    """What one request saw and did, logged as a single decision line; and, read by the timeout
    answer while the request's thread is still at work, the rules it made or may be making."""

    held: dict[str, Any] | None = None
    done: list[str] = field(default_factory=list)
    made: list[str] = field(default_factory=list)  # prefixes of the rules this request created
    removed: list[str] = field(default_factory=list)  # of those, the ones it removed again
    unsure: list[tuple[RuleSpec, Window]] = field(default_factory=list)  # creates ECR did not confirm
    _creating: tuple[RuleSpec, datetime] | None = None  # a create in flight, since when
    _closed: bool = False  # the answer went out without this request's thread: no create may start
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def saw(self, rule: Rule | None) -> None:
        self.held = None if rule is None else {k: str(v) for k, v in vars(rule).items() if v}

    def did(self, what: str) -> None:
        self.done.append(what)

    def creating(self, asked: RuleSpec) -> None:
        """A create of `asked` is about to be sent (OutOfTime once the answer went out)."""
        with self._lock:
            if self._closed:
                raise OutOfTime(
                    f"CreatePullThroughCacheRule '{asked.ecr_repository_prefix}' was not attempted: "
                    "the timeout answer had already gone out."
                )
            self._creating = (asked, datetime.now(UTC))

    def create_ended(self, asked: RuleSpec, made: bool, unsure: Window | None = None) -> None:
        with self._lock:
            self._creating = None
            if made:
                self.made.append(asked.ecr_repository_prefix)
            if unsure is not None:
                self.unsure.append((asked, unsure))

    def removed_again(self, prefix: str) -> None:
        """The rule this request made under `prefix` is gone again."""
        with self._lock:
            self.removed.append(prefix)

    def outstanding(self, besides: str = "") -> list[str]:
        """The rules this request made and has not removed, but the one named `besides`."""
        with self._lock:
            return [p for p in self.made if p not in self.removed and not _same(p, besides)]

    def close(self) -> None:
        """The answer went out while the request's thread was at work: it may start no create."""
        with self._lock:
            self._closed = True


@dataclass(frozen=True)
class Outcome:
    """A successful request: the id to answer, and what ECR now holds (as far as known)."""

    physical_id: str
    rule: Rule


def unsure_id(asked: RuleSpec, window: Window) -> str:
    """The id of a failed Create whose create ECR did not confirm (see _UNSURE_ID)."""
    start, end = (int(moment.timestamp() * 1000) for moment in (window.start, window.end))
    return f"ecr-ptc:create-unsure:{start}-{end}:{asked.ecr_repository_prefix}"


def unsure_prefix(physical_id: str) -> str | None:
    """The prefix an unsure-create id names (None: it is not one)."""
    match = _UNSURE_ID.match(physical_id)
    return match["prefix"] if match else None


def answer_id(journal: Journal, on_record: str, killed_at: datetime) -> str | None:
    """The id a FAILED answer carries when this request may have made a rule under a prefix that
    is not the one on record (`on_record`: "" for a Create), so that CloudFormation's rollback
    Delete of that id removes it, with no work of this request's after the answer: the prefix of
    a rule it made and has not removed; or, for a create in flight (its effect lands before the
    process is killed, `killed_at`, at the latest) or one ECR did not confirm, an id from which
    that Delete tells whether the rule there is the one it made. None: nothing to name."""
    left = journal.outstanding(besides=on_record)
    if left:
        return left[-1]
    with journal._lock:
        creating = journal._creating
        unsure = [(s, w) for s, w in journal.unsure if not _same(s.ecr_repository_prefix, on_record)]
    if creating is not None and not _same(creating[0].ecr_repository_prefix, on_record):
        return unsure_id(creating[0], Window(creating[1], killed_at))
    return unsure_id(*unsure[-1]) if unsure else None


def remove_unconfirmed(journal: Journal, ecr: Rules) -> None:
    """After a FAILED answer: remove each rule a create ECR did not confirm made (read back with
    the attempts' own window), since CloudFormation will never own it."""
    for asked, window in journal.unsure:
        try:
            _delete_if_made(asked.ecr_repository_prefix, window, asked, ecr, journal)
        except ProviderError as error:
            journal.did(f"could NOT tell whether '{asked.ecr_repository_prefix}' was made: {error.reason}")


def create(asked: RuleSpec, ecr: Rules, journal: Journal, record: Record) -> Outcome:
    """Create: a new rule, or (AdoptExisting) the existing one taken over."""
    return Outcome(asked.ecr_repository_prefix, _create_or_take(asked, ecr, journal, record, False))


def update(asked: RuleSpec, physical_id: str, ecr: Rules, journal: Journal, record: Record) -> Outcome:
    """Update: to a new prefix (or back to the old one, in a rollback), in place, or replaced
    under the same prefix; always from what ECR holds."""
    if not is_rule_id(physical_id) or not _same(asked.ecr_repository_prefix, physical_id):
        return Outcome(asked.ecr_repository_prefix, _create_or_take(asked, ecr, journal, record, True))
    held = ecr.describe(physical_id)
    journal.saw(held)
    if held is None:
        journal.did("the rule on record is missing from ECR: created it again")
        return Outcome(physical_id, _create_checked(asked, ecr, journal))
    diff = changes(held, asked)
    if not diff:
        journal.did("ECR holds the rule as asked: no write")
        return Outcome(physical_id, held)
    if all(change.in_place for change in diff):
        return Outcome(physical_id, _update_in_place(asked, held, diff, ecr, journal))
    return Outcome(physical_id, _replace_same_prefix(asked, held, diff, ecr, journal))


def delete(physical_id: str, asked: RuleSpec | None, ecr: Rules, journal: Journal) -> None:
    """Delete: the rule on record; an id that cannot be a rule (a failed Create's) is left
    alone, unless it says that Create may have made a rule: that one is deleted if it is."""
    unsure = _UNSURE_ID.match(physical_id)
    if unsure:
        start, end = (datetime.fromtimestamp(int(unsure[k]) / 1000, UTC) for k in ("start", "end"))
        _delete_if_made(unsure["prefix"], Window(start, end), asked, ecr, journal)
        return
    if not is_rule_id(physical_id):
        journal.did("the id names no rule (e.g. a failed Create): nothing to delete")
        return
    deleted = ecr.delete(physical_id)
    journal.saw(deleted)
    journal.did("deleted the rule" if deleted else "the rule was already gone")


def _delete_if_made(
    prefix: str, window: Window, asked: RuleSpec | None, ecr: Rules, journal: Journal
) -> None:
    # A create still in flight when its request answered may land until the window's end (the
    # moment its process was killed): read the registry only after it.
    settled = window.end + CLOCK_SKEW
    try:
        ecr.wait_until(settled)
    except OutOfTime as early:
        raise ProviderError(
            f"The failed request this Delete undoes may still create the rule '{prefix}' until "
            f"{settled.isoformat(timespec='seconds')} (its process was then still running), and "
            f"this Delete must answer before ({early.reason}). Nothing was deleted: retry after that "
            "time (aws cloudformation continue-update-rollback, or delete the stack again)."
        ) from early
    held = ecr.describe(prefix)
    journal.saw(held)
    if held is None or asked is None or not made_within(held, asked, window):
        journal.did(f"the failed Create made no rule '{prefix}' (none there, or not the one it asked for)")
        return
    ecr.delete(prefix)
    journal.did(f"deleted '{prefix}': the failed Create had made it (ECR had not confirmed that create)")


def _same(prefix: str, physical_id: str) -> bool:
    return bool(physical_id) and canonical_prefix(prefix) == canonical_prefix(physical_id)


def _create_or_take(asked: RuleSpec, ecr: Rules, journal: Journal, record: Record, returning: bool) -> Rule:
    """Create the rule; when one already holds the prefix, take it only by AdoptExisting, when
    CloudFormation already records this resource as it (a repeated delivery), or, for an Update
    (`returning`), when the stack is rolling back to it exactly as it is."""
    prefix = asked.ecr_repository_prefix
    try:
        return _create_checked(asked, ecr, journal)
    except RuleAlreadyExists as exists:
        held = ecr.describe(prefix)
        journal.saw(held)
        if held is None:  # deleted between the two calls
            return _create_checked(asked, ecr, journal)
        diff = changes(held, asked)
        if asked.adopt_existing:
            _held_by_no_other(prefix, record)
            return _adopt(asked, held, diff, ecr, journal)
        if not diff and _read(prefix, lambda: record.holds(prefix), "the stack's resources"):
            journal.did(
                "CloudFormation records this resource as this rule already (a repeated request): kept it"
            )
            return held
        if returning and not diff:
            if _read(prefix, record.rolling_back, "the stack's status"):
                _held_by_no_other(prefix, record)
                journal.did("the stack is rolling back to this rule, which ECR holds as asked: kept it")
                return held
            raise ProviderError(
                f"EcrRepositoryPrefix '{prefix}': a pull-through cache rule with this prefix already "
                "exists, exactly as the template asks, but this resource did not create it (the stack "
                "is not rolling back to it). Choose another EcrRepositoryPrefix, or set "
                "AdoptExisting: 'true' to take the existing rule over."
            ) from exists
        detail = "; it matches the template" if not diff else f"; {_list(diff)}"
        raise ProviderError(
            f"EcrRepositoryPrefix '{prefix}': a pull-through cache rule with this prefix already "
            f"exists and this resource did not create it{detail}. Choose another "
            "EcrRepositoryPrefix, or set AdoptExisting: 'true' to take the existing rule over."
        ) from exists


def _read(prefix: str, read: Callable[[], bool], what: str) -> bool:
    """A fact from CloudFormation's record; when it cannot be read, nothing is taken over."""
    try:
        return read()
    except ProviderError as error:
        raise ProviderError(
            f"EcrRepositoryPrefix '{prefix}': a pull-through cache rule with this prefix already exists "
            "exactly as the template asks. The provider keeps it only when CloudFormation records it "
            f"as this resource or is rolling the stack back to it, and could not read {what}: "
            f"{error.reason} Nothing was changed: retry the update (or, for a stack in "
            "UPDATE_ROLLBACK_FAILED, aws cloudformation continue-update-rollback)."
        ) from error


def _held_by_no_other(prefix: str, record: Record) -> None:
    """Refuse to take a rule another resource of the same stack holds: deleting either would
    delete the other's."""
    try:
        others = record.others_holding(prefix)
    except ProviderError as error:
        raise ProviderError(
            f"EcrRepositoryPrefix '{prefix}': before taking over the existing rule, the provider "
            f"checks that no other resource of the stack holds it, and could not: {error.reason} "
            "Nothing was changed: retry."
        ) from error
    if others:
        raise ProviderError(
            f"EcrRepositoryPrefix '{prefix}': the rule belongs to {', '.join(others)} in this stack; "
            "two resources must not hold one rule (deleting either would delete it). Give this "
            "resource another EcrRepositoryPrefix. To move a rule to a new logical id, first remove "
            "the old resource with DeletionPolicy: Retain, then add the new one with AdoptExisting: "
            "'true' in a later update."
        )


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
    journal.creating(asked)
    try:
        rule = ecr.create(asked)
    except ProviderError as error:
        unsure = error.window if isinstance(error, EcrError) and error.unknown else None
        journal.create_ended(asked, made=False, unsure=unsure)
        if unsure is not None:
            journal.did("ECR did not confirm whether it created the rule")
        raise
    journal.create_ended(asked, made=True)
    journal.did("created the rule")
    _check_credentials(asked, ecr, journal, undo="removed the rule it had just created")
    return rule


def _update_in_place(asked: RuleSpec, held: Rule, diff: list[Change], ecr: Rules, journal: Journal) -> Rule:
    try:
        updated = ecr.update(held.ecr_repository_prefix, asked.credential_arn, asked.custom_role_arn)
    except RuleNotFound:
        journal.did("the rule on record was deleted meanwhile: created it again")
        return _create_checked(asked, ecr, journal)
    journal.did(f"updated in place: {_list(diff)}")
    # A failed check leaves the new credential for CloudFormation's rollback to revert.
    _check_credentials(asked, ecr, journal, undo=None)
    return _merge(held, updated)


def _replace_same_prefix(
    asked: RuleSpec, held: Rule, diff: list[Change], ecr: Rules, journal: Journal
) -> Rule:
    """Delete the rule ECR holds, then create the new one under the same prefix; if that create
    fails, put back exactly the rule that was deleted (as ECR reported it)."""
    prefix = held.ecr_repository_prefix
    try:
        ecr.delete(prefix)
    except ProviderError as error:
        state = (
            "whether it still holds the rule is unknown"
            if isinstance(error, EcrError) and error.unknown
            else "it still holds the rule unchanged"
        )
        raise ProviderError(f"{error.reason} The rule '{prefix}' was to be replaced: {state}.") from error
    journal.did(f"deleted the rule to replace it ({_list(diff)})")
    try:
        return _create_checked(asked, ecr, journal)
    except ProviderError as error:
        raise _restore(error, held, ecr, journal) from error


def _restore(error: ProviderError, held: Rule, ecr: Rules, journal: Journal) -> ProviderError:
    previous = held.spec()
    prefix = previous.ecr_repository_prefix
    try:
        ecr.create(previous)
    except RuleAlreadyExists:
        try:
            now = ecr.describe(prefix)
        except ProviderError as unreadable:
            journal.did("could NOT put the previous rule back, nor read what ECR holds instead")
            return ProviderError(
                f"{error.reason} Putting the previous rule back met a rule already under '{prefix}', "
                f"which could not be read ({unreadable.reason}). Check it with aws ecr "
                f"describe-pull-through-cache-rules --ecr-repository-prefixes {prefix}. The previous "
                f"rule was: {_describe(previous)}."
            )
        journal.saw(now)
        if now is not None and not changes(now, previous):
            journal.did("the previous rule was back already")
            return ProviderError(f"{error.reason} ECR holds the previous rule '{prefix}' again, as before.")
        if now is None:
            journal.did("could NOT put the previous rule back: ECR said the prefix was taken, then held none")
            return ProviderError(
                f"{error.reason} Putting the previous rule back met a rule already under '{prefix}', "
                f"which was gone when read. If it is still missing, recreate it: {_describe(previous)}."
            )
        journal.did("could NOT put the previous rule back: the prefix holds another rule")
        return ProviderError(
            f"{error.reason} The previous rule could not be put back: ECR holds another rule under "
            f"'{prefix}' ({_describe(now.spec())}). The previous rule was: {_describe(previous)}."
        )
    except ProviderError as restore_error:
        journal.did("could NOT put the previous rule back")
        state = (
            "may or may not hold it again"
            if isinstance(restore_error, EcrError) and restore_error.unknown
            else f"holds no rule '{prefix}' now"
        )
        return ProviderError(
            f"{error.reason} Putting the previous rule back failed too ({restore_error.reason}); "
            f"ECR {state}. If it is missing, recreate it: {_describe(previous)}."
        )
    journal.did("put the previous rule back")
    return ProviderError(f"{error.reason} The previous rule was put back unchanged: ECR holds it as before.")


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
    """Remove the rule this request just created; the sentence that tells what became of it.
    When that cannot be done before the answer is due, the answer names the rule, so that
    CloudFormation's rollback Delete removes it."""
    try:
        ecr.delete(prefix)
    except (OutOfTime, EcrError):
        journal.did("could NOT remove the rule it had just created")
        return (
            f" The rule '{prefix}' it had just created could not be removed yet; the stack's "
            "rollback deletes it (if it is still there after the rollback, delete it: aws ecr "
            f"delete-pull-through-cache-rule --ecr-repository-prefix {prefix})."
        )
    journal.removed_again(prefix)
    journal.did(undo)
    return f" The provider {undo}."


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
