"""Fault injection, the call log, and per-mock state."""

from typing import Any

import boto3
import pytest
from moto import mock_aws

import ecr_ptc_emulator
from ecr_ptc_emulator import Faults
from tests.emulator.emulator_support import REGION, error_code

CREATE = "CreatePullThroughCacheRule"
DESCRIBE = "DescribePullThroughCacheRules"


def create(ecr: Any, prefix: str = "k8s", **extra: str) -> Any:
    return ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix=prefix, upstreamRegistryUrl="registry.k8s.io", **extra
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_fail_answers_the_next_call_and_leaves_state_alone(ecr: Any) -> None:
    ecr_ptc_emulator.faults().fail(CREATE, "ServerException", 500, "boom")
    with pytest.raises(ecr.exceptions.ServerException) as e:
        create(ecr)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert e.value.response["Error"]["Message"] == "boom"
    assert ecr_ptc_emulator.rules() == {}
    create(ecr)
    assert [c[0] for c in ecr_ptc_emulator.calls()] == [CREATE, CREATE]


@pytest.mark.parametrize(
    ("code", "status"),
    [("ThrottlingException", 400), ("AccessDeniedException", 400), ("ServiceUnavailableException", 503)],
)
def test_fail_with_unmodeled_codes(ecr: Any, code: str, status: int) -> None:
    ecr_ptc_emulator.faults().fail(None, code, status)
    with pytest.raises(ecr.exceptions.ClientError) as e:
        ecr.describe_pull_through_cache_rules()
    assert error_code(e) == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_fail_times_after_and_operation_filter(ecr: Any) -> None:
    ecr_ptc_emulator.faults().fail(DESCRIBE, "ServerException", 500, times=2, after=1)
    create(ecr)  # another operation: neither skipped nor failed
    ecr.describe_pull_through_cache_rules()  # skipped (after=1)
    for _ in range(2):
        with pytest.raises(ecr.exceptions.ServerException):
            ecr.describe_pull_through_cache_rules()
    ecr.describe_pull_through_cache_rules()


def test_permanent_failure_until_cleared(ecr: Any) -> None:
    faults = ecr_ptc_emulator.faults()
    faults.fail(None, "AccessDeniedException", times=-1)
    for _ in range(3):
        with pytest.raises(ecr.exceptions.ClientError):
            ecr.describe_pull_through_cache_rules()
    faults.clear()
    ecr.describe_pull_through_cache_rules()
    with pytest.raises(ValueError):
        faults.fail(None, "X", times=0)


def test_boto3_retries_meet_the_fault_each_time(aws: None) -> None:
    ecr_ptc_emulator.faults().fail(CREATE, "ServerException", 500, times=1)
    retrying = boto3.client("ecr", region_name=REGION)

    def retry_at_once(response: Any, attempts: int, **_: Any) -> int | None:
        failed = response is not None and response[0].status_code >= 500
        return 0 if failed and attempts < 3 else None  # 0: retry without sleeping

    retrying.meta.events.register_first("needs-retry.ecr", retry_at_once)
    create(retrying)
    assert [c[0] for c in ecr_ptc_emulator.calls()] == [CREATE, CREATE]
    assert list(ecr_ptc_emulator.rules()) == ["k8s"]


def test_throttle_token_bucket_with_injected_clock(ecr: Any) -> None:
    faults = ecr_ptc_emulator.faults()
    clock = FakeClock()
    faults.clock = clock
    faults.throttle(2.0, burst=3)
    for _ in range(3):
        ecr.describe_pull_through_cache_rules()
    with pytest.raises(ecr.exceptions.ClientError) as e:
        create(ecr)
    assert error_code(e) == "ThrottlingException"
    assert e.value.response["Error"]["Message"] == "Rate exceeded"
    assert ecr_ptc_emulator.rules() == {}
    clock.now += 0.5  # one token back at 2/s
    create(ecr)
    with pytest.raises(ecr.exceptions.ClientError):
        ecr.describe_pull_through_cache_rules()
    clock.now += 60  # refills up to the burst only
    for _ in range(3):
        ecr.describe_pull_through_cache_rules()
    with pytest.raises(ecr.exceptions.ClientError):
        ecr.describe_pull_through_cache_rules()
    faults.throttle(None)
    ecr.describe_pull_through_cache_rules()
    assert len(ecr_ptc_emulator.calls()) == 11


def test_faults_accepts_a_clock() -> None:
    clock = FakeClock()
    faults = Faults(clock=clock)
    faults.throttle(1.0, burst=1)
    faults.check(DESCRIBE)
    with pytest.raises(Exception, match="Rate exceeded"):
        faults.check(DESCRIBE)
    clock.now += 1
    faults.check(DESCRIBE)


