"""Bad input is refused before any call, every problem in one message that names the property,
the value and the fix. Pure: no AWS."""

from __future__ import annotations

import json

import pytest

from ecr_ptc_contract import Problem, check, warnings
from handler.properties import InvalidProperties, RuleSpec, canonical_prefix, is_rule_id, parse
from tests.helpers import PARTITIONS

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:provider"
DOCKER = {
    "EcrRepositoryPrefix": "docker-hub",
    "UpstreamRegistryUrl": "registry-1.docker.io",
    "CredentialArn": SECRET,
}


def problems(properties: dict[str, object]) -> list[str]:
    with pytest.raises(InvalidProperties) as raised:
        parse({"ServiceToken": TOKEN, **properties})
    return raised.value.problems


def test_a_full_spec_parses_with_strings_and_booleans() -> None:
    spec = parse(
        {
            "ServiceToken": TOKEN,
            "ServiceTimeout": "300",
            "EcrRepositoryPrefix": "team/upstream",
            "UpstreamRegistryUrl": "444455556666.dkr.ecr.eu-west-1.amazonaws.com",
            "UpstreamRepositoryPrefix": "prod",
            "CustomRoleArn": "arn:aws:iam::123456789012:role/path/ecr-ptc",
            "AdoptExisting": "TRUE",
            "ValidateCredentials": False,
        }
    )
    assert spec == RuleSpec(
        ecr_repository_prefix="team/upstream",
        upstream_registry_url="444455556666.dkr.ecr.eu-west-1.amazonaws.com",
        upstream_repository_prefix="prod",
        custom_role_arn="arn:aws:iam::123456789012:role/path/ecr-ptc",
        adopt_existing=True,
    )
    assert spec.effective_upstream_registry == "ecr"


