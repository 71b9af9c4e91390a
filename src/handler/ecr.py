"""The ECR adapter: the five pull-through-cache calls, retried within the deadline, and
ECR's errors translated (by error code, never by message text) into the provider's own."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handler.deadline import Deadline, RetryPolicy
from handler.errors import EcrError, OutOfTime, RuleAlreadyExists, RuleNotFound
from handler.properties import RuleSpec
from handler.rules import Rule

log = logging.getLogger(__name__)

ALREADY_EXISTS = "PullThroughCacheRuleAlreadyExistsException"
NOT_FOUND = "PullThroughCacheRuleNotFoundException"
SECRET_NOT_FOUND = "SecretNotFoundException"
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "ServerException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)

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


def advice(code: str) -> str:
    if code in ADVICE:
        return ADVICE[code]
    if code in THROTTLING_CODES:
        return ADVICE["ThrottlingException"]
    if code in TRANSIENT_CODES:
        return ADVICE["ServerException"]
    return "see ECR's message"


class EcrRules:
    """ECR's pull-through cache rules, as seen through one invocation's deadline."""

    def __init__(self, client: Any, deadline: Deadline, policy: RetryPolicy) -> None:
        self._client = client
        self._deadline = deadline
        self._policy = policy
        self.calls = 0  # ECR requests sent, retries included

    def create(self, spec: RuleSpec) -> Rule:
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
        answer = self._call("CreatePullThroughCacheRule", self._client.create_pull_through_cache_rule, params)
        return Rule.from_api(answer)

    def update(self, prefix: str, credential_arn: str | None, custom_role_arn: str | None) -> Rule:
        params = {"ecrRepositoryPrefix": prefix}
        if credential_arn:
            params["credentialArn"] = credential_arn
        if custom_role_arn:
            params["customRoleArn"] = custom_role_arn
        if len(params) == 1:  # the API refuses it; callers must replace the rule instead
            raise ValueError("an update must name a credential or a role")
        answer = self._call("UpdatePullThroughCacheRule", self._client.update_pull_through_cache_rule, params)
        return Rule.from_api(answer)

    def delete(self, prefix: str) -> Rule | None:
        """Delete the rule; None when there was none."""
        try:
            answer = self._call(
                "DeletePullThroughCacheRule",
                self._client.delete_pull_through_cache_rule,
                {"ecrRepositoryPrefix": prefix},
            )
        except RuleNotFound:
            return None
        return Rule.from_api(answer)

    def discard(self, prefix: str) -> bool:
        """Delete now, once, whatever the deadline says (undoing a rule nobody will own).
        True when the rule is gone."""
        try:
            self.calls += 1
            self._client.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == NOT_FOUND:
                return True
            log.exception("could not remove the rule", extra={"prefix": prefix})
            return False
        except BotoCoreError:
            log.exception("could not remove the rule", extra={"prefix": prefix})
            return False
        return True

    def describe(self, prefix: str) -> Rule | None:
        """The rule with this prefix, or None."""
        try:
            answer = self._call(
                "DescribePullThroughCacheRules",
                self._client.describe_pull_through_cache_rules,
                {"ecrRepositoryPrefixes": [prefix]},
            )
        except RuleNotFound:
            return None
        rules = answer.get("pullThroughCacheRules", [])
        return Rule.from_api(rules[0]) if rules else None

    def validate(self, prefix: str) -> tuple[bool, str]:
        """(isValid, failure) as ValidatePullThroughCacheRule reports them."""
        answer = self._call(
            "ValidatePullThroughCacheRule",
            self._client.validate_pull_through_cache_rule,
            {"ecrRepositoryPrefix": prefix},
        )
        return bool(answer.get("isValid")), str(answer.get("failure") or "")

    def _call(
        self, operation: str, method: Callable[..., dict[str, Any]], params: dict[str, Any]
    ) -> dict[str, Any]:
        policy, deadline = self._policy, self._deadline
        prefix = params.get("ecrRepositoryPrefix") or params.get("ecrRepositoryPrefixes", ["?"])[0]
        retry_secret = operation in ("CreatePullThroughCacheRule", "UpdatePullThroughCacheRule")
        secret_waited = 0.0
        attempt = 0
        while True:
            if deadline.left() < policy.call_budget_s:
                raise OutOfTime(
                    f"{operation} '{prefix}' was not attempted: only {max(deadline.left(), 0):.1f} s "
                    "were left before the answer was due (set by the provider function's Timeout, "
                    "or by the resource's ServiceTimeout). Retry the deployment; if it recurs, "
                    "raise whichever of the two is short."
                )
            attempt += 1
            self.calls += 1
            try:
                return method(**params)
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", "Unknown"))
                status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
                message = str(error.response.get("Error", {}).get("Message", ""))
                retryable = code in THROTTLING_CODES or code in TRANSIENT_CODES or status >= 500
                if code == SECRET_NOT_FOUND and retry_secret:
                    retryable = secret_waited < policy.secret_grace_s
                if not retryable or not self._pause(attempt, operation, code):
                    raise translate(operation, prefix, code, message, attempt) from error
                if code == SECRET_NOT_FOUND:
                    secret_waited += policy.delay(attempt) or policy.base_s
            except BotoCoreError as error:  # could not connect, or the connection broke
                if not self._pause(attempt, operation, type(error).__name__):
                    raise EcrError(
                        f"{operation} '{prefix}': could not reach ECR after {attempt} attempt(s) "
                        f"({error}). Check the provider's network access to ECR and retry.",
                        type(error).__name__,
                    ) from error

    def _pause(self, attempt: int, operation: str, code: str) -> bool:
        """Wait before the next attempt; False when no further attempt fits."""
        if attempt >= self._policy.max_attempts:
            return False
        delay = self._policy.delay(attempt, throttled=code in THROTTLING_CODES)
        if self._deadline.left() - delay < self._policy.call_budget_s:
            return False
        log.info(
            "retrying ECR call",
            extra={"operation": operation, "code": code, "attempt": attempt, "delay_s": delay},
        )
        self._policy.sleep(delay)
        return True


def translate(operation: str, prefix: str, code: str, message: str, attempts: int) -> EcrError:
    """ECR's error as the provider's own, with a Reason that says what to do."""
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    reason = f"{operation} '{prefix}' failed{tried}: {advice(code)}. [ECR {code}: {message}]"
    if code == ALREADY_EXISTS:
        return RuleAlreadyExists(reason)
    if code == NOT_FOUND:
        return RuleNotFound(reason)
    return EcrError(reason, code)
