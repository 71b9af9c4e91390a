"""./dev demo: the provider's main job, end to end, offline, on MiniStack.

Starts MiniStack (CloudFormation, Lambda, S3, IAM, Secrets Manager) and the project's ECR
emulator on 127.0.0.1, deploys the provider from template.yaml with the real `sam build` and
`sam deploy`, then deploys consumer stacks from examples/ that import its ServiceToken: creates
rules, rotates a credential in place, changes the upstream under the same prefix, changes the
prefix (a replacement, then the old rule's cleanup), makes an update fail and roll back, breaks
two rules by hand for the provider stack's health function to find (invoked as its schedule
invokes it) and an update to put back, and deletes the stacks. Prints, for each stack
operation, the stack's status, its events with the provider's Reason, the requests the provider
received, the ECR calls they made, the outputs (each with the expression it comes from) and the
rules the registry holds, as devkit/demo/report.py prints them (so does ./dev local), and the
health function's report. Stops everything it started.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from devkit.aws_lambda.scheduled import scheduled_event
from devkit.cloudformation import templates
from devkit.cloudformation.ministack import PROVIDER_STACK, MiniStack, MiniStackError, Operation
from devkit.demo import report

SECRET = json.dumps({"username": "demo", "accessToken": "not-a-real-token"})
HAND_MADE = "team-quay"  # a rule made by hand, outside any stack: the provider must never touch it


class Demo:
    def __init__(self, ms: MiniStack, show_logs: bool) -> None:
        self.ms = ms
        self.show_logs = show_logs
        self.step = 0
        self.function_name = ""
        self.health_function = ""  # the provider stack's HealthFunctionName
        self.logs_shown = 0  # the provider's log lines printed so far (its log group only grows)

    def header(self, title: str, command: str) -> None:
        self.step += 1
        print(f"\n[{self.step}] {title}")
        print(f"    $ {command}")

    def operation(
        self,
        title: str,
        command: str,
        template: dict[str, Any],
        run: Callable[[], Operation],
        note: str = "",
    ) -> Operation:
        self.header(title, command)
        op = run()
        self.show(op, template)
        if note:
            print(report.wrap(f"note: {note}", indent=4))
        if self.show_logs and self.function_name:
            self.logs()
        return op

    def show(self, op: Operation, template: dict[str, Any] | None) -> None:
        report.show(op, template, hand_made={HAND_MADE})

    def rules(self, held: dict[str, dict[str, Any]]) -> None:
        report.rules(held, hand_made={HAND_MADE})

    def logs(self) -> None:
        """The provider's log lines written since the last step (MiniStack's Lambda collects a
        worker's output before the stack operation goes on, so they are all there)."""
        lines = self.ms.function_logs(self.function_name)
        for line in lines[self.logs_shown :]:
            print(f"      log | {line}")
        self.logs_shown = len(lines)

    def health(self) -> None:
        """Invoke the health function as its schedule does and print its report from its log."""
        print(
            f"    $ aws lambda invoke --function-name {self.health_function} "
            "--payload '<the Scheduled Event EventBridge sends>' out.json"
        )
        _, lines = self.ms.invoke(self.health_function, scheduled_event())
        report.health(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--logs", action="store_true", help="print the provider's log lines of each step")
    args = parser.parse_args()
    began = time.monotonic()
    print("MiniStack demo: the provider deployed with sam, consumer stacks from examples/, all on 127.0.0.1")
    try:
        with MiniStack() as ms:
            print(f"MiniStack (CloudFormation, Lambda, S3, IAM, Secrets Manager) on {ms.url}")
            print(f"ECR emulator (pull-through cache rules) on {ms.ecr_url}, reached by the function")
            print("through AWS_ENDPOINT_URL_ECR; every other AWS call goes to MiniStack.")
            run(Demo(ms, args.logs))
            print("\nStopping MiniStack and the ECR emulator.")
        print(f"The demo took {time.monotonic() - began:.0f} s.")
    except MiniStackError as e:
        print(f"\nerror: {e}", file=sys.stderr)
        sys.exit(1)


def run(demo: Demo) -> None:
    ms = demo.ms
    demo.header(
        "Deploy the provider from template.yaml, as the README says",
        "sam build && sam deploy   (samconfig.toml: stack ecr-ptc-provider, CAPABILITY_IAM, resolve_s3)",
    )
    provider = ms.deploy_provider()
    demo.show(provider, None)
    demo.function_name = provider.outputs["FunctionName"]
    demo.health_function = provider.outputs["HealthFunctionName"]
    print(f"    export:    {PROVIDER_STACK}-ServiceToken = {provider.outputs['ServiceToken']}")

    demo.header(
        f"A rule made by hand, outside CloudFormation: '{HAND_MADE}' (the provider must never touch it)",
        f"aws ecr create-pull-through-cache-rule --ecr-repository-prefix {HAND_MADE} "
        "--upstream-registry-url quay.io",
    )
    ms.create_rule(HAND_MADE, "quay.io")
    demo.rules(ms.ecr_rules())

    first = ms.create_secret("ecr-pullthroughcache/azure-2025", SECRET)
    second = ms.create_secret("ecr-pullthroughcache/azure-2026", SECRET)
    print("\n    secrets:   ecr-pullthroughcache/azure-2025 and /azure-2026 in MiniStack's Secrets Manager")

    azure = templates.example("azure")
    params = {"CredentialArn": first, "AzureRegistryName": "contoso"}
    demo.operation(
        "Create a rule for Azure Container Registry (examples/azure.yaml)",
        "aws cloudformation deploy --stack-name azure-cache --template-file examples/azure.yaml "
        "--parameter-overrides AzureRegistryName=contoso CredentialArn=<azure-2025's ARN>",
        azure,
        lambda: ms.create_stack("azure-cache", azure, params),
    )
    params = {**params, "CredentialArn": second}
    demo.operation(
        "Rotate the credential: CredentialArn -> azure-2026 (in place: UpdatePullThroughCacheRule)",
        "aws cloudformation deploy ... --parameter-overrides CredentialArn=<azure-2026's ARN>",
        azure,
        lambda: ms.update_stack("azure-cache", azure, params),
    )
    params = {**params, "AzureRegistryName": "fabrikam"}
    demo.operation(
        "Change the upstream, same prefix: contoso -> fabrikam.azurecr.io (delete + create under 'azure')",
        "aws cloudformation deploy ... --parameter-overrides AzureRegistryName=fabrikam",
        azure,
        lambda: ms.update_stack("azure-cache", azure, params),
    )
    params = {**params, "EcrRepositoryPrefix": "azure-eu"}
    demo.operation(
        "Change the prefix: azure -> azure-eu (a new rule, then CloudFormation deletes the old id)",
        "aws cloudformation deploy ... --parameter-overrides EcrRepositoryPrefix=azure-eu",
        azure,
        lambda: ms.update_stack("azure-cache", azure, params),
        note="CloudFormation sends the old id's Delete in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, with "
        "its own events; MiniStack sends it without them (tests/ministack/test_departures.py).",
    )

    k8s = templates.example("k8s")
    demo.operation(
        "Create a second stack: registry.k8s.io under 'k8s' (examples/k8s.yaml, no credential)",
        "aws cloudformation deploy --stack-name k8s-cache --template-file examples/k8s.yaml",
        k8s,
        lambda: ms.create_stack("k8s-cache", k8s),
    )
    demo.operation(
        f"An update that fails: move k8s-cache to the prefix '{HAND_MADE}', which the hand-made rule holds",
        f"aws cloudformation deploy --stack-name k8s-cache ... "
        f"--parameter-overrides EcrRepositoryPrefix={HAND_MADE}",
        k8s,
        lambda: ms.update_stack("k8s-cache", k8s, {"EcrRepositoryPrefix": HAND_MADE}),
    )
    health_check(demo, {"k8s-cache": (k8s, {}), "azure-cache": (azure, params)}, first)
    for stack, template in (("k8s-cache", k8s), ("azure-cache", azure)):
        demo.operation(
            f"Delete {stack}",
            f"aws cloudformation delete-stack --stack-name {stack}",
            template,
            lambda stack=stack: ms.delete_stack(stack),  # type: ignore[misc]
        )
    print(f"\nRules left in the registry: {', '.join(sorted(ms.ecr_rules())) or '(none)'}")
    print(f"(only '{HAND_MADE}', made by hand: the provider deletes the rules its stacks made, nothing else)")


def health_check(demo: Demo, stacks: dict[str, tuple[dict[str, Any], dict[str, str]]], first: str) -> None:
    """Delete k8s-cache's rule and put azure-cache's back on its first credential, by hand; the
    health function finds both, an update of each stack (a property ECR does not hold: the
    provider's Update reads the rule and puts it back) repairs them, the next run says so."""
    ms = demo.ms
    demo.header(
        "Health check: a rule deleted and another changed by hand, found by the health function, repaired",
        "aws ecr delete-pull-through-cache-rule --ecr-repository-prefix k8s",
    )
    print(
        "    $ aws ecr update-pull-through-cache-rule --ecr-repository-prefix azure-eu "
        "--credential-arn <azure-2025's ARN>"
    )
    ms.delete_rule("k8s")
    ms.ecr().update_pull_through_cache_rule(ecrRepositoryPrefix="azure-eu", credentialArn=first)
    demo.health()
    print("    $ aws cloudformation deploy --stack-name k8s-cache ...; ... --stack-name azure-cache ...")
    print("      (each template with ServiceTimeout: 60 added to the rule: an update it receives)")
    ops = {}
    for stack, (template, parameters) in stacks.items():
        longer = copy.deepcopy(template)
        longer["Resources"]["PullThroughCacheRule"]["Properties"]["ServiceTimeout"] = "60"
        ops[stack] = ms.update_stack(stack, longer, parameters)
    print(f"    status:    {', '.join(f'{stack} {op.status}' for stack, op in ops.items())}")
    for n, request in enumerate(r for op in ops.values() for r in op.requests):
        print(f"    {'provider:' if n == 0 else '':<10} {request.summary()}")
    for n, (stack, op) in enumerate(ops.items()):
        print(f"    {'ECR calls:' if n == 0 else '':<10} {stack}: {', '.join(op.ecr_operations())}")
    demo.health()
    if demo.show_logs:
        demo.logs()


if __name__ == "__main__":
    main()