@pytest.mark.parametrize(
    "prefix", ["ab", "a--b", "a__b", "a.b", "a/b/c", "docker-hub/", "ROOT", "x" * 30, "0-9"]
)
def test_prefixes_the_api_accepts(prefix: str) -> None:
    assert parse({**DOCKER, "EcrRepositoryPrefix": prefix}).ecr_repository_prefix == prefix


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("a", "is 1 character long; it must be 2 to 30"),
        ("x" * 31, "is 31 characters long"),
        ("Docker-Hub", "e.g. 'docker-hub'"),
        ("docker-hub-", "e.g. 'docker-hub'"),
        ("-cache", "e.g. 'cache'"),
        ("a///b", "e.g. 'a/b'"),
        ("root", "not the whole registry: write ROOT (in capitals)"),
        ("root/", "not the whole registry: write ROOT (in capitals)"),
    ],
)
def test_bad_prefixes_are_explained(prefix: str, expected: str) -> None:
    (problem,) = problems({**DOCKER, "EcrRepositoryPrefix": prefix})
    assert problem.startswith(f"EcrRepositoryPrefix '{prefix}'")
    assert expected in problem


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "registry-1.docker.io"},
            "CredentialArn is required for docker-hub",
        ),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "ghcr.io"},
            "CredentialArn is required for github-container-registry",
        ),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "registry.gitlab.com"},
            "CredentialArn is required for gitlab",
        ),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "myreg.azurecr.io"},
            "CredentialArn is required for azure",
        ),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "cgr.dev"},
            "CredentialArn is required for chainguard",
        ),
        (
            {**DOCKER, "CredentialArn": SECRET.replace("ecr-pullthroughcache/", "")},
            "create the secret as 'ecr-pullthroughcache/docker-hub' and pass its ARN",
        ),
        ({**DOCKER, "CredentialArn": "my-secret"}, "is not a Secrets Manager secret ARN"),
        (
            {**DOCKER, "CredentialArn": SECRET.replace("us-east-1", "eu-west-1")},
            "ECR reads secrets only from the rule's own account and Region",
        ),
        ({**DOCKER, "UpstreamRegistry": "Docker_Hub"}, "is not an upstream kind: did you mean 'docker-hub'?"),
        ({**DOCKER, "UpstreamRegistry": "dockerhub"}, "set UpstreamRegistry to 'docker-hub' or leave it out"),
        ({**DOCKER, "UpstreamRegistry": "quay"}, "set UpstreamRegistry to 'docker-hub' or leave it out"),
        (
            {**DOCKER, "CustomRoleArn": "arn:aws:iam::123456789012:role/r"},
            "CustomRoleArn is only for ECR upstreams",
        ),
        (
            {**DOCKER, "UpstreamRepositoryPrefix": "library"},
            "UpstreamRepositoryPrefix is only for ECR upstreams",
        ),
        (
            {
                "EcrRepositoryPrefix": "ROOT",
                "UpstreamRegistryUrl": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "UpstreamRepositoryPrefix": "team",
            },
            "cannot be set when EcrRepositoryPrefix is ROOT",
        ),
        (
            {
                "EcrRepositoryPrefix": "x1",
                "UpstreamRegistryUrl": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "CustomRoleArn": "role/x",
            },
            "is not an IAM role ARN",
        ),
        ({"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "https://quay.io/"}, "write 'quay.io'"),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "docker.io", "CredentialArn": SECRET},
            "write 'registry-1.docker.io'",
        ),
        ({"EcrRepositoryPrefix": "x1"}, "UpstreamRegistryUrl is required and missing"),
        ({"EcrRepositoryPrefix": "", "UpstreamRegistryUrl": "quay.io"}, "EcrRepositoryPrefix is empty"),
        (
            {**DOCKER, "CredentialArm": SECRET},
            "Unknown property 'CredentialArm': did you mean 'CredentialArn'?",
        ),
        ({**DOCKER, "ecrrepositoryprefix": "x"}, "did you mean 'EcrRepositoryPrefix'?"),
        ({**DOCKER, "Tags": "x"}, "Unknown property 'Tags': the properties are"),
        ({**DOCKER, "AdoptExisting": "yes"}, "AdoptExisting must be 'true' or 'false', not 'yes'"),
        ({**DOCKER, "EcrRepositoryPrefix": ["a"]}, "EcrRepositoryPrefix must be a string, not a list"),
        ({**DOCKER, "UpstreamRegistryUrl": " quay.io"}, "has leading or trailing spaces"),
    ],
)
def test_each_problem_names_the_property_and_the_fix(properties: dict[str, object], expected: str) -> None:
    assert any(expected in problem for problem in problems(properties)), problems(properties)


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {
            "EcrRepositoryPrefix": "A",
            "UpstreamRegistryUrl": "ghcr.io",
            "UpstreamRegistry": "x",
            "Colour": "blue",
        }
    )
    assert len(found) == 4
    message = str(InvalidProperties(found))
    assert message.startswith("Invalid properties, 4 problems: (1) Unknown property 'Colour'")


def test_optional_empty_strings_mean_unset_and_json_booleans_work() -> None:
    spec = parse(
        {
            "EcrRepositoryPrefix": "quay",
            "UpstreamRegistryUrl": "quay.io",
            "CredentialArn": "",
            "ValidateCredentials": True,
        }
    )
    assert spec.credential_arn is None
    assert spec.validate_credentials is True


def test_credential_arns_of_other_partitions_are_accepted() -> None:
    arn = "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:ecr-pullthroughcache/hub-AbCdEf"
    assert parse({**DOCKER, "CredentialArn": arn}).credential_arn == arn


def test_rule_ids_and_canonical_prefixes() -> None:
    assert is_rule_id("docker-hub") and is_rule_id("ROOT")
    assert not is_rule_id("ecr-ptc:create-failed:abc")
    assert not is_rule_id("stack_Logical_ABCD1234")
    assert not is_rule_id("")
    assert canonical_prefix("a/b/") == "a/b" and canonical_prefix("ROOT") == "ROOT"


# ---------------------------------------------------------------------------------------
# The URL is always checked against the upstream kind it names
# ---------------------------------------------------------------------------------------

