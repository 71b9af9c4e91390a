"""What the provider adds to a deploy: one consumer stack created, updated and deleted on
MiniStack (devkit/cloudformation/ministack.py: its CloudFormation and Lambda, the provider
deployed with the real `sam build && sam deploy`), against the same stack without the custom
resource.

The consumer holds an SSM parameter and the rule; its update changes both (the parameter's
value, the rule's CredentialArn: an in-place update). The stack without the rule is the same
template less that resource, given the same parameters, so its update changes the parameter
only. The two alternate (which goes first swaps every round); each operation is timed from its
API call to the final status DescribeStacks reports (polled every 10 ms), and the provider's
part of it from MiniStack invoking the function to the answer reaching MiniStack (the recorder
beside it writes both moments).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devkit.cloudformation.ministack import PROVIDER_STACK, MiniStack, Operation

Json = dict[str, Any]
POLL_S = 0.01
SECRET = {"username": "bench", "accessToken": "bench"}
EXPECTED = {"create": "CREATE_COMPLETE", "update": "UPDATE_COMPLETE", "delete": "DELETE_COMPLETE"}
PHASES = ("create", "update", "delete")


def consumer(prefix: str, revision: int, credential: str, with_rule: bool) -> Json:
    """The consumer stack's template (a dict, as MiniStack takes it)."""
    resources: Json = {
        "Settings": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": f"{prefix} revision {revision}"},
        }
    }
    if with_rule:
        resources["Cache"] = {
            "Type": "Custom::PullThroughCacheRule",
            "Properties": {
                "ServiceToken": {"Fn::ImportValue": f"{PROVIDER_STACK}-ServiceToken"},
                "EcrRepositoryPrefix": prefix,
                "UpstreamRegistryUrl": "ghcr.io",
                "UpstreamRegistry": "github-container-registry",
                "CredentialArn": credential,
            },
        }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def _sample(op: Operation, side: str, phase: str) -> Json:
    if op.status != EXPECTED[phase]:
        raise RuntimeError(f"{op.stack_name} {phase}: {op.status} {op.status_reason} {op.reasons()}")
    answered = [r for r in op.requests if r.answer is not None]
    if side == "rule" and (len(answered) != 1 or answered[0].answer is None):
        raise RuntimeError(f"{op.stack_name} {phase}: requests {op.request_summaries()}")
    if side == "rule" and answered[0].answer is not None and answered[0].answer.get("Status") != "SUCCESS":
        raise RuntimeError(f"{op.stack_name} {phase}: {op.request_summaries()}")
    return {
        "side": side,
        "phase": phase,
        "seconds": op.seconds,
        "provider_s": answered[0].answered_at - answered[0].sent_at if answered else 0.0,
        "ecr": op.ecr_operations(),
    }


def measure(rounds: int, say: Callable[[str], None]) -> Json:
    """Start MiniStack, deploy the provider, run `rounds` of the comparison; the results."""
    with tempfile.TemporaryDirectory(prefix="ecr-ptc-bench-sam-") as work, MiniStack(poll_s=POLL_S) as ms:
        say("stack operations on MiniStack: sam build && sam deploy of the provider")
        began = time.monotonic()
        deployed = ms.deploy_provider(build_dir=Path(work))
        if deployed.status != "CREATE_COMPLETE":
            raise RuntimeError(
                f"the provider's deploy ended {deployed.status}:\n{deployed.output_text[-3000:]}"
            )
        deploy_s = time.monotonic() - began
        a, b = (ms.create_secret(f"ecr-pullthroughcache/bench-{n}", SECRET) for n in ("a", "b"))
        # the function's first request: MiniStack starts its worker (imports the package)
        first = _sample(ms.create_stack("bench-first", consumer("bench-first", 1, a, True)), "rule", "create")
        _sample(ms.delete_stack("bench-first"), "rule", "delete")
        say(f"stack operations on MiniStack: {rounds} rounds, with and without the rule, alternating")
        samples: list[Json] = []
        for i in range(rounds):
            order = [("rule", True), ("bare", False)]
            order = order if i % 2 == 0 else order[::-1]
            names = {side: f"bench-{side}-{i}" for side, _ in order}
            for phase in PHASES:
                for side, with_rule in order:
                    name = names[side]
                    if phase == "create":
                        op = ms.create_stack(name, consumer(name, 1, a, with_rule))
                    elif phase == "update":
                        op = ms.update_stack(name, consumer(name, 2, b, with_rule))
                    else:
                        op = ms.delete_stack(name)
                    samples.append(_sample(op, side, phase) | {"round": i})
        left = ms.ecr_rules()
        if left:
            raise RuntimeError(f"rules left after the stack operations: {sorted(left)}")
    return {"deploy_s": deploy_s, "first": first, "samples": samples, "rounds": rounds}
