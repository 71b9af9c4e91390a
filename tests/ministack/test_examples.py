"""Every template in examples/, deployed on MiniStack as a user deploys it: created (with the
secrets it needs made in MiniStack's Secrets Manager), updated along each in-place and
replacement path its parameters allow, and deleted. Each step asserts the stack's status, its
outputs, the requests the provider received (and answered), the ECR writes made and the rule
the registry holds.

The one departure that changes a template: examples/docker-hub.yaml passes `!Ref` of its
secret, which is the secret's ARN on CloudFormation but its name on MiniStack; here it is
deployed with `!GetAtt DockerHubCredentials.Id` (the ARN on both), and test_departures.py
records what the template as written does on MiniStack.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from devkit.cloudformation import templates
from devkit.cloudformation.ministack import ACCOUNT, Operation
from tests.ministack.conftest import REPOSITORY_HOST, Stacks, requests, writes
from tests.snippets import Snippet, yaml_snippets

IN_PLACE, SAME_PREFIX, REPLACEMENT, NO_WRITE = "in place", "same prefix", "replacement", "no ECR write"
CROSS_ACCOUNT = "444455556666"


@dataclass
class Change:
    label: str
    parameters: dict[str, str]  # "{secret}" is replaced by a fresh secret's ARN
    kind: str
    expect: dict[str, str] = field(default_factory=dict)  # rule fields (camelCase) after it


@dataclass
class Case:
    example: str
    prefix: str
    upstream_url: str
    upstream_registry: str
    parameters: dict[str, str] = field(default_factory=dict)
    validates: bool = False  # ValidateCredentials "true" in the template
    changes: list[Change] = field(default_factory=list)
    outputs: Callable[[dict[str, Any]], dict[str, str]] = lambda rule: {}
    # the URL the template computes from its parameters, where it is more than one !Sub
    url: Callable[[dict[str, str]], str] | None = None


def _credential(rule: dict[str, Any]) -> dict[str, str]:
    return {"CredentialArn": rule["credentialArn"]}


CASES = [
    Case(
        "ecr-public",
        "ecr-public",
        "public.ecr.aws",
        "ecr-public",
        changes=[
            Change("turn ValidateCredentials on", {"ValidateCredentials": "true"}, NO_WRITE),
            Change("change the prefix", {"EcrRepositoryPrefix": "ecr-public-2"}, REPLACEMENT),
        ],
    ),
    Case(
        "quay",
        "quay",
        "quay.io",
        "quay",
        changes=[
            Change("turn ValidateCredentials on", {"ValidateCredentials": "true"}, NO_WRITE),
            Change("change the prefix", {"EcrRepositoryPrefix": "quay-2"}, REPLACEMENT),
        ],
    ),
    Case(
        "k8s",
        "k8s",
        "registry.k8s.io",
        "k8s",
        changes=[
            Change("turn AdoptExisting on", {"AdoptExisting": "true"}, NO_WRITE),
            Change("change the prefix", {"EcrRepositoryPrefix": "k8s-2"}, REPLACEMENT),
        ],
        outputs=lambda rule: {"UpstreamRegistry": "k8s"},
    ),
    Case(
        "ghcr",
        "ghcr",
        "ghcr.io",
        "github-container-registry",
        parameters={"CredentialArn": "{secret}"},
        validates=True,
        changes=[
            Change("rotate the credential", {"CredentialArn": "{secret}"}, IN_PLACE),
            Change("change the prefix", {"EcrRepositoryPrefix": "ghcr-2"}, REPLACEMENT),
        ],
        outputs=lambda rule: {"UpstreamRegistryUrl": "ghcr.io", **_credential(rule)},
    ),
    Case(
        "gitlab",
        "gitlab",
        "registry.gitlab.com",
        "gitlab-container-registry",
        parameters={"CredentialArn": "{secret}"},
        validates=True,
        changes=[
            Change("rotate the credential", {"CredentialArn": "{secret}"}, IN_PLACE),
            Change("change the prefix", {"EcrRepositoryPrefix": "gitlab-2"}, REPLACEMENT),
        ],
        outputs=lambda rule: {"UpstreamRegistryUrl": "registry.gitlab.com", **_credential(rule)},
    ),
    Case(
        "chainguard",
        "chainguard",
        "cgr.dev",
        "chainguard",
        parameters={"CredentialArn": "{secret}"},
        validates=True,
        changes=[
            Change("rotate the credential", {"CredentialArn": "{secret}"}, IN_PLACE),
            Change("change the prefix", {"EcrRepositoryPrefix": "chainguard-2"}, REPLACEMENT),
        ],
        outputs=_credential,
    ),
    Case(
        "azure",
        "azure",
        "contoso.azurecr.io",
        "azure-container-registry",
        parameters={"CredentialArn": "{secret}", "AzureRegistryName": "contoso"},
        validates=True,
        changes=[
            Change("rotate the credential", {"CredentialArn": "{secret}"}, IN_PLACE),
            Change(
                "another registry, same prefix",
                {"AzureRegistryName": "fabrikam"},
                SAME_PREFIX,
                {"upstreamRegistryUrl": "fabrikam.azurecr.io"},
            ),
            Change("change the prefix", {"EcrRepositoryPrefix": "azure-2"}, REPLACEMENT),
        ],
        outputs=lambda rule: {"UpstreamRegistryUrl": rule["upstreamRegistryUrl"], **_credential(rule)},
    ),
    Case(
        "ecr-same-account",
        "ecr-mirror",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
        "ecr",
        changes=[
            Change(
                "another upstream repository prefix",
                {"UpstreamRepositoryPrefix": "golden"},
                SAME_PREFIX,
                {"upstreamRepositoryPrefix": "golden"},
            ),
            Change(
                "another upstream Region",
                {"UpstreamRegion": "eu-west-1"},
                SAME_PREFIX,
                {"upstreamRegistryUrl": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"},
            ),
            Change("change the prefix", {"EcrRepositoryPrefix": "ecr-mirror-2"}, REPLACEMENT),
        ],
        outputs=lambda rule: {"UpstreamRepositoryPrefix": rule["upstreamRepositoryPrefix"]},
        url=lambda p: f"{ACCOUNT}.dkr.ecr.{p.get('UpstreamRegion') or 'us-east-1'}.amazonaws.com",
    ),
    Case(
        "ecr-cross-account",
        "shared-images",
        f"{CROSS_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
        "ecr",
        parameters={"UpstreamAccountId": CROSS_ACCOUNT, "UpstreamRegion": "eu-west-1"},
        changes=[
            Change(
                "another upstream Region",
                {"UpstreamRegion": "us-west-2"},
                SAME_PREFIX,
                {"upstreamRegistryUrl": f"{CROSS_ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com"},
            ),
            Change(
                "another upstream repository prefix",
                {"UpstreamRepositoryPrefix": "team"},
                SAME_PREFIX,
                {"upstreamRepositoryPrefix": "team"},
            ),
            # The role's policy names the prefix, so it is updated in place alongside.
            Change("change the prefix", {"EcrRepositoryPrefix": "shared-images-2"}, REPLACEMENT),
        ],
        outputs=lambda rule: {
            "CustomRoleArn": rule["customRoleArn"],
            "UpstreamRepositoryPrefix": rule["upstreamRepositoryPrefix"],
        },
    ),
]


def docker_hub_with_arn() -> dict[str, Any]:
    template = templates.example("docker-hub")
    rule = template["Resources"]["PullThroughCacheRule"]["Properties"]
    assert rule["CredentialArn"] == {"Ref": "DockerHubCredentials"}
    rule["CredentialArn"] = {"Fn::GetAtt": ["DockerHubCredentials", "Id"]}
    return template


def resolve(parameters: dict[str, str], stacks: Stacks, label: str) -> dict[str, str]:
    return {k: stacks.secret(label) if v == "{secret}" else v for k, v in parameters.items()}


def expected_properties(template: dict[str, Any], parameters: dict[str, str], case: Case) -> dict[str, str]:
    """The custom resource's properties as the provider must receive them: the examples pass
    parameters through (Ref), fixed strings, or one !Sub of parameters; all strings."""
    found: dict[str, str] = {}
    [resource] = templates.custom_resources(template).values()
    for name, value in resource["Properties"].items():
        if name == "ServiceToken":
            continue
        found[name] = _evaluate(value, template, parameters)
    if case.url is not None:
        found["UpstreamRegistryUrl"] = case.url(parameters)
    return found


def _evaluate(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> str:
    if isinstance(value, str):
        return value
    (function, argument), *_ = value.items()
    if function == "Ref":
        default = template["Parameters"][argument].get("Default", "")
        return str(parameters.get(argument, default))
    if function == "Fn::Sub":
        text = str(argument)
        for name, spec in template["Parameters"].items():
            text = text.replace(f"${{{name}}}", str(parameters.get(name, spec.get("Default", ""))))
        return text.replace("${AWS::URLSuffix}", "amazonaws.com")
    return "<resolved by CloudFormation>"  # GetAtt of another resource (a role's ARN)


def check_outputs(op: Operation, case: Case, prefix: str) -> None:
    rule = op.rules[prefix]
    assert op.outputs["EcrRepositoryPrefix"] == prefix  # Ref: the answered id
    assert op.outputs["RegistryId"] == ACCOUNT  # Fn::GetAtt of the answered Data
    assert op.outputs["RepositoryUri"] == f"{REPOSITORY_HOST}/{prefix}"
    for name, value in case.outputs(rule).items():
        assert op.outputs[name] == value, name


def check_rule(rule: dict[str, Any], case: Case, properties: dict[str, str]) -> None:
    assert rule["upstreamRegistry"] == case.upstream_registry
    assert rule["upstreamRegistryUrl"] == properties["UpstreamRegistryUrl"]
    assert rule.get("credentialArn") == (properties.get("CredentialArn") or None)
    if "CustomRoleArn" in properties:
        assert rule["customRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")


def check_change(
    op: Operation,
    case: Case,
    change: Change,
    template: dict[str, Any],
    parameters: dict[str, str],
    old_properties: dict[str, str],
    before: dict[str, Any],
) -> tuple[dict[str, str], str]:
    """One update along `change`'s path; returns the new properties and prefix."""
    prefix = before["ecrRepositoryPrefix"]
    assert op.status == "UPDATE_COMPLETE", (change.label, op.reasons())
    properties = expected_properties(template, parameters, case)
    update = op.requests[0]
    if "CustomRoleArn" in properties:
        properties["CustomRoleArn"] = update.properties["CustomRoleArn"]
    assert update.request_type == "Update", change.label
    assert update.properties == properties
    assert update.old_properties == old_properties
    new_prefix = properties["EcrRepositoryPrefix"]
    if change.kind == REPLACEMENT:
        # the new rule, then CloudFormation's Delete of the old id (with the old properties)
        assert requests(op) == [
            ("Update", prefix, "SUCCESS", new_prefix),
            ("Delete", prefix, "SUCCESS", prefix),
        ]
        assert op.requests[1].properties == old_properties
        assert writes(op) == ["CreatePullThroughCacheRule", "DeletePullThroughCacheRule"]
        assert prefix not in op.rules
    else:
        assert requests(op) == [("Update", prefix, "SUCCESS", prefix)], change.label
        assert new_prefix == prefix
        expected_writes = {
            IN_PLACE: ["UpdatePullThroughCacheRule"],
            SAME_PREFIX: ["DeletePullThroughCacheRule", "CreatePullThroughCacheRule"],
            NO_WRITE: [],
        }[change.kind]
        assert writes(op) == expected_writes, change.label
        if change.kind in (IN_PLACE, NO_WRITE):
            assert op.rules[prefix]["createdAt"] == before["createdAt"]  # the same rule
    rule = op.rules[new_prefix]
    check_rule(rule, case, properties)
    for field_name, value in change.expect.items():
        assert rule[field_name] == value
    check_outputs(op, case, new_prefix)
    return properties, new_prefix