GHCR_SECRET = SECRET.replace("docker-hub", "ghcr")


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        (
            {**DOCKER, "UpstreamRegistryUrl": "docker.io", "UpstreamRegistry": "docker-hub"},
            "UpstreamRegistryUrl 'docker.io' is not the host ECR pulls from (docker.io is Docker Hub's "
            "name in image references, not its registry's host): write 'registry-1.docker.io'.",
        ),
        (
            {
                **DOCKER,
                "UpstreamRegistryUrl": "gitlab.example.com",
                "UpstreamRegistry": "gitlab-container-registry",
            },
            "UpstreamRegistryUrl 'gitlab.example.com' is not a gitlab-container-registry host (ECR caches "
            "GitLab.com's registry only, not a self-hosted GitLab): write 'registry.gitlab.com'.",
        ),
        (
            {
                **DOCKER,
                "UpstreamRegistryUrl": "myreg.azurecr.cn",
                "UpstreamRegistry": "azure-container-registry",
            },
            "UpstreamRegistryUrl 'myreg.azurecr.cn' is not an azure-container-registry host: an Azure "
            "registry is <name>.azurecr.io, its name being 5 to 50 lowercase letters and digits.",
        ),
        (
            {
                "EcrRepositoryPrefix": "x1",
                "UpstreamRegistryUrl": "ecr.example.com",
                "UpstreamRegistry": "ecr",
            },
            "UpstreamRegistryUrl 'ecr.example.com' is not an ecr host: a private ECR registry is "
            "<account>.dkr.ecr.<region>.<the partition's DNS suffix>, e.g. amazonaws.com, "
            "amazonaws.com.cn in China, amazonaws.eu in the European Sovereign Cloud.",
        ),
        (
            {**DOCKER, "UpstreamRegistryUrl": "mirror.example.com", "UpstreamRegistry": "docker-hub"},
            "UpstreamRegistryUrl 'mirror.example.com' is not a docker-hub host: "
            "write 'registry-1.docker.io'.",
        ),
    ],
)
def test_an_upstream_registry_given_does_not_unlock_other_hosts(
    properties: dict[str, object], expected: str
) -> None:
    assert problems(properties) == [expected]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ghcr.io/myorg", "UpstreamRegistryUrl 'ghcr.io/myorg' has a path: drop the path, write 'ghcr.io'."),
        (
            "Quay.IO",
            "UpstreamRegistryUrl 'Quay.IO' has capital letters: write 'quay.io' (ECR stores the URL as it "
            "is sent, and later updates compare it exactly).",
        ),
        ("quay.io:443", "UpstreamRegistryUrl 'quay.io:443' has a port: drop the port, write 'quay.io'."),
        (
            "https://Docker.io/library",
            "UpstreamRegistryUrl 'https://Docker.io/library' has a scheme, a path and capital letters: "
            "drop them, write 'registry-1.docker.io'.",
        ),
        ("gitlab.com", "UpstreamRegistryUrl 'gitlab.com' is not the host ECR pulls from"),
        ("quay..io", "UpstreamRegistryUrl 'quay..io' is not a host name"),
        ("my_registry.io", "UpstreamRegistryUrl 'my_registry.io' is not a host name"),
        ("a" * 64 + ".io", "is not a host name"),  # a label has at most 63 characters
        (("a" * 62 + ".") * 4 + "io", "is 254 characters long; it can be at most 253"),
    ],
)
def test_urls_are_host_names_said_with_the_fix(url: str, expected: str) -> None:
    found = problems({**DOCKER, "UpstreamRegistryUrl": url, "CredentialArn": GHCR_SECRET})
    assert len(found) == 1, found
    assert expected in found[0]


def test_a_kind_that_disagrees_with_the_url_is_one_problem_and_ecr_only_ones_still_refused() -> None:
    found = problems(
        {
            "EcrRepositoryPrefix": "x1",
            "UpstreamRegistryUrl": "quay.io",
            "UpstreamRegistry": "docker-hub",
            "CustomRoleArn": "not-an-arn",
        }
    )
    assert found == [
        "UpstreamRegistry 'docker-hub' does not match UpstreamRegistryUrl 'quay.io', which is a quay "
        "upstream: set UpstreamRegistry to 'quay' or leave it out.",
        "CustomRoleArn is only for ECR upstreams (ecr); this upstream is docker-hub or quay: "
        "remove CustomRoleArn.",
    ]