def test_hide_secret_for(ecr: Any, secret_arn: str) -> None:
    ecr_ptc_emulator.faults().hide_secret_for(2)
    create(ecr, "k8s")  # names no secret: does not count
    dh = {"ecrRepositoryPrefix": "dh", "upstreamRegistryUrl": "registry-1.docker.io"}
    for _ in range(2):
        with pytest.raises(ecr.exceptions.SecretNotFoundException):
            ecr.create_pull_through_cache_rule(**dh, credentialArn=secret_arn)
    ecr.create_pull_through_cache_rule(**dh, credentialArn=secret_arn)
    ecr_ptc_emulator.faults().hide_secret_for(1)
    with pytest.raises(ecr.exceptions.SecretNotFoundException):
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="dh", credentialArn=secret_arn)
    ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="dh", credentialArn=secret_arn)


def test_validation_result(ecr: Any) -> None:
    create(ecr)
    ecr_ptc_emulator.faults().validation_result(False, "Authentication failed")
    out = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="k8s")
    assert (out["isValid"], out["failure"]) == (False, "Authentication failed")
    ecr_ptc_emulator.faults().clear()
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="k8s")["isValid"] is True


def test_validation_result_for_one_prefix_leaves_the_other_rules_alone(ecr: Any) -> None:
    create(ecr)
    create(ecr, prefix="k8s-eu")
    faults = ecr_ptc_emulator.faults()
    faults.validation_result(False, "Authentication failed", prefix="k8s-eu/")  # ECR's own trailing '/'
    failing = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="k8s-eu")
    assert (failing["isValid"], failing["failure"]) == (False, "Authentication failed")
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="k8s")["isValid"] is True
    faults.validation_result(True, prefix="k8s-eu")  # a later result for the same prefix replaces it
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="k8s-eu")["isValid"] is True
    faults.validation_result(False, "every rule")  # one for every rule comes after the prefix's own
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="k8s-eu")["isValid"] is True
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="k8s")["isValid"] is False
    faults.clear()
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="k8s-eu")["isValid"] is True


def test_calls_record_params_and_errors(ecr: Any) -> None:
    create(ecr)
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleAlreadyExistsException):
        create(ecr)
    ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="k8s", registryId="123456789012")
    assert ecr_ptc_emulator.calls() == [
        (CREATE, {"ecrRepositoryPrefix": "k8s", "upstreamRegistryUrl": "registry.k8s.io"}),
        (CREATE, {"ecrRepositoryPrefix": "k8s", "upstreamRegistryUrl": "registry.k8s.io"}),
        ("DeletePullThroughCacheRule", {"ecrRepositoryPrefix": "k8s", "registryId": "123456789012"}),
    ]


def test_each_mock_starts_empty() -> None:
    ecr_ptc_emulator.install()
    for _ in range(2):
        with mock_aws():
            assert ecr_ptc_emulator.rules() == {}
            assert ecr_ptc_emulator.calls() == []
            faults = ecr_ptc_emulator.faults()
            ecr = boto3.client("ecr", region_name=REGION)
            ecr.describe_pull_through_cache_rules()  # no fault left over from the last round
            faults.fail(None, "AccessDeniedException", times=-1)
            with pytest.raises(ecr.exceptions.ClientError):
                create(ecr)
            faults.clear()
            create(ecr)


def test_install_is_idempotent() -> None:
    from moto.ecr.responses import ECRResponse

    ecr_ptc_emulator.install()
    method = ECRResponse.create_pull_through_cache_rule
    ecr_ptc_emulator.install()
    assert ECRResponse.create_pull_through_cache_rule is method


# -- responses lost after the call took effect ---------------------------------------------------


@pytest.mark.parametrize(("how", "raised"), [("5xx", "ClientError"), ("timeout", "ReadTimeoutError")])
def test_a_lost_response_comes_after_the_change_was_made(ecr: Any, how: str, raised: str) -> None:
    ecr_ptc_emulator.faults().lose_response(CREATE, how)

    with pytest.raises(Exception) as e:
        create(ecr)

    assert raised in {type(e.value).__name__, *(c.__name__ for c in type(e.value).__mro__)}
    if how == "5xx":
        assert error_code(e) == "InternalFailure"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert set(ecr_ptc_emulator.rules()) == {"k8s"}  # it took effect all the same
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleAlreadyExistsException):
        create(ecr)  # times=1: the next call is answered normally


def test_lose_response_counts_after_and_operation(ecr: Any) -> None:
    ecr_ptc_emulator.faults().lose_response(DESCRIBE, "5xx", times=1, after=1)
    create(ecr)  # another operation: untouched
    ecr.describe_pull_through_cache_rules()  # let through (after=1)
    with pytest.raises(ecr.exceptions.ClientError):
        ecr.describe_pull_through_cache_rules()
    ecr.describe_pull_through_cache_rules()


def test_lose_response_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="how must be"):
        Faults().lose_response(None, "sometimes")


def test_backdate_makes_a_rule_look_older(ecr: Any) -> None:
    made = create(ecr)["createdAt"]

    ecr_ptc_emulator.backdate("k8s", 60)

    rule = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert (made - rule["createdAt"]).total_seconds() == pytest.approx(60, abs=0.01)
