"""`./dev translate`: template.yaml without the SAM transform, for service-managed StackSets.

Service-managed StackSets refuse templates with a transform (they cannot acknowledge
CAPABILITY_AUTO_EXPAND), so this runs AWS's own SAM translator (aws-sam-translator, pinned in
requirements-tools.txt) offline on the real template and writes plain CloudFormation JSON.
The functions' code cannot be a local path there: it is read from a bucket in each Region,
`<CodeBucketPrefix>-<Region>`, under `CodeKey` (docs/rollout.md shows how to upload it). Both
functions (the provider and its health check) run the one package src/Makefile builds.
The SAR metadata (local LicenseUrl/ReadmeUrl paths) is dropped; everything else is what
`sam deploy` would create. Runs in .venv-tools, where the translator lives.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

from devkit.cloudformation import templates

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = "ProviderFunction"
FUNCTIONS = (FUNCTION, "HealthFunction")  # one package (src/Makefile), so one CodeKey for both
PLACEHOLDER = "s3://code-bucket-set-below/code-key-set-below.zip"

CODE_PARAMETERS: dict[str, dict[str, Any]] = {
    "CodeBucketPrefix": {
        "Type": "String",
        "AllowedPattern": "[a-z0-9][a-z0-9.-]{1,40}",
        "Description": (
            "Prefix of the buckets holding the provider's package, one per Region: the "
            "function's code is read from <CodeBucketPrefix>-<Region> (e.g. "
            "my-org-lambda-code-<Region>), which every target account must be able to read."
        ),
    },
    "CodeKey": {
        "Type": "String",
        "AllowedPattern": "[a-zA-Z0-9!_.*'()/-]+\\.zip",
        "Description": "Key of the package zip in each Region's bucket, e.g. ecr-ptc-provider/1.0.0.zip",
    },
}


class _NoManagedPolicies:
    """The translator's managed-policy loader (it would call IAM): the template names none."""

    def load(self) -> dict[str, str]:
        return {}


def translate(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, its code read from the per-Region bucket."""
    from samtranslator.translator.transform import transform

    # The translator wants a Region for its pseudo-parameter values; the output must not depend
    # on it (tests/test_distribution.py checks that no Region name is left in it).
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    source = copy.deepcopy(sam_template)
    for name in FUNCTIONS:
        source["Resources"][name]["Properties"]["CodeUri"] = PLACEHOLDER
    source.get("Metadata", {}).pop("AWS::ServerlessRepo::Application", None)
    output: dict[str, Any] = transform(source, {}, _NoManagedPolicies())
    for name in FUNCTIONS:
        function = output["Resources"][name]
        if function["Type"] != "AWS::Lambda::Function":
            raise RuntimeError(f"{name} translated to {function['Type']}, not AWS::Lambda::Function")
        function["Properties"]["Code"] = {
            "S3Bucket": {"Fn::Sub": "${CodeBucketPrefix}-${AWS::Region}"},
            "S3Key": {"Ref": "CodeKey"},
        }
    output["Parameters"] = {**CODE_PARAMETERS, **output.get("Parameters", {})}
    interface = output.get("Metadata", {}).get("AWS::CloudFormation::Interface")
    if interface is not None:
        interface["ParameterGroups"].insert(
            0, {"Label": {"default": "Package (one bucket per Region)"}, "Parameters": list(CODE_PARAMETERS)}
        )
    output["Description"] = (
        f"{sam_template['Description']} Translated from template.yaml by ./dev translate "
        "(no transform: for service-managed StackSets)."
    )
    if "Transform" in output or any(
        str(r.get("Type", "")).startswith("AWS::Serverless::") for r in output["Resources"].values()
    ):
        raise RuntimeError("the translated template still needs the SAM transform")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev translate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument(
        "--output", type=Path, default=ROOT / ".aws-sam" / "provider-stackset.json", help="(JSON)"
    )
    args = parser.parse_args(argv)
    sam_template = templates.load(args.template)
    output = translate(sam_template)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output} ({len(output['Resources'])} resources, no transform)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