# ---------------------------------------------------------------------------------------
# One problem per mistake, ROOT, the secret's name to create, the property names
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        (
            {**DOCKER, "EcrRepositoryPrefix": " docker-hub"},
            "has leading or trailing spaces: write 'docker-hub'.",
        ),
        (
            {**DOCKER, "EcrRepositoryPrefix": "   "},
            "EcrRepositoryPrefix '   ' is only spaces; it is required",
        ),
        ({**DOCKER, "EcrRepositoryPrefix": 12}, "EcrRepositoryPrefix must be a string, not a number 12."),
        ({**DOCKER, "CredentialArn": [SECRET]}, "CredentialArn must be a string, not a list"),
        ({**DOCKER, "CredentialArn": SECRET + " "}, "CredentialArn '"),
        ({**DOCKER, "UpstreamRegistryUrl": ["registry-1.docker.io"]}, "UpstreamRegistryUrl must be a string"),
        ({**DOCKER, "UpstreamRegistryUrl": "https://docker.io"}, "drop the scheme, write 'registry-1.docker"),
        ({**DOCKER, "UpstreamRegistry": " docker-hub"}, "UpstreamRegistry ' docker-hub' has leading"),
        ({**DOCKER, "AdoptExisting": {"a": 1}}, """AdoptExisting must be 'true' or 'false', not {"a": 1}."""),
        (
            {
                "EcrRepositoryPrefix": "x1",
                "UpstreamRegistryUrl": "quay.io",
                "CustomRoleArn": "arn:aws:iam::r",
            },
            "CustomRoleArn is only for ECR upstreams (ecr); this upstream is quay: remove CustomRoleArn.",
        ),
    ],
)
def test_a_wrong_type_or_padding_is_one_problem(properties: dict[str, object], expected: str) -> None:
    found = problems(properties)
    assert len(found) == 1, found
    assert expected in found[0]


def test_root_upstream_prefix_with_a_root_rule_is_the_same_as_leaving_it_out() -> None:
    asked = {
        "EcrRepositoryPrefix": "ROOT",
        "UpstreamRegistryUrl": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "UpstreamRepositoryPrefix": "ROOT",
    }
    spec = parse(asked)
    assert spec.upstream_repository_prefix is None  # never sent: ECR refuses the pair
    assert spec.effective_upstream_repository_prefix == "ROOT"
    assert spec == parse({k: v for k, v in asked.items() if k != "UpstreamRepositoryPrefix"})


@pytest.mark.parametrize("value", ["root", "root/"])
def test_lowercase_root_is_refused_saying_what_was_meant(value: str) -> None:
    (problem,) = problems(
        {
            "EcrRepositoryPrefix": "team",
            "UpstreamRegistryUrl": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "UpstreamRepositoryPrefix": value,
        }
    )
    assert problem == (
        f"UpstreamRepositoryPrefix '{value}' would be a literal prefix named 'root', not every upstream "
        "repository: write ROOT (in capitals) for every upstream repository, or choose another name."
    )
    assert is_rule_id(value)  # ECR's rule: a 'root' rule made elsewhere can still be deleted


@pytest.mark.parametrize(
    ("name", "suggested"),
    [
        ("docker-hub-AbCdEf", "'ecr-pullthroughcache/docker-hub' and pass its ARN"),
        ("hub", "'ecr-pullthroughcache/hub' and pass its ARN"),  # a partial ARN has no suffix
    ],
)
def test_the_suggested_secret_name_is_the_one_to_create(name: str, suggested: str) -> None:
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}"
    (problem,) = problems({**DOCKER, "CredentialArn": arn})
    assert problem.endswith(f"create the secret as {suggested}.")
    assert ("random suffix '-AbCdEf'" in problem) == name.endswith("-AbCdEf")


