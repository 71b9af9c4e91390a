"""One statement of the contract (ecr_ptc_contract), and everything that must follow it: the
JSON Schema it computes accepts and refuses exactly what the handler's `parse` does
(property-based), the handler's attributes and changes are the ones it names, and
docs/reference.md states the same property facts. Pure: no AWS."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

import ecr_ptc_contract as contract
from ecr_ptc_contract import (
    ATTRIBUTES,
    BY_NAME,
    IN_PLACE,
    NEW_RULE,
    PROPERTIES,
    PROVIDER_ONLY,
    UPSTREAMS,
    json_schema,
)
from handler.attributes import attributes
from handler.properties import InvalidProperties, parse
from handler.rules import Rule, changes
from tests import helpers

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference.md"
SCHEMA = json_schema()
VALIDATOR = Draft7Validator(SCHEMA)


def test_the_schema_is_a_valid_draft_07_schema() -> None:
    Draft7Validator.check_schema(SCHEMA)


def test_no_copy_of_the_schema_is_committed() -> None:
    """The schema is computed (json_schema()) wherever it is used, never written to a file."""
    tracked = subprocess.run(
        ["git", "ls-files", "*.json"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    for name in tracked:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert '"$schema": "http://json-schema.org/' not in text, f"{name} holds a JSON Schema"


def test_the_schema_states_each_propertys_default() -> None:
    for prop in PROPERTIES:
        assert SCHEMA["properties"][prop.name].get("default") == prop.default, prop.name
    assert {p.name: p.default for p in PROPERTIES if p.default} == {
        "UpstreamRepositoryPrefix": "ROOT",
        "AdoptExisting": "false",
        "ValidateCredentials": "false",
    }


# ---------------------------------------------------------------------------------------
# The handler's attributes and changes are the ones the contract names
# ---------------------------------------------------------------------------------------


def test_the_contract_names_the_attributes_the_tests_expect() -> None:
    assert set(ATTRIBUTES) == helpers.ATTRIBUTES  # (the tests' own list, written out there)
    assert len(ATTRIBUTES) == len(helpers.ATTRIBUTES)


def test_the_handler_answers_exactly_the_contracts_attributes() -> None:
    spec = parse({"EcrRepositoryPrefix": "q1", "UpstreamRegistryUrl": "quay.io"})
    given = attributes(spec, Rule("q1", "quay.io", "quay"), "123456789012", "us-east-1", "aws")
    assert tuple(given) == ATTRIBUTES
    assert all(isinstance(value, str) for value in given.values())


def test_every_property_ecr_holds_is_an_attribute_and_the_others_are_not() -> None:
    for prop in PROPERTIES:
        assert (prop.name in ATTRIBUTES) == (prop.update != PROVIDER_ONLY), prop.name


ECR_RULE = {
    "EcrRepositoryPrefix": "team",
    "UpstreamRegistryUrl": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    "UpstreamRepositoryPrefix": "prod",
    "CredentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/a-AbCdEf",
    "CustomRoleArn": "arn:aws:iam::123456789012:role/ecr-ptc",
}
CHANGED = {
    "EcrRepositoryPrefix": "other",
    "UpstreamRegistryUrl": "444455556666.dkr.ecr.eu-west-1.amazonaws.com",
    "UpstreamRegistry": "ecr",  # the held rule is of another kind (below)
    "UpstreamRepositoryPrefix": "dev",
    "CredentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/b-AbCdEf",
    "CustomRoleArn": "arn:aws:iam::123456789012:role/other",
}


@pytest.mark.parametrize("prop", [p for p in PROPERTIES if p.update != PROVIDER_ONLY], ids=lambda p: p.name)
def test_a_change_is_made_in_place_exactly_when_the_contract_says_so(prop: contract.Property) -> None:
    held_spec = parse(ECR_RULE)
    held = Rule(
        held_spec.ecr_repository_prefix,
        held_spec.upstream_registry_url,
        "quay" if prop.name == "UpstreamRegistry" else "ecr",
        held_spec.upstream_repository_prefix,
        held_spec.credential_arn,
        held_spec.custom_role_arn,
    )
    (change,) = changes(held, parse({**ECR_RULE, prop.name: CHANGED[prop.name]}))
    assert change.name == prop.name
    assert change.in_place == (prop.update == IN_PLACE)
    if prop.update == IN_PLACE:  # removing it: ECR's update cannot clear it, a new rule can
        (removal,) = changes(held, parse({k: v for k, v in ECR_RULE.items() if k != prop.name}))
        assert (removal.name, removal.in_place) == (prop.name, False)


def test_every_property_says_what_a_change_does() -> None:
    assert {p.name: p.update for p in PROPERTIES} == {
        "EcrRepositoryPrefix": NEW_RULE,
        "UpstreamRegistryUrl": NEW_RULE,
        "UpstreamRegistry": NEW_RULE,
        "UpstreamRepositoryPrefix": NEW_RULE,
        "CredentialArn": IN_PLACE,
        "CustomRoleArn": IN_PLACE,
        "AdoptExisting": PROVIDER_ONLY,
        "ValidateCredentials": PROVIDER_ONLY,
    }


# ---------------------------------------------------------------------------------------
# The schema and parse agree on literal inputs
# ---------------------------------------------------------------------------------------

ACCOUNT, REGION = "123456789012", "us-east-1"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/hub-AbCdEf"
HOSTS = [
    "public.ecr.aws",
    "quay.io",
    "registry.k8s.io",
    "registry-1.docker.io",
    "ghcr.io",
    "registry.gitlab.com",
    "cgr.dev",
    "myregistry.azurecr.io",
    "abcd.azurecr.io",  # 4 characters: not an Azure registry name
    f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
    f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn",
    "docker.io",
    "gitlab.example.com",
    "Quay.IO",
    "ghcr.io/myorg",
    "https://quay.io",
    "quay.io:443",
    "example.com",
    "quay..io",
]
PREFIXES = ["ab", "docker-hub", "team/upstream/", "a--b", "a__b", "ROOT", "root", "root/", "Root", "x" * 30]
ROLES = [f"arn:aws:iam::{ACCOUNT}:role/ecr-ptc", f"arn:aws-cn:iam::{ACCOUNT}:role/path/r", "role/x"]
SECRETS = [
    SECRET,
    SECRET.replace("aws:", "aws-us-gov:", 1),
    SECRET.replace("ecr-pullthroughcache/", ""),
    SECRET.replace(ACCOUNT, "12345"),
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/x",
    SECRET + "!",
]
BOOLEANS = [True, False, "true", "FALSE", "True", "", "yes", "1", " true", 1, None]


def _near(values: list[str]) -> st.SearchStrategy[Any]:
    """Values around the ones given: themselves, padded, cut, lengthened, or of another type."""
    base = st.sampled_from(values)
    return st.one_of(
        base,
        base,
        base.map(lambda v: f" {v}"),
        base.map(lambda v: f"{v}\n"),
        base.map(lambda v: v[:-1]),
        base.map(lambda v: v + "a"),
        base.map(str.upper),
        st.just(""),
        st.none(),
        st.integers(-5, 99),
        st.booleans(),
        st.lists(base, max_size=1),
    )


def _patterned(prop: str) -> st.SearchStrategy[Any]:
    pattern = BY_NAME[prop].pattern
    assert pattern is not None
    return st.from_regex(pattern, fullmatch=True)


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "EcrRepositoryPrefix": st.one_of(_near(PREFIXES), _patterned("EcrRepositoryPrefix")),
    "UpstreamRegistryUrl": st.one_of(
        _near(HOSTS), st.from_regex(UPSTREAMS[0].host_pattern, fullmatch=True), st.text(max_size=12)
    ),
    "UpstreamRegistry": _near([u.kind for u in UPSTREAMS] + ["dockerhub"]),
    "UpstreamRepositoryPrefix": _near(PREFIXES),
    "CredentialArn": st.one_of(_near(SECRETS), _patterned("CredentialArn")),
    "CustomRoleArn": st.one_of(_near(ROLES), _patterned("CustomRoleArn")),
    "AdoptExisting": st.sampled_from(BOOLEANS),
    "ValidateCredentials": st.sampled_from(BOOLEANS),
    # CloudFormation's: any value (not a Lambda ARN of another Region: see NOT_IN_SCHEMA)
    "ServiceToken": st.sampled_from([f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:p", "anything", 3]),
    "ServiceTimeout": st.sampled_from(["300", 7]),
    "Colour": st.just("blue"),
    "credentialArn": st.just(SECRET),
}
VALID_HOSTS = {
    "ecr": [f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com", f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn"],
    "ecr-public": ["public.ecr.aws"],
    "quay": ["quay.io"],
    "k8s": ["registry.k8s.io"],
    "docker-hub": ["registry-1.docker.io"],
    "github-container-registry": ["ghcr.io"],
    "azure-container-registry": ["myregistry.azurecr.io"],
    "gitlab-container-registry": ["registry.gitlab.com"],
    "chainguard": ["cgr.dev"],
}


@st.composite
def properties(draw: st.DrawFn) -> dict[str, Any]:
    """A rule that may be valid (one of each kind, written as the docs say), then changed in
    zero to three places: a property replaced by a value near another, removed, or added."""
    upstream = draw(st.sampled_from(UPSTREAMS))
    chosen: dict[str, Any] = {
        "EcrRepositoryPrefix": draw(st.sampled_from(["ab", "docker-hub", "team/x/", "ROOT"])),
        "UpstreamRegistryUrl": draw(st.sampled_from(VALID_HOSTS[upstream.kind])),
    }
    if draw(st.booleans()):
        chosen["UpstreamRegistry"] = upstream.kind
    if upstream.needs_credential or draw(st.booleans()):
        chosen["CredentialArn"] = draw(st.sampled_from(SECRETS[:2]))
    if upstream.kind == "ecr" and draw(st.booleans()):
        chosen["CustomRoleArn"] = ROLES[0]
    if upstream.kind == "ecr" and draw(st.booleans()):
        chosen["UpstreamRepositoryPrefix"] = draw(st.sampled_from(["ROOT", "team", "a/b"]))
    for name in ("AdoptExisting", "ValidateCredentials", "ServiceToken", "ServiceTimeout"):
        if draw(st.booleans()):
            chosen[name] = draw(VALUES[name])
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(VALUES)))
        if draw(st.integers(0, 4)) == 0:
            chosen.pop(name, None)
        else:
            chosen[name] = draw(VALUES[name])
    return chosen


def parses(candidate: dict[str, Any]) -> bool:
    try:
        parse(candidate)
    except InvalidProperties:
        return False
    return True


def test_the_schema_and_parse_accept_and_refuse_the_same_literal_inputs() -> None:
    verdicts: list[bool] = []

    @settings(  # as many examples as the profile gives (tests/conftest.py)
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(properties())
    def agree(candidate: dict[str, Any]) -> None:
        assume(not _secret_elsewhere(candidate))  # NOT_IN_SCHEMA
        by_schema = VALIDATOR.is_valid(candidate)
        by_parse = parses(candidate)
        if by_schema != by_parse:
            errors = [e.message for e in VALIDATOR.iter_errors(candidate)]
            problems = [] if by_parse else _problems(candidate)
            pytest.fail(f"schema {by_schema}, parse {by_parse}: {candidate!r}\n{errors}\n{problems}")
        verdicts.append(by_parse)

    agree()
    # both verdicts are common, so the agreement says something
    assert verdicts.count(True) > len(verdicts) / 8, verdicts.count(True)
    assert verdicts.count(False) > len(verdicts) / 8, verdicts.count(False)


def _secret_elsewhere(candidate: dict[str, Any]) -> bool:
    """A literal Lambda ServiceToken and a secret ARN of another account or Region."""
    token, secret = candidate.get("ServiceToken"), candidate.get("CredentialArn")
    if not (isinstance(token, str) and isinstance(secret, str)):
        return False
    token_parts, secret_parts = token.split(":"), secret.split(":")
    if len(token_parts) < 5 or len(secret_parts) < 5 or token_parts[2] != "lambda":
        return False
    return secret_parts[3:5] != token_parts[3:5]


def _problems(candidate: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidProperties) as raised:
        parse(candidate)
    return raised.value.problems


@pytest.mark.parametrize(
    "candidate",
    [
        {"EcrRepositoryPrefix": "ROOT", "UpstreamRegistryUrl": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"},
        {
            "EcrRepositoryPrefix": "ROOT",
            "UpstreamRegistryUrl": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
            "UpstreamRepositoryPrefix": "ROOT",
        },
        {
            "EcrRepositoryPrefix": "ROOT",
            "UpstreamRegistryUrl": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
            "UpstreamRepositoryPrefix": "team",
        },
        {"EcrRepositoryPrefix": "hub", "UpstreamRegistryUrl": "docker.io", "UpstreamRegistry": "docker-hub"},
        {"EcrRepositoryPrefix": "hub", "UpstreamRegistryUrl": "registry-1.docker.io"},
        {
            "EcrRepositoryPrefix": "hub",
            "UpstreamRegistryUrl": "registry-1.docker.io",
            "CredentialArn": SECRET,
        },
        {"EcrRepositoryPrefix": "q1", "UpstreamRegistryUrl": "quay.io", "CustomRoleArn": ROLES[0]},
        {"EcrRepositoryPrefix": "q1", "UpstreamRegistryUrl": "quay.io", "CustomRoleArn": ""},
        {"EcrRepositoryPrefix": "q1", "UpstreamRegistryUrl": "quay.io", "UpstreamRegistry": "k8s"},
        {"EcrRepositoryPrefix": "q1", "UpstreamRegistryUrl": "quay.io\n"},
        {"EcrRepositoryPrefix": "q1\n", "UpstreamRegistryUrl": "quay.io"},
        {"EcrRepositoryPrefix": "q1", "UpstreamRegistryUrl": "quay.io", "AdoptExisting": "true\n"},
        {"EcrRepositoryPrefix": "q1", "UpstreamRegistryUrl": "quay.io", "AdoptExisting": None},
        {"EcrRepositoryPrefix": "q1", "UpstreamRegistryUrl": "a" * 63 + ".azurecr.io"},
        {"EcrRepositoryPrefix": "q1", "UpstreamRegistryUrl": ("a" * 62 + ".") * 4 + "io"},
    ],
)
def test_the_schema_and_parse_agree_on_the_edges(candidate: dict[str, Any]) -> None:
    assert VALIDATOR.is_valid(candidate) == parses(candidate)


@pytest.mark.tools  # node
def test_every_pattern_means_the_same_to_ecmascript(tmp_path: Path) -> None:
    """JSON Schema's patterns are ECMA-262: Node's RegExp (with the u flag) reads each the way
    Python does, on samples each side of it, but for the one known difference: Python's `$`
    also matches before a final newline, ECMA's only at the end (Python's \\Z)
    (the handler uses re.fullmatch; the schema refuses padding with its own rule)."""
    samples = [*HOSTS, *PREFIXES, *ROLES, *SECRETS, "TRUE", "false", "", "a b", "ab\n", "é", "ab\n\n"]
    patterns = sorted(_patterns(SCHEMA))
    assert all(p.count("$") == 1 and p.endswith("$") for p in patterns)  # `$` only at the end
    ecma = [p.replace("$", r"\Z") for p in patterns]
    expected = [[re.search(p, s) is not None for s in samples] for p in ecma]
    script = tmp_path / "patterns.js"
    script.write_text(
        "const [patterns, samples] = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "console.log(JSON.stringify(patterns.map(p => samples.map(s => new RegExp(p, 'u').test(s)))));\n",
        encoding="utf-8",
    )
    node = subprocess.run(  # noqa: PLW1510 -- checked below with its output
        ["node", str(script)],
        input=json.dumps([patterns, samples]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert node.returncode == 0, node.stderr
    assert json.loads(node.stdout) == expected


def _patterns(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        found = {schema["pattern"]} if isinstance(schema.get("pattern"), str) else set()
        for value in schema.values():
            found |= _patterns(value)
        return found
    if isinstance(schema, list):
        return set().union(*(_patterns(v) for v in schema)) if schema else set()
    return set()


# ---------------------------------------------------------------------------------------
# docs/reference.md states the contract's facts
# ---------------------------------------------------------------------------------------


def reference_properties() -> dict[str, str]:
    """Each property's entry in the reference's Properties section: name -> its text."""
    text = REFERENCE.read_text(encoding="utf-8")
    section = text.split("\n## Properties\n", 1)[1].split("\n## ", 1)[0]
    entries = re.split(r"^`(\w+)`\n\n", section, flags=re.MULTILINE)
    return {entries[i]: entries[i + 1] for i in range(1, len(entries) - 1, 2)}


def fact(entry: str, label: str) -> str | None:
    """The text after `*Label*:`, up to the next label or the end of the entry's facts."""
    match = re.search(rf"\*{label}\*: (.+?)(?=\s\*[A-Z][a-z ]+\*:|\n\n|\Z)", entry, flags=re.DOTALL)
    return " ".join(match[1].split()) if match else None


