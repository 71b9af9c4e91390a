"""An upstream ECR caches but this provider version does not know (an emulator taught one more
host and kind) goes to ECR as written and is then served like any other, through the real
handler: create, in-place credential change, same-prefix replacement and its rollback, delete,
adoption, import. What ECR refuses is answered with the property, the value and ECR's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ecr_ptc_emulator
from devkit.cloudformation import templates
from devkit.cloudformation.events import STACK_ID
from devkit.cloudformation.stack_api import StackApi
from devkit.importer import cli
from ecr_ptc_contract import warnings
from handler.properties import parse
from tests.conftest import Cfn
from tests.helpers import (
    ATTRIBUTES,
    QUAY,
    create_event,
    delete_event,
    ecr,
    existing,
    ops,
    ops_since,
    rules,
    update_event,
)

KIND, HOST = "artifactory", "registry.example.dev"  # neither in this version's tables
NEW = {"EcrRepositoryPrefix": "mirror", "UpstreamRegistryUrl": HOST}
URL_NAMED = f"UpstreamRegistryUrl '{HOST}'"


@pytest.fixture
def taught(emulator: None) -> None:
    ecr_ptc_emulator.teach_upstream(KIND, HOST, needs_credential=True)


def test_the_provider_does_not_know_the_upstream_the_emulator_was_taught() -> None:
    assert [w.property for w in warnings({**NEW, "UpstreamRegistry": KIND})] == [
        "UpstreamRegistry",
        "UpstreamRegistryUrl",
    ]


def test_create_update_in_place_and_delete(cfn: Cfn, secret: Any, taught: None) -> None:
    old, new = secret("ecr-pullthroughcache/a"), secret("ecr-pullthroughcache/b")

    created = cfn.send(create_event({**NEW, "CredentialArn": old}))
    assert created["Status"] == "SUCCESS", created.get("Reason")
    assert created["PhysicalResourceId"] == "mirror"
    assert rules()["mirror"]["upstreamRegistry"] == KIND
    assert created["Data"]["UpstreamRegistry"] == KIND  # as ECR inferred it
    assert created["Data"]["UpstreamRepositoryPrefix"] == ""
    assert set(created["Data"]) == ATTRIBUTES

    mark = len(ops())
    updated = cfn.send(update_event({**NEW, "CredentialArn": new}, "mirror", {**NEW, "CredentialArn": old}))
    assert updated["Status"] == "SUCCESS", updated.get("Reason")
    assert ops_since(mark) == ["DescribePullThroughCacheRules", "UpdatePullThroughCacheRule"]
    assert rules()["mirror"]["credentialArn"] == new

    mark = len(ops())  # naming the kind ECR inferred changes nothing ECR holds
    named = {**NEW, "UpstreamRegistry": KIND, "CredentialArn": new}
    same = cfn.send(update_event(named, "mirror", {**NEW, "CredentialArn": new}))
    assert same["Status"] == "SUCCESS", same.get("Reason")
    assert ops_since(mark) == ["DescribePullThroughCacheRules"]

    deleted = cfn.send(delete_event("mirror", named))
    assert deleted["Status"] == "SUCCESS"
    assert rules() == {}


def test_same_prefix_replacement_both_ways_and_its_rollback(
    cfn: Cfn, secret: Any, taught: None, stack_api: StackApi
) -> None:
    credential = secret("ecr-pullthroughcache/a")
    unknown = {**NEW, "CredentialArn": credential}
    quay = {**QUAY, "EcrRepositoryPrefix": "mirror"}
    cfn.send(create_event(quay))
    mark = len(ops())

    to_unknown = cfn.send(update_event(unknown, "mirror", quay))
    assert to_unknown["Status"] == "SUCCESS", to_unknown.get("Reason")
    assert to_unknown["PhysicalResourceId"] == "mirror"
    assert ops_since(mark) == [
        "DescribePullThroughCacheRules",
        "DeletePullThroughCacheRule",
        "CreatePullThroughCacheRule",
    ]
    assert rules()["mirror"]["upstreamRegistryUrl"] == HOST

    stack_api.stacks[STACK_ID].status = "UPDATE_ROLLBACK_IN_PROGRESS"  # another resource failed
    rolled_back = cfn.send(update_event(quay, "mirror", unknown))
    assert rolled_back["Status"] == "SUCCESS", rolled_back.get("Reason")
    assert rules()["mirror"]["upstreamRegistryUrl"] == "quay.io"

    stack_api.stacks[STACK_ID].status = "UPDATE_IN_PROGRESS"
    again = cfn.send(update_event(unknown, "mirror", quay))
    back = cfn.send(update_event(quay, "mirror", unknown))
    assert (again["Status"], back["Status"]) == ("SUCCESS", "SUCCESS")
    assert rules()["mirror"]["upstreamRegistry"] == "quay"


def test_an_existing_rule_of_the_new_upstream_is_adopted(cfn: Cfn, secret: Any, taught: None) -> None:
    credential = secret("ecr-pullthroughcache/a")
    existing(ecrRepositoryPrefix="mirror", upstreamRegistryUrl=HOST, credentialArn=credential)

    adopted = cfn.send(create_event({**NEW, "CredentialArn": credential, "AdoptExisting": "true"}))

    assert adopted["Status"] == "SUCCESS", adopted.get("Reason")
    assert adopted["PhysicalResourceId"] == "mirror"
    assert adopted["Data"]["UpstreamRegistry"] == KIND


def test_import_declares_the_new_upstream_as_ecr_holds_it(secret: Any, taught: None, tmp_path: Path) -> None:
    credential = secret("ecr-pullthroughcache/a")
    existing(ecrRepositoryPrefix="mirror", upstreamRegistryUrl=HOST, credentialArn=credential)
    path = tmp_path / "imported.yaml"

    assert cli.main(["-o", str(path)], client=ecr()) == 0

    properties = templates.load(path)["Resources"]["MirrorCache"]["Properties"]
    assert (properties["UpstreamRegistryUrl"], properties["UpstreamRegistry"]) == (HOST, KIND)
    literal = {k: v for k, v in properties.items() if isinstance(v, str)}
    assert parse(literal).upstream_registry == KIND


@pytest.mark.parametrize(
    ("asked", "named"),
    [
        (NEW, f"{URL_NAMED}, so ECR checked it"),
        (
            {**NEW, "UpstreamRegistry": "harbor"},
            f"UpstreamRegistry 'harbor' and {URL_NAMED}, so ECR checked them",
        ),
    ],
    ids=["host", "kind"],
)
def test_what_ecr_refuses_is_answered_with_the_property_the_value_and_ecrs_words(
    cfn: Cfn, asked: dict[str, str], named: str
) -> None:
    answer = cfn.send(create_event(asked))

    assert answer["Status"] == "FAILED"
    reason = answer["Reason"]
    assert f"ECR refused the rule; this provider version does not know its {named}" in reason
    assert "this version knows public.ecr.aws, quay.io, registry.k8s.io" in reason
    assert "(UpstreamRegistry ecr, ecr-public, quay, k8s, docker-hub," in reason
    # ECR's own words, as the emulator (worded like ECR) said them
    ecr_error = "UnsupportedUpstreamRegistryException" if "harbor" not in named else "ValidationException"
    assert f"[ECR {ecr_error}: " in reason
    assert rules() == {}
