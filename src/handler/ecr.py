"""The ECR adapter: the five pull-through-cache calls, retried within the deadline, their lost
responses settled by reading ECR back, and ECR's errors translated (by error code, never by
message text) into the provider's own."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from ecr_ptc_contract.hosts import unknown_to_this_version
from ecr_ptc_contract.upstreams import SUPPORTED_URLS, UPSTREAM_REGISTRIES
from ecr_ptc_contract.wording import quoted
from handler.calls import (
    NOT_ATTEMPTED,
    THROTTLING_CODES,
    TRANSIENT_CODES,
    Attempts,
    Caller,
    CallError,
    Retryable,
    Unsettled,
    default_retryable,
)
from handler.errors import EcrError, OutOfTime, ProviderError, RuleAlreadyExists, RuleNotFound
from handler.properties import RuleSpec
from handler.rules import Rule, made_within

log = logging.getLogger(__name__)

ALREADY_EXISTS = "PullThroughCacheRuleAlreadyExistsException"
NOT_FOUND = "PullThroughCacheRuleNotFoundException"
SECRET_NOT_FOUND = "SecretNotFoundException"

# What each ECR error means for the person deploying, and what to do about it.
ADVICE: dict[str, str] = {
    ALREADY_EXISTS: (
        "a rule with this prefix already exists in this registry; choose another "
        "EcrRepositoryPrefix, or set AdoptExisting: 'true' to take the existing rule over"
    ),
    NOT_FOUND: "no rule with this prefix exists in this registry",
    "LimitExceededException": (
        "the registry already holds the maximum of 50 pull-through cache rules in this Region "
        "(a fixed quota): delete rules you no longer use, or use another Region"
    ),
    "UnsupportedUpstreamRegistryException": (
        "ECR does not accept this upstream as configured: check UpstreamRegistryUrl and "
        "UpstreamRegistry, and set CredentialArn for an upstream that requires authentication"
    ),
    SECRET_NOT_FOUND: (
        "the secret named by CredentialArn does not exist (or is not yet visible): create it in "
        "this account and Region, named ecr-pullthroughcache/<name>, and pass its ARN"
    ),
    "UnableToAccessSecretException": (
        "ECR cannot read the secret named by CredentialArn: check its resource policy, and that "
        "the service-linked role AWSServiceRoleForECRPullThroughCache may read it"
    ),
    "UnableToDecryptSecretValueException": (
        "ECR cannot decrypt the secret named by CredentialArn: let the service-linked role "
        "AWSServiceRoleForECRPullThroughCache use the secret's KMS key (kms:Decrypt)"
    ),
    "InvalidParameterException": "ECR rejected a parameter: check the property values",
    "ValidationException": "ECR rejected a parameter: check the property values",
    "AccessDeniedException": (
        "the provider's role may not make this call: deploy the provider from its template.yaml, "
        "which grants exactly the permissions it needs (for CustomRoleArn: iam:PassRole on it)"
    ),
    "ThrottlingException": "ECR kept throttling the calls: retry the deployment in a minute",
    "ServerException": "ECR kept failing with a server error: retry the deployment",
}
NETWORK_ADVICE = "could not reach ECR: check the provider's network access to ECR and retry"
# The errors with which ECR refuses an upstream (or its parameters) on create.
UPSTREAM_REFUSALS = frozenset(
    {"UnsupportedUpstreamRegistryException", "InvalidParameterException", "ValidationException"}
)


def left_to_ecr_advice(spec: RuleSpec, code: str) -> str | None:
    """What to do when ECR refuses a rule whose upstream this version does not know (and so did
    not check): None for another error, or an upstream this version knows."""
    unknown = unknown_to_this_version(spec.upstream_registry_url, spec.upstream_registry)
    if code not in UPSTREAM_REFUSALS or not unknown:
        return None
    named = " and ".join(f"{name} {quoted(value)}" for name, value in unknown)
    them = "them" if len(unknown) > 1 else "it"
    return (
        f"ECR refused the rule; this provider version does not know its {named}, so ECR checked "
        f"{them} (ECR's own words follow): correct {them}, or use an upstream ECR caches; this "
        f"version knows {SUPPORTED_URLS} (UpstreamRegistry {', '.join(UPSTREAM_REGISTRIES)})"
    )


def advice(code: str) -> str:
    if code in ADVICE:
        return ADVICE[code]
    if code in THROTTLING_CODES:
        return ADVICE["ThrottlingException"]
    if code in TRANSIENT_CODES:
        return ADVICE["ServerException"]
    if code.endswith(("Error", "Timeout")):  # botocore's exceptions: no HTTP answer
        return NETWORK_ADVICE
    return "see ECR's message"


class EcrRules:
    """ECR's pull-through cache rules, as seen through one invocation's deadline. `undo` makes
    the calls that run after the answer went out (they may use the Lambda's time to its end)."""

    def __init__(self, caller: Caller, undo: Caller | None = None) -> None:
        self._caller = caller
        self._undo = undo

    def after_answer(self) -> EcrRules:
        """The same rules, read and changed with the time left once the answer went out."""
        undo = self._undo or self._caller
        return EcrRules(undo, undo)

    @property
    def calls(self) -> int:
        """ECR requests sent, retries included."""
        return self._caller.calls + (self._undo.calls if self._undo else 0)

    def create(self, spec: RuleSpec) -> Rule:
        """Create the rule. When an attempt's response is lost, ECR is read back before any
        retry: a rule as asked, made while the attempts ran, is this call's own."""
        params: dict[str, str] = {
            "ecrRepositoryPrefix": spec.ecr_repository_prefix,
            "upstreamRegistryUrl": spec.upstream_registry_url,
        }
        optional = {
            "upstreamRegistry": spec.upstream_registry,
            "upstreamRepositoryPrefix": spec.upstream_repository_prefix,
            "credentialArn": spec.credential_arn,
            "customRoleArn": spec.custom_role_arn,
        }
        params.update({k: v for k, v in optional.items() if v})
        prefix, operation = spec.ecr_repository_prefix, "CreatePullThroughCacheRule"

        def settle(attempts: Attempts) -> dict[str, Any] | None:
            held = self._read_back(self._caller, prefix)
            made = held is not None and made_within(Rule.from_api(held), spec, attempts.window)
            return held if made else None

        try:
            answer, _ = self._caller.call(
                operation, params, write=True, retryable=self._secret_retry(), settle=settle
            )
        except CallError as error:
            if error.code == ALREADY_EXISTS and error.attempts.lost:  # late to show when read back
                with contextlib.suppress(Unsettled):
                    if (held := settle(error.attempts)) is not None:
                        return Rule.from_api(held)
            raise _translate(operation, prefix, error, left_to_ecr_advice(spec, error.code)) from error
        return Rule.from_api(answer)

    def update(self, prefix: str, credential_arn: str | None, custom_role_arn: str | None) -> Rule:
        params = {"ecrRepositoryPrefix": prefix}
        if credential_arn:
            params["credentialArn"] = credential_arn
        if custom_role_arn:
            params["customRoleArn"] = custom_role_arn
        if len(params) == 1:  # the API refuses it; callers must replace the rule instead
            raise ValueError("an update must name a credential or a role")
        operation = "UpdatePullThroughCacheRule"

        def settle(attempts: Attempts) -> dict[str, Any] | None:  # the rule holds what was sent?
            held = self._read_back(self._caller, prefix)
            sent = {k: v for k, v in params.items() if k != "ecrRepositoryPrefix"}
            return held if held is not None and all(held.get(k) == v for k, v in sent.items()) else None

        try:
            answer, _ = self._caller.call(
                operation, params, write=True, retryable=self._secret_retry(), settle=settle
            )
        except CallError as error:
            raise _translate(operation, prefix, error) from error
        return Rule.from_api(answer)

    def delete(self, prefix: str) -> Rule | None:
        """Delete the rule; None when there was none. "Not found" after an attempt whose response
        was lost means that attempt deleted it: a Rule with only the prefix known."""
        return self._delete(self._caller, prefix)

    def remove(self, prefix: str) -> bool:
        """After the answer went out: delete a rule CloudFormation will never own, retrying to
        the Lambda's last moment. True when it is gone."""
        try:
            self._delete(self._undo or self._caller, prefix)
        except ProviderError:
            log.exception("could not remove the rule", extra={"prefix": prefix})
            return False
        return True

    def describe(self, prefix: str) -> Rule | None:
        """The rule with this prefix, or None."""
        return self._describe(self._caller, prefix)

    def validate(self, prefix: str) -> tuple[bool, str]:
        """(isValid, failure) as ValidatePullThroughCacheRule reports them."""
        operation = "ValidatePullThroughCacheRule"
        try:
            answer, _ = self._caller.call(operation, {"ecrRepositoryPrefix": prefix}, write=False)
        except CallError as error:
            raise _translate(operation, prefix, error) from error
        return bool(answer.get("isValid")), str(answer.get("failure") or "")

    def wait_until(self, moment: datetime) -> None:
        """Return once `moment` has passed (pausing as retries do); OutOfTime when it comes after
        the time this request has before its answer is due."""
        delay = (moment - datetime.now(UTC)).total_seconds()
        if delay <= 0:
            return
        if delay > self._caller.deadline.left() - self._caller.policy.min_attempt_s:
            raise OutOfTime(f"the answer is due before {moment.isoformat(timespec='milliseconds')}")
        self._caller.policy.sleep(delay)

    # -- internals ----------------------------------------------------------------------------

    def _delete(self, caller: Caller, prefix: str) -> Rule | None:
        operation = "DeletePullThroughCacheRule"

        def settle(attempts: Attempts) -> dict[str, Any] | None:
            return {"ecrRepositoryPrefix": prefix} if self._read_back(caller, prefix) is None else None

        try:
            answer, _ = caller.call(operation, {"ecrRepositoryPrefix": prefix}, write=True, settle=settle)
        except CallError as error:
            if error.code == NOT_FOUND:  # gone: by a lost attempt of this call, or before it
                return Rule(prefix) if error.attempts.lost else None
            raise _translate(operation, prefix, error) from error
        return Rule.from_api(answer)

    def _describe(self, caller: Caller, prefix: str) -> Rule | None:
        answer = self._describe_answer(caller, prefix)
        return Rule.from_api(answer) if answer is not None else None

    def _describe_answer(self, caller: Caller, prefix: str) -> dict[str, Any] | None:
        operation = "DescribePullThroughCacheRules"
        try:
            answer, _ = caller.call(operation, {"ecrRepositoryPrefixes": [prefix]}, write=False)
        except CallError as error:
            if error.code == NOT_FOUND:
                return None
            raise _translate(operation, prefix, error) from error
        rules = answer.get("pullThroughCacheRules", [])
        return dict(rules[0]) if rules else None

    def _read_back(self, caller: Caller, prefix: str) -> dict[str, Any] | None:
        """What ECR holds under `prefix` after a write whose response was lost (its Describe
        answer), or None; Unsettled when it cannot be read either."""
        try:
            return self._describe_answer(caller, prefix)
        except ProviderError as error:
            log.warning("could not read back the rule after a lost response", extra={"prefix": prefix})
            raise Unsettled from error

    def _secret_retry(self) -> Retryable:
        """Creates and updates retry "secret not found" for a while (eventual consistency)."""
        grace = self._caller.policy.secret_grace_s

        def retry(code: str, status: int, attempts: Attempts) -> bool:
            if code == SECRET_NOT_FOUND:
                return attempts.paused_s < grace
            return default_retryable(code, status, attempts)

        return retry


def _translate(operation: str, prefix: str, error: CallError, said: str | None = None) -> ProviderError:
    """ECR's error as the provider's own, with a Reason that says what to do (`said`, or the
    advice for its code; and, when a lost response's effect could not be read back, that ECR's
    state is unknown)."""
    unknown = error.attempts.unknown
    if error.code == NOT_ATTEMPTED and not unknown:
        return OutOfTime(
            f"{operation} '{prefix}' was not attempted: {error.message}. Retry the deployment; if "
            "it recurs, raise the provider function's Timeout or the resource's ServiceTimeout, "
            "whichever ends first."
        )
    tried = f" after {error.attempts.count} attempts" if error.attempts.count > 1 else ""
    said = said or advice(error.code)
    reason = f"{operation} '{prefix}' failed{tried}: {said}. [ECR {error.code}: {error.message}]"
    if unknown:
        reason += (
            f" ECR did not confirm whether the call took effect, and '{prefix}' could not be "
            f"read back either: check with aws ecr describe-pull-through-cache-rules "
            f"--ecr-repository-prefixes {prefix}."
        )
    if error.code == ALREADY_EXISTS:
        return RuleAlreadyExists(reason)
    if error.code == NOT_FOUND:
        return RuleNotFound(reason)
    return EcrError(reason, error.code, unknown=unknown, window=error.attempts.window)
