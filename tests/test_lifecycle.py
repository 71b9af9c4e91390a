"""The lifecycle contract (Create, in-place updates, replacements under a new and the same
prefix, no write when nothing changes, rollbacks, Delete) through the real handler, crhelper
included, against the emulator, with answers received on a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ecr_ptc_emulator
from devkit.cloudformation.events import STACK_ID
from devkit.cloudformation.stack_api import StackApi
from handler.properties import is_rule_id
from tests.conftest import Cfn
from tests.helpers import (
    ATTRIBUTES,
    DOCKER_HUB,
    PRIVATE_ECR,
    PUBLIC,
    QUAY,
    ROLE_A,
    ROLE_B,
    create_event,
    delete_event,
    existing,
    ops,
    ops_since,
    rules,
    update_event,
)

# --- 1. Create ---------------------------------------------------------------------------


def test_create_makes_one_call_and_answers_the_prefix_with_every_attribute(cfn: Cfn) -> None:
    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert ops() == ["CreatePullThroughCacheRule"]
    assert set(answer["Data"]) == ATTRIBUTES
    assert answer["Data"]["UpstreamRegistry"] == "ecr-public"
    assert answer["Data"]["RegistryId"] == "123456789012"
    assert answer["Data"]["CredentialArn"] == ""
    datetime.fromisoformat(answer["Data"]["CreatedAt"])
    assert rules()["ecr-public"]["upstreamRegistryUrl"] == "public.ecr.aws"


def test_create_with_a_secret(cfn: Cfn, secret: Any) -> None:
    arn = secret()
    answer = cfn.send(create_event({**DOCKER_HUB, "CredentialArn": arn}))

    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["CredentialArn"] == arn
    assert rules()["docker-hub"]["credentialArn"] == arn


def test_create_with_custom_role_and_upstream_prefix_for_private_ecr(cfn: Cfn) -> None:
    properties = {**PRIVATE_ECR, "CustomRoleArn": ROLE_A, "UpstreamRepositoryPrefix": "team"}
    answer = cfn.send(create_event(properties))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["UpstreamRegistry"] == "ecr"
    assert answer["Data"]["UpstreamRepositoryPrefix"] == "team"
    assert rules()["upstream"]["customRoleArn"] == ROLE_A


def test_create_of_an_existing_rule_fails_with_an_id_its_delete_ignores(cfn: Cfn) -> None:
    existing(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")
    before = rules()

    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "already exists" in answer["Reason"]
    assert "AdoptExisting" in answer["Reason"]
    assert not is_rule_id(answer["PhysicalResourceId"])
    mark = len(ops())
    rollback = cfn.send(delete_event(answer["PhysicalResourceId"], PUBLIC))
    assert rollback["Status"] == "SUCCESS"
    assert ops_since(mark) == []
    assert rules() == before


def test_adopt_existing_takes_over_a_matching_rule_without_writing(cfn: Cfn, stack_api: StackApi) -> None:
    existing(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")
    answer = cfn.send(create_event({**PUBLIC, "AdoptExisting": "true"}))

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert ops() == [
        "CreatePullThroughCacheRule",
        "CreatePullThroughCacheRule",
        "DescribePullThroughCacheRules",
    ]
    assert answer["Data"]["CreatedAt"]
    assert stack_api.calls == ["ListStackResources"]  # no other resource of the stack holds it


def test_adopt_existing_brings_credentials_in_line_in_place(cfn: Cfn, secret: Any) -> None:
    old, new = secret("ecr-pullthroughcache/old"), secret("ecr-pullthroughcache/new")
    existing(ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl="registry-1.docker.io", credentialArn=old)
    mark = len(ops())

    answer = cfn.send(create_event({**DOCKER_HUB, "CredentialArn": new, "AdoptExisting": True}))

    assert answer["Status"] == "SUCCESS"
    assert ops_since(mark)[-1] == "UpdatePullThroughCacheRule"
    assert rules()["docker-hub"]["credentialArn"] == new


def test_adopt_existing_refuses_a_rule_with_another_upstream_naming_the_difference(cfn: Cfn) -> None:
    existing(ecrRepositoryPrefix="cache", upstreamRegistryUrl="quay.io")
    before = rules()

    answer = cfn.send(create_event({**PUBLIC, "EcrRepositoryPrefix": "cache", "AdoptExisting": "true"}))

    assert answer["Status"] == "FAILED"
    assert "UpstreamRegistryUrl is 'quay.io' in ECR" in answer["Reason"]
    assert "public.ecr.aws" in answer["Reason"]
    assert not is_rule_id(answer["PhysicalResourceId"])
    assert rules() == before


def test_validate_credentials_passes_then_answers_success(cfn: Cfn, secret: Any) -> None:
    arn = secret()
    answer = cfn.send(create_event({**DOCKER_HUB, "CredentialArn": arn, "ValidateCredentials": "true"}))

    assert answer["Status"] == "SUCCESS"
    assert ops() == ["CreatePullThroughCacheRule", "ValidatePullThroughCacheRule"]


def test_validate_credentials_failing_removes_the_new_rule_and_gives_ecrs_reason(
    cfn: Cfn, secret: Any
) -> None:
    arn = secret()
    ecr_ptc_emulator.faults().validation_result(False, "401 Unauthorized from upstream")

    answer = cfn.send(create_event({**DOCKER_HUB, "CredentialArn": arn, "ValidateCredentials": "true"}))

    assert answer["Status"] == "FAILED"
    assert "401 Unauthorized from upstream" in answer["Reason"]
    assert "ValidateCredentials" in answer["Reason"]
    assert "docker-hub" not in rules()
    assert not is_rule_id(answer["PhysicalResourceId"])


# --- 2. In-place updates -----------------------------------------------------------------


def test_credential_change_is_read_then_one_update_in_place(cfn: Cfn, secret: Any) -> None:
    old, new = secret("ecr-pullthroughcache/a"), secret("ecr-pullthroughcache/b")
    cfn.send(create_event({**DOCKER_HUB, "CredentialArn": old}))
    mark = len(ops())

    answer = cfn.send(
        update_event({**DOCKER_HUB, "CredentialArn": new}, "docker-hub", {**DOCKER_HUB, "CredentialArn": old})
    )

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "docker-hub"
    assert ops_since(mark) == ["DescribePullThroughCacheRules", "UpdatePullThroughCacheRule"]
    assert rules()["docker-hub"]["credentialArn"] == new
    assert answer["Data"]["CredentialArn"] == new
    assert set(answer["Data"]) == ATTRIBUTES


def test_role_change_is_read_then_one_update_in_place(cfn: Cfn) -> None:
    cfn.send(create_event({**PRIVATE_ECR, "CustomRoleArn": ROLE_A}))
    mark = len(ops())

    answer = cfn.send(
        update_event(
            {**PRIVATE_ECR, "CustomRoleArn": ROLE_B}, "upstream", {**PRIVATE_ECR, "CustomRoleArn": ROLE_A}
        )
    )

    assert answer["Status"] == "SUCCESS"
    assert ops_since(mark) == ["DescribePullThroughCacheRules", "UpdatePullThroughCacheRule"]
    assert rules()["upstream"]["customRoleArn"] == ROLE_B


def test_removing_a_credential_replaces_the_rule_under_the_same_prefix(cfn: Cfn, secret: Any) -> None:
    arn = secret("ecr-pullthroughcache/quay")
    cfn.send(create_event({**QUAY, "CredentialArn": arn}))
    mark = len(ops())

    answer = cfn.send(update_event(QUAY, "quay", {**QUAY, "CredentialArn": arn}))

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "quay"
    assert ops_since(mark) == SAME_PREFIX_CALLS
    assert "credentialArn" not in rules()["quay"] or not rules()["quay"]["credentialArn"]


# --- 3. Replacement under a new prefix ---------------------------------------------------


def test_new_prefix_creates_the_new_rule_and_leaves_the_old_for_cleanup(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))
    mark = len(ops())
    moved = {**PUBLIC, "EcrRepositoryPrefix": "public"}

    answer = cfn.send(update_event(moved, "ecr-public", PUBLIC))

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "public"
    assert ops_since(mark) == ["CreatePullThroughCacheRule"]
    assert set(rules()) == {"ecr-public", "public"}
    cleanup = cfn.send(delete_event("ecr-public", PUBLIC))
    assert cleanup["Status"] == "SUCCESS"
    assert set(rules()) == {"public"}


# --- 4. Replacement under the same prefix ------------------------------------------------

SAME_PREFIX_CALLS = [
    "DescribePullThroughCacheRules",
    "DeletePullThroughCacheRule",
    "CreatePullThroughCacheRule",
]

CACHE_PUBLIC = {"EcrRepositoryPrefix": "cache", "UpstreamRegistryUrl": "public.ecr.aws"}
CACHE_QUAY = {"EcrRepositoryPrefix": "cache", "UpstreamRegistryUrl": "quay.io"}


def replace_cache_upstream(cfn: Cfn, asked: dict[str, Any] = CACHE_QUAY) -> dict[str, Any]:
    """Update the 'cache' rule (created from ECR Public) to another upstream, same prefix."""
    return cfn.send(update_event(asked, "cache", CACHE_PUBLIC))


def without_times(rule: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if k not in ("createdAt", "updatedAt")}


def test_new_upstream_with_same_prefix_reads_deletes_then_creates_keeping_the_id(cfn: Cfn) -> None:
    cfn.send(create_event(CACHE_PUBLIC))
    mark = len(ops())

    answer = replace_cache_upstream(cfn)

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "cache"
    assert ops_since(mark) == SAME_PREFIX_CALLS
    assert rules()["cache"]["upstreamRegistryUrl"] == "quay.io"
    assert answer["Data"]["UpstreamRegistry"] == "quay"


def test_same_prefix_replacement_puts_the_old_rule_back_when_the_create_fails(cfn: Cfn) -> None:
    cfn.send(create_event(CACHE_PUBLIC))
    before = rules()["cache"]
    ecr_ptc_emulator.faults().fail("CreatePullThroughCacheRule", "LimitExceededException", times=1)

    answer = replace_cache_upstream(cfn)

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "cache"
    assert "50 pull-through cache rules" in answer["Reason"]
    assert "put back" in answer["Reason"]
    assert without_times(rules()["cache"]) == without_times(before)


def test_same_prefix_replacement_says_how_to_recreate_when_the_restore_fails_too(cfn: Cfn) -> None:
    cfn.send(create_event(CACHE_PUBLIC))
    ecr_ptc_emulator.faults().fail("CreatePullThroughCacheRule", "AccessDeniedException", times=2)

    answer = replace_cache_upstream(cfn)

    assert answer["Status"] == "FAILED"
    assert "ECR holds no rule 'cache' now" in answer["Reason"]
    assert "recreate it: EcrRepositoryPrefix=cache, UpstreamRegistryUrl=public.ecr.aws" in answer["Reason"]


def test_same_prefix_replacement_with_failing_validation_restores_the_old_rule(cfn: Cfn, secret: Any) -> None:
    arn = secret("ecr-pullthroughcache/ghcr")
    cfn.send(create_event(CACHE_PUBLIC))
    ecr_ptc_emulator.faults().validation_result(False, "denied: bad token")

    answer = replace_cache_upstream(
        cfn,
        {
            **CACHE_PUBLIC,
            "UpstreamRegistryUrl": "ghcr.io",
            "CredentialArn": arn,
            "ValidateCredentials": "true",
        },
    )

    assert answer["Status"] == "FAILED"
    assert "denied: bad token" in answer["Reason"]
    assert rules()["cache"]["upstreamRegistryUrl"] == "public.ecr.aws"


# --- 5. Nothing ECR holds changes: no write ----------------------------------------------


def test_update_of_provider_only_flags_reads_and_writes_nothing(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))
    mark = len(ops())

    answer = cfn.send(
        update_event(
            {**PUBLIC, "AdoptExisting": "true", "ValidateCredentials": "false"}, "ecr-public", PUBLIC
        )
    )

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert ops_since(mark) == ["DescribePullThroughCacheRules"]
    assert set(answer["Data"]) == ATTRIBUTES


def test_spelling_out_the_value_ecr_infers_writes_nothing(cfn: Cfn) -> None:
    cfn.send(create_event(PRIVATE_ECR))
    mark = len(ops())
    explicit = {**PRIVATE_ECR, "UpstreamRegistry": "ecr", "UpstreamRepositoryPrefix": "ROOT"}

    answer = cfn.send(update_event(explicit, "upstream", PRIVATE_ECR))

    assert answer["Status"] == "SUCCESS"
    assert ops_since(mark) == ["DescribePullThroughCacheRules"]


def test_trailing_slash_names_the_same_rule(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))
    mark = len(ops())

    answer = cfn.send(update_event({**PUBLIC, "EcrRepositoryPrefix": "ecr-public/"}, "ecr-public", PUBLIC))

    assert answer["PhysicalResourceId"] == "ecr-public"
    assert ops_since(mark) == ["DescribePullThroughCacheRules"]


# --- 6. Rollbacks: decided from the registry's real state --------------------------------


def test_rollback_to_the_old_prefix_that_still_exists_succeeds_without_writing(
    cfn: Cfn, stack_api: StackApi
) -> None:
    """Update A->B succeeded, another resource failed: rollback asks for A with B on record."""
    moved = {**PUBLIC, "EcrRepositoryPrefix": "public"}
    cfn.send(create_event(PUBLIC))
    cfn.send(update_event(moved, "ecr-public", PUBLIC))
    mark = len(ops())
    stack_api.stacks[STACK_ID].status = "UPDATE_ROLLBACK_IN_PROGRESS"

    rollback = cfn.send(update_event(PUBLIC, "public", moved))

    assert rollback["Status"] == "SUCCESS"
    assert rollback["PhysicalResourceId"] == "ecr-public"
    assert ops_since(mark) == ["CreatePullThroughCacheRule", "DescribePullThroughCacheRules"]
    assert stack_api.calls == ["ListStackResources", "DescribeStacks"]  # not its own yet; rolling back
    cleanup = cfn.send(delete_event("public", moved))
    assert cleanup["Status"] == "SUCCESS"
    assert set(rules()) == {"ecr-public"}


def test_rollback_after_a_failed_new_prefix_update_reads_ecr_and_writes_nothing(cfn: Cfn) -> None:
    """Update A->B failed; rollback sends A's properties, A on record, B's as old."""
    moved = {**PUBLIC, "EcrRepositoryPrefix": "public"}
    cfn.send(create_event(PUBLIC))
    ecr_ptc_emulator.faults().fail("CreatePullThroughCacheRule", "LimitExceededException")
    failed = cfn.send(update_event(moved, "ecr-public", PUBLIC))
    assert failed["Status"] == "FAILED"
    assert failed["PhysicalResourceId"] == "ecr-public"
    mark = len(ops())

    rollback = cfn.send(update_event(PUBLIC, "ecr-public", moved))

    assert rollback["Status"] == "SUCCESS"
    assert rollback["PhysicalResourceId"] == "ecr-public"
    assert ops_since(mark) == ["DescribePullThroughCacheRules"]
    assert set(rules()) == {"ecr-public"}


def test_rollback_of_a_same_prefix_replacement_replaces_back(cfn: Cfn) -> None:
    cfn.send(create_event(CACHE_PUBLIC))
    replace_cache_upstream(cfn)

    rollback = cfn.send(update_event(CACHE_PUBLIC, "cache", CACHE_QUAY))

    assert rollback["Status"] == "SUCCESS"
    assert rules()["cache"]["upstreamRegistryUrl"] == "public.ecr.aws"


def test_update_recreates_a_rule_deleted_behind_the_stacks_back(cfn: Cfn, secret: Any) -> None:
    old, new = secret("ecr-pullthroughcache/a"), secret("ecr-pullthroughcache/b")
    cfn.send(create_event({**DOCKER_HUB, "CredentialArn": old}))
    ecr_ptc_emulator_delete("docker-hub")

    answer = cfn.send(
        update_event({**DOCKER_HUB, "CredentialArn": new}, "docker-hub", {**DOCKER_HUB, "CredentialArn": old})
    )

    assert answer["Status"] == "SUCCESS"
    assert rules()["docker-hub"]["credentialArn"] == new


def test_update_with_invalid_properties_keeps_the_id_and_calls_nothing(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))
    mark = len(ops())

    answer = cfn.send(update_event({**PUBLIC, "UpstreamRegistry": "dockerhub"}, "ecr-public", PUBLIC))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert "UpstreamRegistry 'dockerhub'" in answer["Reason"]
    assert ops_since(mark) == []


# --- 7. Delete ---------------------------------------------------------------------------


def test_delete_removes_the_rule_with_one_call(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))
    mark = len(ops())

    answer = cfn.send(delete_event("ecr-public", PUBLIC))

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert ops_since(mark) == ["DeletePullThroughCacheRule"]
    assert rules() == {}


def test_delete_of_a_rule_already_gone_succeeds(cfn: Cfn) -> None:
    answer = cfn.send(delete_event("ecr-public", PUBLIC))

    assert answer["Status"] == "SUCCESS"
    assert ops() == ["DeletePullThroughCacheRule"]


def test_delete_of_an_id_that_is_no_prefix_touches_nothing(cfn: Cfn) -> None:
    existing(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")
    mark = len(ops())
    for physical_id in ("demo-stack_Cache_AB12CD34", "ecr-ptc:create-failed:1234", "X"):
        answer = cfn.send(delete_event(physical_id, PUBLIC))
        assert answer["Status"] == "SUCCESS"
        assert answer["PhysicalResourceId"] == physical_id
    assert ops_since(mark) == []
    assert set(rules()) == {"ecr-public"}


def test_delete_with_invalid_properties_still_succeeds(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))

    answer = cfn.send(delete_event("ecr-public", {"Bogus": "x", "EcrRepositoryPrefix": "NOT VALID"}))

    assert answer["Status"] == "SUCCESS"
    assert rules() == {}


def ecr_ptc_emulator_delete(prefix: str) -> None:
    from tests.helpers import ecr

    ecr().delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)


# --- the paths where the request alone cannot tell ---------------------------------------


def test_update_whose_old_properties_were_invalid_reads_ecr_first(cfn: Cfn) -> None:
    """A rollback after a failed update with bad properties: old = the bad ones."""
    cfn.send(create_event(PUBLIC))
    mark = len(ops())

    answer = cfn.send(update_event(PUBLIC, "ecr-public", {**PUBLIC, "Typo": "x"}))

    assert answer["Status"] == "SUCCESS"
    assert ops_since(mark) == ["DescribePullThroughCacheRules"]


def test_update_whose_rule_is_gone_and_old_properties_unusable_creates_it(cfn: Cfn) -> None:
    answer = cfn.send(update_event(PUBLIC, "ecr-public", {"Typo": "x"}))

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert ops() == ["DescribePullThroughCacheRules", "CreatePullThroughCacheRule"]
    assert set(rules()) == {"ecr-public"}


def test_a_same_prefix_replacement_of_a_rule_already_gone_just_creates(cfn: Cfn) -> None:
    answer = replace_cache_upstream(cfn)

    assert answer["Status"] == "SUCCESS"
    assert ops() == ["DescribePullThroughCacheRules", "CreatePullThroughCacheRule"]
    assert rules()["cache"]["upstreamRegistryUrl"] == "quay.io"


def test_an_unexpected_error_is_still_answered_with_a_pointer_to_the_logs(cfn: Cfn, monkeypatch: Any) -> None:
    from handler import lifecycle

    def broken(*args: Any) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(lifecycle, "create", broken)
    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "unexpected error (KeyError" in answer["Reason"]
    assert "logs for RequestId" in answer["Reason"]
    assert not is_rule_id(answer["PhysicalResourceId"])


def test_the_repository_uri_prefix_is_what_images_are_pulled_through(cfn: Cfn) -> None:
    named = cfn.send(create_event(PUBLIC))
    root = cfn.send(create_event({**PUBLIC, "EcrRepositoryPrefix": "ROOT"}))
    slash = cfn.send(create_event({**QUAY, "EcrRepositoryPrefix": "team/quay/"}))

    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert named["Data"]["RepositoryUriPrefix"] == f"{registry}/ecr-public"
    assert root["Data"]["RepositoryUriPrefix"] == registry  # no /ROOT: the whole registry
    assert slash["Data"]["RepositoryUriPrefix"] == f"{registry}/team/quay"
