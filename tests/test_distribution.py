"""Distribution: the SAR metadata within SAR's documented limits, the stack that nests the
provider from SAR, the template without the transform for service-managed StackSets
(./dev translate, AWS's SAM translator run offline), and the StackSet of standard rules.

The `tools` tests run the real cfn-lint and the SAM translator of .venv-tools (./dev test puts
its bin on PATH) and fail, never skip, when they are missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from devkit.release.version import SEMVER
from tests.test_template import (
    ROOT,
    TEMPLATE,
    custom_rules,
    load_cfn,
    output_of,
    require_tool,
    resources_of_type,
    run_tool,
)

SAR = "AWS::ServerlessRepo::Application"
CONSUMER = ROOT / "examples" / "sar-consumer.yaml"
STANDARD_RULES = ROOT / "examples" / "stackset-standard-rules.yaml"
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def sar() -> dict[str, Any]:
    return dict(load_cfn(TEMPLATE)["Metadata"][SAR])


# ---------------------------------------------------------------------------------------
# SAR metadata: AWS SAM Developer Guide, "AWS SAM template Metadata section properties"
# ---------------------------------------------------------------------------------------


def test_the_sar_metadata_has_every_field_a_public_application_needs(sar: dict[str, Any]) -> None:
    fields = {"Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl", "Labels"}
    fields |= {"HomePageUrl", "SemanticVersion", "SourceCodeUrl"}
    assert set(sar) == fields


def test_the_sar_metadata_is_literals_only(sar: dict[str, Any]) -> None:
    # SAR does not support intrinsic functions in this key.
    for key, value in sar.items():
        values = value if isinstance(value, list) else [value]
        assert all(isinstance(v, str) for v in values), f"{key} must be a literal string, got {value!r}"


def test_name_description_and_author_are_within_sars_limits(sar: dict[str, Any]) -> None:
    assert 1 <= len(sar["Name"]) <= 140 and re.fullmatch(r"[a-zA-Z0-9\-]+", sar["Name"])
    assert 1 <= len(sar["Description"]) <= 256, len(sar["Description"])
    assert 1 <= len(sar["Author"]) <= 127
    assert re.fullmatch(r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?", sar["Author"])


def test_labels_are_within_sars_limits(sar: dict[str, Any]) -> None:
    labels = sar["Labels"]
    assert 1 <= len(labels) <= 10
    for label in labels:
        assert 1 <= len(label) <= 127 and re.fullmatch(r"[a-zA-Z0-9+\-_:/@]+", label), label
    assert len(set(labels)) == len(labels)


def test_license_and_readme_are_local_files_sam_package_can_upload(sar: dict[str, Any]) -> None:
    assert sar["SpdxLicenseId"] == "Apache-2.0"
    license_file, readme = ROOT / sar["LicenseUrl"], ROOT / sar["ReadmeUrl"]
    license_text = license_file.read_text(encoding="utf-8")
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text, "the full license text"
    assert readme.suffix == ".md"
    for path in (license_file, readme):
        assert 0 < path.stat().st_size <= FIVE_MB, f"{path.name}: SAR takes at most 5 MB"


def test_urls_and_version(sar: dict[str, Any]) -> None:
    for key in ("HomePageUrl", "SourceCodeUrl"):
        assert re.fullmatch(r"https://[a-z0-9.-]+/\S+", sar[key]), f"{key}: {sar[key]!r}"
    assert SEMVER.fullmatch(sar["SemanticVersion"])


# ---------------------------------------------------------------------------------------
# The consumer that nests the provider from SAR
# ---------------------------------------------------------------------------------------


def test_the_consumer_nests_the_provider_and_uses_its_service_token() -> None:
    consumer = load_cfn(CONSUMER)
    assert consumer["Transform"] == "AWS::Serverless-2016-10-31"
    (name, app), = resources_of_type(consumer, "AWS::Serverless::Application").items()  # fmt: skip
    assert app["Properties"]["Location"] == {
        "ApplicationId": {"Ref": "ProviderApplicationId"},
        "SemanticVersion": {"Ref": "ProviderVersion"},
    }
    provider_parameters = set(load_cfn(TEMPLATE)["Parameters"])
    assert set(app["Properties"].get("Parameters", {})) <= provider_parameters
    rule = custom_rules(consumer)["PullThroughCacheRule"]["Properties"]
    assert rule["ServiceToken"] == {"Fn::GetAtt": [name, "Outputs.ServiceToken"]}
    assert "ServiceToken" in load_cfn(TEMPLATE)["Outputs"]


# ---------------------------------------------------------------------------------------
# The StackSet of standard rules
# ---------------------------------------------------------------------------------------


def test_the_standard_rules_are_the_expected_upstreams() -> None:
    template = load_cfn(STANDARD_RULES)
    rules = custom_rules(template)
    upstreams = {name: r["Properties"]["UpstreamRegistry"] for name, r in rules.items()}
    assert upstreams == {
        "EcrPublicRule": "ecr-public",
        "QuayRule": "quay",
        "K8sRule": "k8s",
        "DockerHubRule": "docker-hub",
        "GhcrRule": "github-container-registry",
    }
    assert len(rules) <= 50, "ECR allows 50 rules per registry and Region"
    for rule in rules.values():
        assert rule["Properties"]["ServiceToken"] == {"Fn::ImportValue": {"Ref": "ServiceTokenExportName"}}
        assert rule["Properties"]["AdoptExisting"] == {"Ref": "AdoptExisting"}
    # the provider's StackSet and this one agree on the export's name by default
    assert template["Parameters"]["ServiceTokenExportName"]["Default"] == "ecr-ptc-provider-ServiceToken"


@pytest.mark.parametrize(("rule", "secret", "token"), [
    ("DockerHubRule", "DockerHubCredentials", "DockerHubAccessToken"),
    ("GhcrRule", "GhcrCredentials", "GhcrToken"),
])  # fmt: skip
def test_credentialed_rules_exist_only_with_their_secret(rule: str, secret: str, token: str) -> None:
    template = load_cfn(STANDARD_RULES)
    resources = template["Resources"]
    condition = resources[rule]["Condition"]
    assert resources[secret]["Condition"] == condition
    assert template["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": token}, ""]}]}
    assert resources[rule]["Properties"]["CredentialArn"] == {"Ref": secret}
    assert resources[secret]["Properties"]["Name"]["Fn::Sub"].startswith("ecr-pullthroughcache/")
    assert template["Parameters"][token]["NoEcho"] is True
    assert template["Parameters"][token]["Default"] == ""


@pytest.mark.tools
@pytest.mark.parametrize("path", [CONSUMER, STANDARD_RULES], ids=lambda p: p.name)
def test_cfn_lint_is_clean(path: Path) -> None:
    result = run_tool([require_tool("cfn-lint"), str(path)], cwd=ROOT)
    assert result.returncode == 0, output_of(result)


# ---------------------------------------------------------------------------------------
# ./dev translate: the provider without the transform, for service-managed StackSets
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`./dev translate`, which runs it with .venv-tools' Python, where the translator is."""
    require_tool("cfn-lint")  # .venv-tools is there
    output = tmp_path_factory.mktemp("translate") / "provider-stackset.json"
    result = run_tool(["bash", str(ROOT / "dev"), "translate", "--output", str(output)], cwd=ROOT)
    assert result.returncode == 0, output_of(result)
    return output