def test_the_unknown_property_message_names_cloudformations_properties_too() -> None:
    found = problems({**DOCKER, "Tags": "x", "Colour": "blue", "ServiceTimout": "60"})
    assert found == [
        "Unknown property 'Tags': the properties are EcrRepositoryPrefix, UpstreamRegistryUrl, "
        "UpstreamRegistry, UpstreamRepositoryPrefix, CredentialArn, CustomRoleArn, AdoptExisting, "
        "ValidateCredentials, and CloudFormation's ServiceToken and ServiceTimeout.",
        "Unknown property 'Colour': remove it.",
        "Unknown property 'ServiceTimout': did you mean 'ServiceTimeout'?",
    ]


def test_null_means_unset_and_properties_that_are_not_an_object_are_one_problem() -> None:
    spec = parse({**DOCKER, "UpstreamRegistry": None, "AdoptExisting": None})
    assert spec.upstream_registry is None and spec.adopt_existing is False
    with pytest.raises(InvalidProperties) as raised:
        parse(["EcrRepositoryPrefix"])  # type: ignore[arg-type]
    assert raised.value.problems == [
        'The resource\'s Properties must be an object of properties, not ["EcrRepositoryPrefix"].'
    ]


# ---------------------------------------------------------------------------------------
# Long values never hide a problem
# ---------------------------------------------------------------------------------------

OURS = (
    "EcrRepositoryPrefix",
    "UpstreamRegistryUrl",
    "UpstreamRegistry",
    "UpstreamRepositoryPrefix",
    "CredentialArn",
    "CustomRoleArn",
    "AdoptExisting",
    "ValidateCredentials",
)


def reason_sent(properties: dict[str, object]) -> str:
    """The Reason CloudFormation receives, through the provider's own answer body."""
    from handler.response import FAILED, MAX_BODY_BYTES, build_body

    event = {
        "RequestId": "5a1e0c6e-0000-4000-8000-000000000000",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/" + "0" * 36,
        "LogicalResourceId": "Rule",
    }
    with pytest.raises(InvalidProperties) as raised:
        parse(properties)
    body = build_body(event, FAILED, str(raised.value), None, None)
    assert len(body) <= MAX_BODY_BYTES
    reason = json.loads(body)["Reason"]
    assert isinstance(reason, str)
    return reason


@pytest.mark.parametrize("filler", ["x", "é", "日", "\U0001f600", "\udc80"])
def test_every_property_at_3600_characters_is_named_in_the_reason(filler: str) -> None:
    asked: dict[str, object] = {name: filler * 3600 for name in OURS}
    asked["Unknown" + "N" * 3600] = "v"
    reason = reason_sent(asked)
    assert "(shortened" not in reason  # the provider's own list fits: nothing cut from its end
    for name in OURS:
        assert f") {name} " in reason, (name, reason)
    assert "Unknown property 'UnknownNNN" in reason
    assert "(3607 characters)" in reason  # the unknown name: its start and its length
    assert "(3600 characters)" in reason


def test_every_problem_is_named_even_when_there_are_many() -> None:
    asked: dict[str, object] = {name: "Z" * 3600 for name in OURS}
    asked.update({f"Extra{n}" + "q" * 500: "v" for n in range(12)})
    reason = reason_sent(asked)
    listed = int(reason.split(", ", 1)[1].split(" ", 1)[0])
    assert listed == 20
    for n in range(1, listed + 1):
        assert f"({n}) " in reason
    for name in OURS:
        assert f") {name}" in reason, name