@pytest.mark.parametrize("case", CASES, ids=[c.example for c in CASES])
def test_example_lifecycle(stacks: Stacks, case: Case) -> None:
    template = templates.example(case.example)
    name = stacks.name(case.example)
    parameters = resolve(case.parameters, stacks, case.example)
    validate = ["ValidatePullThroughCacheRule"] if case.validates else []

    created = stacks.create(name, template, parameters)
    assert created.status == "CREATE_COMPLETE", created.reasons()
    properties = expected_properties(template, parameters, case)
    [create] = created.requests
    assert requests(created) == [("Create", None, "SUCCESS", case.prefix)]
    received = create.properties
    if "CustomRoleArn" in properties:
        properties["CustomRoleArn"] = received["CustomRoleArn"]
    assert received == properties
    assert writes(created) == ["CreatePullThroughCacheRule"]
    assert [c for c in created.ecr_operations() if c == "ValidatePullThroughCacheRule"] == validate
    check_rule(created.rules[case.prefix], case, properties)
    check_outputs(created, case, case.prefix)
    assert created.rules[case.prefix]["upstreamRegistryUrl"] == case.upstream_url

    prefix, last = case.prefix, created
    for change in case.changes:
        parameters = {**parameters, **resolve(change.parameters, stacks, case.example)}
        op = stacks.update(name, template, parameters)
        properties, prefix = check_change(
            op, case, change, template, parameters, properties, last.rules[prefix]
        )
        last = op

    deleted = stacks.delete(name)
    assert deleted.status == "DELETE_COMPLETE"
    assert requests(deleted) == [("Delete", prefix, "SUCCESS", prefix)]
    assert writes(deleted) == ["DeletePullThroughCacheRule"]
    assert prefix not in deleted.rules
    assert set(deleted.rules) == stacks.rules_before


