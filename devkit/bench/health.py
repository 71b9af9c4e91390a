"""The health check's cost: check() on an account of 500 stacks, 50 of them
holding one Custom::PullThroughCacheRule each, and 50 rules in ECR; the calls it makes per
operation, its time, and the projection to AWS against the function's 900 s timeout.

    python -m devkit.bench.health [--runs N] [--write]   (the section alone; --write puts it in
                                                           docs/benchmark.md in place of its own)

ECR is the emulator's moto server on 127.0.0.1 (real HTTP); CloudFormation is
devkit.cloudformation.read_api in-process (the five reads, on the wire, 100 items a page): MiniStack
would take minutes to create 500 stacks, and moto's CloudFormation neither pages ListStacks nor
creates a custom resource without invoking its Lambda.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

STACKS, WITH_RULE, RULES = 500, 50, 50
TIMEOUT_S = 900  # template.yaml: HealthFunction's Timeout
ASSUMED_CALL_S = 0.2  # an AWS read in the Region, pessimistic: no per-action rate is published
PAGE = 100
ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = json.dumps(
    {
        "Parameters": {"Prefix": {"Type": "String"}},
        "Resources": {
            "Cache": {
                "Type": "Custom::PullThroughCacheRule",
                "Properties": {
                    "ServiceToken": {"Fn::ImportValue": "ecr-ptc-provider-ServiceToken"},
                    "EcrRepositoryPrefix": {"Ref": "Prefix"},
                    "UpstreamRegistryUrl": "public.ecr.aws",
                },
            },
            "Topic": {"Type": "AWS::SNS::Topic"},
        },
    }
)


def formula(stacks: int, with_rule: int, rules: int, validated: int, exports: int = 1) -> int:
    """The calls check() makes (every stack with at most 100 resources): ListStacks pages
    ceil(S/100) + ListStackResources S + ListExports pages ceil(E/100) once K > 0 + GetTemplate and
    DescribeStacks 2K + DescribePullThroughCacheRules pages ceil(R/100) + one
    ValidatePullThroughCacheRule per managed rule ECR holds."""
    listed = math.ceil(stacks / PAGE) + stacks
    records = (math.ceil(exports / PAGE) + 2 * with_rule) if with_rule else 0
    return listed + records + max(1, math.ceil(rules / PAGE)) + validated


def measure(runs: int = 5) -> dict[str, Any]:
    import boto3

    from devkit.cloudformation.read_api import ReadApi, Stack
    from ecr_ptc_emulator import server
    from health import check
    from health.clients import clients

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's line per request
    emulator, url = server.start()
    try:
        session = boto3.session.Session(  # fake keys of its own, never the caller's
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        cloudformation, ecr = clients(session)
        ecr = session.client("ecr", endpoint_url=url, config=ecr.meta.config)
        api = ReadApi().install(cloudformation)
        api.exports["ecr-ptc-provider-ServiceToken"] = "arn:aws:lambda:us-east-1:123456789012:function:p"
        for n in range(STACKS):
            if n < WITH_RULE:
                resources = {
                    "Cache": ("Custom::PullThroughCacheRule", f"rule-{n}"),
                    "Topic": ("AWS::SNS::Topic", f"t{n}"),
                }
                api.stacks.append(Stack(f"app-{n:03}", TEMPLATE, {"Prefix": f"rule-{n}"}, resources))
            else:
                api.stacks.append(Stack(f"app-{n:03}", resources={"Topic": ("AWS::SNS::Topic", f"t{n}")}))
        for n in range(RULES):
            ecr.create_pull_through_cache_rule(
                ecrRepositoryPrefix=f"rule-{n}", upstreamRegistryUrl="public.ecr.aws"
            )
        ecr_calls: dict[str, int] = {}  # every request sent (a retry too), by its X-Amz-Target

        def count(request: Any, **_: Any) -> None:
            target = request.headers.get("X-Amz-Target", "")
            operation = (target.decode() if isinstance(target, bytes) else str(target)).rsplit(".", 1)[-1]
            ecr_calls[operation] = ecr_calls.get(operation, 0) + 1

        ecr.meta.events.register("before-send.ecr", count)
        times: list[float] = []
        states: dict[str, int] = {}
        calls: dict[str, int] = {}
        # the same 500 stacks none of which holds a rule, alternating: the cost of a stack alone
        with_rules = api.stacks
        bare = [Stack(s.name, resources={"Topic": s.resources["Topic"]}) for s in with_rules]
        bare_times: list[float] = []
        for _ in range(runs):
            for stacks, timed in ((with_rules, times), (bare, bare_times)):
                api.stacks = stacks
                api.calls.clear()
                ecr_calls.clear()
                started = time.perf_counter()
                report = check(cloudformation, ecr)
                timed.append(time.perf_counter() - started)
                if stacks is with_rules:
                    states = {str(state): n for state, n in report.counts.items()}
                    calls = {**api.calls, **ecr_calls}
    finally:
        emulator.stop()
    return {"times": times, "bare_times": bare_times, "states": states, "calls": calls}


def section(r: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str, bool]]]:
    """The "Health check" section's lines, and its budgets (name, measured, target, ok)."""
    calls: dict[str, int] = r["calls"]
    total = sum(calls.values())
    expected = formula(STACKS, WITH_RULE, RULES, validated=WITH_RULE)
    took, bare = median(r["times"]), median(r["bare_times"])
    projected = total * ASSUMED_CALL_S
    per_call = TIMEOUT_S / total
    rows = [
        f"check() (src/health/run.py, the clients of health.clients) on an account of {STACKS} stacks, "
        f"{WITH_RULE} of them holding one Custom::PullThroughCacheRule, and {RULES} rules in ECR "
        "(devkit/bench/health.py; alone: `python -m devkit.bench.health --write`): ECR is the "
        "emulator's server on 127.0.0.1, CloudFormation's five reads are answered in-process on the "
        f"wire by devkit/cloudformation/read_api.py, 100 items a page. {len(r['times'])} runs; states: "
        + ", ".join(f"{n} {s}" for s, n in sorted(r["states"].items()))
        + ".",
        "",
        "| operation | calls | per |",
        "|---|---:|---|",
        *(f"| {op} | {n} | {_per(op)} |" for op, n in sorted(calls.items())),
        f"| **all** | **{total}** | the formula: {expected} |",
        "",
        "Calls = ceil(S/100) ListStacks + S ListStackResources (a stack of at most 100 resources) + "
        "2K (GetTemplate, DescribeStacks) + ceil(E/100) ListExports (once, when K > 0) + ceil(R/100) "
        "DescribePullThroughCacheRules + one ValidatePullThroughCacheRule per managed rule ECR holds: "
        f"S={STACKS}, K={WITH_RULE}, R={RULES}, E=1 gives {expected}, one at a time.",
        "",
        f"Time here: {took:.2f} s a check (median; range {min(r['times']):.2f}-{max(r['times']):.2f}); "
        f"the same {STACKS} stacks without a rule (alternating) {bare:.2f} s: {bare / STACKS * 1000:.2f} ms "
        f"per stack, and {(took - bare) / WITH_RULE * 1000:.1f} ms per rule on top (its stack's record, "
        "its validation, its classification; the emulator's calls take a few ms). In AWS the calls "
        "dominate: CloudFormation and ECR publish no per-action rate for these reads, so at an assumed "
        f"{ASSUMED_CALL_S * 1000:.0f} ms a call the check takes {projected:.0f} s; it stays within the "
        f"{TIMEOUT_S} s timeout as long as a call averages under {per_call:.2f} s, retries and backoff "
        "included. Throttling is retried by botocore's standard mode (10 attempts a call, within "
        "each client's retry quota of 500 tokens, 5 a throttled retry): throttling that lasts fails "
        "the check (CannotRead: the invocation fails, ./dev health exits 2) rather than running "
        "past the timeout (tests/test_health_throttling.py).",
    ]
    budgets = [
        (
            f"Health check calls, {STACKS} stacks / {RULES} rules",
            str(total),
            f"<= {expected} (the formula)",
            total <= expected,
        ),
        (
            f"Health check projected at {ASSUMED_CALL_S * 1000:.0f} ms a call",
            f"{projected:.0f} s",
            f"<= {TIMEOUT_S // 2} s (half the timeout)",
            projected <= TIMEOUT_S / 2,
        ),
    ]
    return rows, budgets