@pytest.mark.tools
def test_the_translated_template_passes_cfn_lint(translated: Path) -> None:
    result = run_tool([require_tool("cfn-lint"), str(translated)], cwd=ROOT)
    assert result.returncode == 0, output_of(result)


@pytest.mark.tools
def test_the_translated_template_needs_no_transform_and_reads_code_from_each_region(translated: Path) -> None:
    template = json.loads(translated.read_text(encoding="utf-8"))
    assert "Transform" not in template
    types = {r["Type"] for r in template["Resources"].values()}
    assert not any(t.startswith("AWS::Serverless::") for t in types), types
    for function in ("ProviderFunction", "HealthFunction"):  # one package, src/Makefile's
        code = template["Resources"][function]["Properties"]["Code"]
        assert code == {
            "S3Bucket": {"Fn::Sub": "${CodeBucketPrefix}-${AWS::Region}"},
            "S3Key": {"Ref": "CodeKey"},
        }, function
    assert {"CodeBucketPrefix", "CodeKey", "ServiceTokenExportName"} <= set(template["Parameters"])
    assert SAR not in template.get("Metadata", {}), "SAR metadata names local files"
    # It works in every Region: the Region the translator ran with is nowhere in it.
    assert not re.search(
        r"\b(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b", translated.read_text(encoding="utf-8")
    )


@pytest.mark.tools
def test_the_translated_template_creates_what_the_sam_template_declares(translated: Path) -> None:
    plain, sam = json.loads(translated.read_text(encoding="utf-8")), load_cfn(TEMPLATE)
    for name in ("ProviderRole", "ProviderLogsPolicy", "ProviderLogGroup", "ProviderInvokePermission"):
        assert plain["Resources"][name]["Properties"] == sam["Resources"][name]["Properties"], name
    assert plain["Outputs"] == sam["Outputs"]
    function = plain["Resources"]["ProviderFunction"]["Properties"]
    globals_ = sam["Globals"]["Function"]
    for key in ("Runtime", "Architectures", "Timeout", "MemorySize", "Environment", "LoggingConfig"):
        assert function[key] == globals_[key], key
    assert function["Handler"] == sam["Resources"]["ProviderFunction"]["Properties"]["Handler"]