def test_docker_hub_creates_its_secret_and_the_rule(stacks: Stacks) -> None:
    """examples/docker-hub.yaml (with the secret's ARN by GetAtt .Id): the stack makes the
    secret; a new token changes only the secret (no request to the rule); a new prefix renames
    the secret (a new secret, so a new CredentialArn) and replaces the rule."""
    template = docker_hub_with_arn()
    name = stacks.name("docker-hub")
    parameters = {"DockerHubUsername": "me", "DockerHubAccessToken": "token-1"}

    created = stacks.create(name, template, parameters)
    assert created.status == "CREATE_COMPLETE", created.reasons()
    [create] = created.requests
    secret_arn = create.properties["CredentialArn"]
    assert secret_arn.startswith(
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub"
    )
    assert requests(created) == [("Create", None, "SUCCESS", "docker-hub")]
    assert writes(created) == ["CreatePullThroughCacheRule"]
    assert "ValidatePullThroughCacheRule" in created.ecr_operations()
    assert created.rules["docker-hub"]["credentialArn"] == secret_arn
    assert created.outputs["CredentialArn"] == secret_arn
    assert created.outputs["RepositoryUri"] == f"{REPOSITORY_HOST}/docker-hub"

    rotated = stacks.update(name, template, {**parameters, "DockerHubAccessToken": "token-2"})
    assert rotated.status == "UPDATE_COMPLETE", rotated.reasons()
    assert rotated.requests == []  # the secret changed in place: same ARN, nothing to tell the rule
    assert rotated.ecr_calls == []
    secret = stacks.ms.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    assert '"accessToken":"token-2"' in secret["SecretString"]

    moved = stacks.update(name, template, {**parameters, "EcrRepositoryPrefix": "docker-hub-2"})
    assert moved.status == "UPDATE_COMPLETE", moved.reasons()
    update, cleanup = moved.requests
    assert update.properties["EcrRepositoryPrefix"] == "docker-hub-2"
    assert update.properties["CredentialArn"] != secret_arn  # the renamed (new) secret
    assert "ecr-pullthroughcache/docker-hub-2" in update.properties["CredentialArn"]
    assert requests(moved) == [
        ("Update", "docker-hub", "SUCCESS", "docker-hub-2"),
        ("Delete", "docker-hub", "SUCCESS", "docker-hub"),
    ]
    assert cleanup.properties["CredentialArn"] == secret_arn
    assert writes(moved) == ["CreatePullThroughCacheRule", "DeletePullThroughCacheRule"]
    assert set(moved.rules) - stacks.rules_before == {"docker-hub-2"}

    deleted = stacks.delete(name)
    assert deleted.status == "DELETE_COMPLETE"
    assert requests(deleted) == [("Delete", "docker-hub-2", "SUCCESS", "docker-hub-2")]
    assert set(deleted.rules) == stacks.rules_before