@pytest.mark.parametrize(
    ("name", "length", "expected"),
    [
        ("EcrRepositoryPrefix", 31, "is 31 characters long; it must be 2 to 30."),
        ("UpstreamRepositoryPrefix", 31, "is 31 characters long; it must be 2 to 30."),
        ("UpstreamRegistryUrl", 254, "is 254 characters long; it can be at most 253"),
        ("CredentialArn", 613, "is 613 characters long; it must be 50 to 612"),
        ("CustomRoleArn", 2049, "is 2049 characters long; it can be at most 2048"),
        ("UpstreamRegistry", 65, "is not an upstream kind: kinds are at most 64 lowercase"),
    ],
)
def test_every_length_is_checked_before_any_call(name: str, length: int, expected: str) -> None:
    base = {
        "EcrRepositoryPrefix": "x1",
        "UpstreamRegistryUrl": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "CredentialArn": SECRET,
    }
    (problem,) = problems({**base, name: "a" * length})
    assert problem.startswith(f"{name} 'aaaa")
    assert expected in problem


def test_quoted_values_escape_what_does_not_print() -> None:
    (problem,) = problems({**DOCKER, "EcrRepositoryPrefix": "a\tb\udc80"})
    assert problem.startswith("EcrRepositoryPrefix 'a\\tb\\udc80' is not a valid repository prefix")
    problem.encode()  # no lone surrogate left: the answer body can be encoded


def test_past_what_fits_the_reason_says_how_many_more_there_are() -> None:
    asked: dict[str, object] = {**DOCKER, **{f"Unknown{n:02}": "v" for n in range(60)}}
    message = str(InvalidProperties(problems(asked)))
    assert len(message) <= 1450
    assert message.startswith("Invalid properties, 60 problems: (1) Unknown property 'Unknown00'")
    listed = message.count("Unknown property")
    assert 20 <= listed < 60
    assert message.endswith(f"… and {60 - listed} more")


def test_check_says_nothing_of_computed_values_or_what_depends_on_them() -> None:
    # the URL unknown: no kind, so no credential is asked for and ECR-only properties are fine
    assert check({"EcrRepositoryPrefix": "hub", "CustomRoleArn": "r"}, {"UpstreamRegistryUrl"}) == [
        Problem(
            "CustomRoleArn 'r' is not an IAM role ARN: write arn:<partition>:iam::<account>:role/<name> "
            "(e.g. !GetAtt MyRole.Arn).",
            "CustomRoleArn",
        )
    ]
    # a computed credential is a credential given; a computed name is still checked as a name
    assert check({"EcrRepositoryPrefix": "hub", "UpstreamRegistryUrl": "ghcr.io"}, {"CredentialArn"}) == []
    (unknown,) = check({"EcrRepositoryPrefix": "hub", "UpstreamRegistryUrl": "quay.io"}, {"Colour"})
    assert str(unknown).startswith("Unknown property 'Colour'") and unknown.property == "Colour"


# ---------------------------------------------------------------------------------------
# What this version does not know goes to ECR; the mistakes it knows stay refused
# ---------------------------------------------------------------------------------------

UNKNOWN_HOST = "registry.example.dev"
KNOWS = "it knows public.ecr.aws, quay.io, registry.k8s.io, registry-1.docker.io, ghcr.io"


@pytest.mark.parametrize(
    ("properties", "said"),
    [
        ({"UpstreamRegistryUrl": UNKNOWN_HOST}, [f"UpstreamRegistryUrl '{UNKNOWN_HOST}' is not an upstream"]),
        (
            {"UpstreamRegistryUrl": UNKNOWN_HOST, "UpstreamRegistry": "artifactory"},
            ["UpstreamRegistry 'artifactory' is not a kind", f"UpstreamRegistryUrl '{UNKNOWN_HOST}'"],
        ),
        (  # ECR decides whether the new kind takes a role, a credential or an upstream prefix
            {
                "UpstreamRegistryUrl": UNKNOWN_HOST,
                "UpstreamRegistry": "artifactory",
                "CredentialArn": SECRET,
                "CustomRoleArn": "arn:aws:iam::123456789012:role/r",
                "UpstreamRepositoryPrefix": "team",
            },
            ["UpstreamRegistry 'artifactory' is not a kind", f"UpstreamRegistryUrl '{UNKNOWN_HOST}'"],
        ),
        (
            {"UpstreamRegistryUrl": UNKNOWN_HOST, "UpstreamRegistry": "dockerhub"},
            [
                "UpstreamRegistry 'dockerhub' is not a kind this provider version knows "
                "(did you mean 'docker-hub'?",
                f"UpstreamRegistryUrl '{UNKNOWN_HOST}'",
            ],
        ),
    ],
)
def test_an_upstream_this_version_does_not_know_is_parsed_as_written_with_a_warning(
    properties: dict[str, str], said: list[str]
) -> None:
    asked = {"EcrRepositoryPrefix": "new-kind", **properties}
    spec = parse(asked)
    assert spec.upstream_registry_url == UNKNOWN_HOST
    assert spec.upstream_registry == properties.get("UpstreamRegistry")
    assert spec.effective_upstream_registry == properties.get("UpstreamRegistry")
    assert spec.effective_upstream_repository_prefix == properties.get("UpstreamRepositoryPrefix")
    found = warnings(asked)
    assert [w.message[: len(start)] for w, start in zip(found, said, strict=True)] == said
    for warning in found:
        assert "it goes to ECR as written, and ECR accepts or refuses it at deploy time." in warning.message
    assert check(asked) == []