@pytest.mark.parametrize("prop", PROPERTIES, ids=lambda p: p.name)
def test_the_reference_states_each_propertys_facts(prop: contract.Property) -> None:
    entry = reference_properties()[prop.name]
    required = fact(entry, "Required")
    assert required is not None
    assert required.startswith("Yes" if prop.required else ("No", "Conditional")), required
    if prop.boolean:
        assert fact(entry, "Allowed values") == '`"true"` | `"false"` (in any case; `""` is `"false"`)'
        return
    if prop.allowed:
        assert fact(entry, "Allowed values") == " | ".join(f"`{v}`" for v in prop.allowed)
        return
    if prop.min_length > 1:
        assert fact(entry, "Minimum") == f"`{prop.min_length}`"
    assert fact(entry, "Maximum") == f"`{prop.max_length}`"
    pattern = fact(entry, "Pattern")
    assert pattern is not None and prop.pattern is not None
    if pattern.startswith("as `"):  # as another property's
        (other,) = re.findall(r"^as `(\w+)`", pattern)
        assert BY_NAME[other].pattern == prop.pattern
    else:
        assert pattern.startswith(f"`{prop.pattern}`"), pattern
    for value in prop.refused:
        assert f"`{value}`" in entry
    if prop.only_for:
        assert entry.startswith(f"For an {prop.only_for.upper()} upstream"), entry[:80]