def test_k8s_adopts_a_rule_made_by_hand_and_then_owns_it(stacks: Stacks) -> None:
    """AdoptExisting "true" takes over a rule that already exists as asked (no write); the
    stack then owns it, so deleting the stack deletes it."""
    stacks.ms.create_rule("k8s", "registry.k8s.io")
    made_at = stacks.ms.ecr_rules()["k8s"]["createdAt"]
    name = stacks.name("k8s-adopt")
    created = stacks.create(name, templates.example("k8s"), {"AdoptExisting": "true"})
    assert created.status == "CREATE_COMPLETE", created.reasons()
    assert requests(created) == [("Create", None, "SUCCESS", "k8s")]
    # ECR refused the create (the rule exists); the rule was taken over as it was
    assert writes(created) == ["CreatePullThroughCacheRule"]
    assert created.rules["k8s"]["createdAt"] == made_at
    deleted = stacks.delete(name)
    assert requests(deleted) == [("Delete", "k8s", "SUCCESS", "k8s")]
    assert writes(deleted) == ["DeletePullThroughCacheRule"]
    assert "k8s" not in deleted.rules


def test_k8s_refuses_a_rule_made_by_hand_without_adopt_existing(stacks: Stacks) -> None:
    stacks.ms.create_rule("k8s", "registry.k8s.io")
    name = stacks.name("k8s-refuse")
    created = stacks.create(name, templates.example("k8s"))
    assert created.status == "ROLLBACK_COMPLETE"
    [reason] = created.reasons()
    assert "already exists and this resource did not create it" in reason
    assert "AdoptExisting" in reason
    assert writes(created) == ["CreatePullThroughCacheRule"]  # refused by ECR: nothing written
    assert "k8s" in created.rules
    stacks.ms.delete_rule("k8s")