def _per(operation: str) -> str:
    return {
        "ListStacks": "100 stacks a page",
        "ListStackResources": "stack",
        "GetTemplate": "stack holding a rule",
        "DescribeStacks": "stack holding a rule",
        "ListExports": "check (100 exports a page)",
        "DescribePullThroughCacheRules": "check (a page of rules)",
        "ValidatePullThroughCacheRule": "managed rule ECR holds",
    }.get(operation, "")


def write(r: dict[str, Any], path: Path) -> str:
    """Put the section, and its budgets' rows, in `path` (docs/benchmark.md) in place of theirs."""
    rows, budgets = section(r)
    text = "\n".join(["## Health check", "", *rows, ""])
    old = path.read_text()
    start = old.find("## Health check\n")
    if start < 0:
        old = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + 1)
        old = old[:start] + text + (old[end + 1 :] if end >= 0 else "")
    lines = old.split("\n")
    for name, measured, target, ok in budgets:
        row = f"| {name} | {measured} | {target} | {'pass' if ok else '**FAIL**'} |"
        found = [n for n, line in enumerate(lines) if line.startswith(f"| {name} |")]
        if found:
            lines[found[0]] = row
        else:  # after the Budgets table's last row
            last = max(
                n for n, line in enumerate(lines[: lines.index("## Budgets") + 60]) if line.startswith("|")
            )
            lines.insert(last + 1, row)
    path.write_text("\n".join(lines))
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="replace the section in docs/benchmark.md")
    args = parser.parse_args()
    results = measure(args.runs)
    rows, budgets = section(results)
    print("\n".join(rows))
    print(*(f"{n}: {m} ({t}) {'pass' if ok else 'FAIL'}" for n, m, t, ok in budgets), sep="\n")
    if args.write:
        path = ROOT / "docs" / "benchmark.md"
        write(results, path)
        print(f"==> written to {path}", file=sys.stderr)
    sys.exit(0 if all(ok for *_, ok in budgets) else 1)


if __name__ == "__main__":
    main()