UPDATE_REQUIRES = {
    NEW_RULE: "Replacement (new rule",
    IN_PLACE: "No interruption when it changes to another",
    PROVIDER_ONLY: "No interruption (no ECR call",
}


@pytest.mark.parametrize("prop", PROPERTIES, ids=lambda p: p.name)
def test_the_reference_states_what_a_change_to_each_property_does(prop: contract.Property) -> None:
    entry = reference_properties()[prop.name]
    update = fact(entry, "Update requires")
    assert update is not None and update.startswith(UPDATE_REQUIRES[prop.update]), update
    if prop.update == IN_PLACE:
        assert "Removing it: Replacement (new rule, same prefix)" in update, update
    if prop.boolean:
        assert fact(entry, "Default") == f'`"{prop.default}"`'


def test_the_reference_lists_every_upstream_with_its_hosts_and_credential() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    table = text.split("\n### Upstreams\n", 1)[1].split("\n\n", 2)[1]
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    listed = {cells[0].strip(" `"): [c.strip() for c in cells[1:]] for cells in rows}
    assert list(listed) == [u.kind for u in UPSTREAMS]
    for upstream in UPSTREAMS:
        hosts, credential = listed[upstream.kind][0], listed[upstream.kind][1]
        assert f"`{upstream.hosts}`" in hosts, (upstream.kind, hosts)
        assert credential.startswith("required" if upstream.needs_credential else ("not", "optional"))