# ---- the pull side: examples/puller-role.yaml and examples/repository-creation-template.yaml ----


@pytest.mark.parametrize(
    ("prefix", "repositories", "uri_prefix"),
    [
        ("docker-hub", "repository/docker-hub/*", f"{REPOSITORY_HOST}/docker-hub"),
        ("team/quay", "repository/team/quay/*", f"{REPOSITORY_HOST}/team/quay"),
        ("ROOT", "repository/*", REPOSITORY_HOST),
    ],
)
def test_puller_role_grants_the_first_pull_on_the_rules_repositories_only(
    stacks: Stacks, prefix: str, repositories: str, uri_prefix: str
) -> None:
    """examples/puller-role.yaml as CloudFormation resolves it: the role's one inline policy
    names the repositories under the rule's prefix (all of them for ROOT), and the output is the
    rule's RepositoryUriPrefix. (MiniStack stores IAM policies; it does not evaluate them.)"""
    name = stacks.name("puller")
    created = stacks.create(name, templates.example("puller-role"), {"EcrRepositoryPrefix": prefix})
    assert created.status == "CREATE_COMPLETE", created.reasons()
    assert created.requests == [] and created.ecr_calls == []  # IAM only: nothing of the provider
    assert created.outputs["RepositoryUriPrefix"] == uri_prefix
    role_name = created.outputs["RoleArn"].rsplit("/", 1)[1]
    iam = stacks.ms.client("iam")
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert iam.list_role_policies(RoleName=role_name)["PolicyNames"] == ["pull-through-cache"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName="pull-through-cache")["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    arn = f"arn:aws:ecr:us-east-1:{ACCOUNT}:{repositories}"
    assert {s["Sid"]: (s["Action"], s["Resource"]) for s in document["Statement"]} == {
        "LogInToTheRegistry": ("ecr:GetAuthorizationToken", "*"),
        "PullCachedImages": (["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], arn),
        "CacheOnFirstPull": (["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"], arn),
    }
    assert stacks.delete(name).status == "DELETE_COMPLETE"


def test_repository_creation_template_example_is_lint_only_ministack_has_no_such_type(
    stacks: Stacks,
) -> None:
    """examples/repository-creation-template.yaml is checked by cfn-lint (tests/test_template.py,
    tests/test_lint_rule.py) and tests/test_pull_side.py, not deployed: MiniStack has no
    AWS::ECR::RepositoryCreationTemplate (CloudFormation has). When this fails, MiniStack has
    gained it: deploy the example here like the others."""
    from botocore.exceptions import ClientError

    name = stacks.name("repository-template")
    unrecognized = r"Unrecognized resource types: \[AWS::ECR::RepositoryCreationTemplate\]"
    with pytest.raises(ClientError, match=unrecognized):  # CreateStack's ValidationError
        stacks.create(
            name, templates.example("repository-creation-template"), {"CredentialArn": stacks.secret("rct")}
        )
    assert stacks.ms._stack_id(name) is None
    assert set(stacks.ms.ecr_rules()) == stacks.rules_before


# ---- the docs' templates (tests/test_docs_snippets.py lints them all) -----------------------


def docs_templates() -> list[Snippet]:
    """The YAML snippets of the docs that are whole templates (they have Resources)."""
    return [
        s
        for s in yaml_snippets()
        if isinstance(found := templates.parse(s.text), dict) and "Resources" in found
    ]


@pytest.mark.parametrize("snippet", docs_templates(), ids=lambda s: f"{s.path.name}:{s.line}")
def test_every_template_the_docs_show_deploys(stacks: Stacks, snippet: Snippet) -> None:
    """Each whole template of README.md and docs/ deployed as written, with a value for each
    parameter it declares, its rules' RepositoryUriPrefix outputs checked, then deleted. The one
    change: a secret's `!Ref` as CredentialArn becomes `!GetAtt <secret>.Id` (both the ARN on
    CloudFormation; MiniStack's Ref gives the name, test_departures.py). A parameter used but not
    declared is cfn-lint's to find (tests/test_docs_snippets.py): MiniStack lets it through."""
    template = templates.parse(snippet.text)
    secrets = {n for n, r in template["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"}
    rules = templates.custom_resources(template)
    for rule in rules.values():
        credential = rule["Properties"].get("CredentialArn")
        if isinstance(credential, dict) and credential.get("Ref") in secrets:
            rule["Properties"]["CredentialArn"] = {"Fn::GetAtt": [credential["Ref"], "Id"]}
    parameters = {name: f"docs-{name.lower()}" for name in template.get("Parameters", {})}
    name = stacks.name("docs")
    created = stacks.create(name, template, parameters)
    assert created.status == "CREATE_COMPLETE", (snippet.where, created.reasons())
    assert [r.answer and r.answer["Status"] for r in created.requests] == ["SUCCESS"] * len(rules)
    for output, spec in template.get("Outputs", {}).items():
        value = spec["Value"]
        if isinstance(value, dict) and value.get("Fn::GetAtt", [None, None])[1] == "RepositoryUriPrefix":
            prefix = rules[value["Fn::GetAtt"][0]]["Properties"]["EcrRepositoryPrefix"]
            assert created.outputs[output] == f"{REPOSITORY_HOST}/{prefix}", snippet.where
    deleted = stacks.delete(name)
    assert deleted.status == "DELETE_COMPLETE"
    assert set(deleted.rules) == stacks.rules_before