def test_the_warning_lists_the_upstreams_this_version_knows() -> None:
    (warning,) = warnings({"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": UNKNOWN_HOST})
    assert warning.property == "UpstreamRegistryUrl"
    assert KNOWS in warning.message
    assert "<account>.dkr.ecr.<region>.amazonaws.com" in warning.message


def test_a_computed_url_with_an_unknown_kind_warns_of_the_kind_alone() -> None:
    asked = {"EcrRepositoryPrefix": "x1", "UpstreamRegistry": "harbor"}
    (warning,) = warnings(asked, computed={"UpstreamRegistryUrl"})
    assert warning.property == "UpstreamRegistry"
    assert check(asked, computed={"UpstreamRegistryUrl"}) == []


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"UpstreamRegistryUrl": "docker.io", "CredentialArn": SECRET}, "write 'registry-1.docker.io'"),
        ({"UpstreamRegistryUrl": "registry.example.dev/team"}, "has a path: drop the path"),
        ({"UpstreamRegistryUrl": "Registry.Example.Dev"}, "has capital letters"),
        (
            {"UpstreamRegistryUrl": "gitlab.example.com", "UpstreamRegistry": "gitlab-container-registry"},
            "not a self-hosted GitLab",
        ),
        ({"UpstreamRegistryUrl": UNKNOWN_HOST, "UpstreamRegistry": "quay"}, "is not a quay host"),
        ({"UpstreamRegistryUrl": "quay.io", "UpstreamRegistry": "harbor"}, "which is a quay upstream"),
        (
            {"UpstreamRegistryUrl": UNKNOWN_HOST, "CredentialArn": SECRET.replace("pullthroughcache/", "")},
            "ECR only reads secrets whose name starts with 'ecr-pullthroughcache/'",
        ),
        ({"UpstreamRegistryUrl": "ghcr.io"}, "CredentialArn is required for github-container-registry"),
        ({"UpstreamRegistryUrl": "quay.io", "CustomRoleArn": "arn:aws:iam::123456789012:role/r"}, "only for"),
    ],
)
def test_the_mistakes_this_version_knows_are_still_refused_at_once(
    properties: dict[str, str], expected: str
) -> None:
    found = problems({"EcrRepositoryPrefix": "x1", **properties})
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize("partition", PARTITIONS)
def test_a_private_ecr_registry_of_every_partition_is_an_ecr_upstream(partition: str) -> None:
    region, suffix = PARTITIONS[partition]
    host = f"444455556666.dkr.ecr.{region}.{suffix}"
    asked = {
        "EcrRepositoryPrefix": "upstream",
        "UpstreamRegistryUrl": host,
        "UpstreamRegistry": "ecr",
        "UpstreamRepositoryPrefix": "team",
        "CustomRoleArn": f"arn:{partition}:iam::123456789012:role/ecr-ptc",
    }
    spec = parse(asked)
    assert spec.effective_upstream_registry == "ecr"
    assert warnings(asked) == []
