"""docs/benchmark.md from devkit.bench.measure's results: a table per section, budgets, pass/fail."""

from __future__ import annotations

import statistics
import sys
from typing import Any

from devkit.bench import health
from devkit.bench.ric_cold import FLOOR_MODULE
from devkit.bench.stats import KINDS, MIN_CALLS, median

Json = dict[str, Any]
X = "\u00d7"  # the multiplication sign
BUDGET = 1.5  # every ratio budget
COLD_AIM = 1.10  # the cold start under the runtime client against its floor, in every sample
LAMBDA_MIN_MB = 128
PACKAGE_BUDGET_MB = 5  # zipped
NAMES = {
    "create": "Create",
    "update": "Update in place (CredentialArn)",
    "replace": "Update, replacement (new prefix)",
    "same": "Update, same-prefix replacement",
    "delete": "Delete",
    "noop": "Update, no-op (nothing ECR holds changes)",
}
BARE = {
    "create": "create",
    "update": "describe + update",
    "replace": "create",
    "same": "describe + delete + create",
    "delete": "delete",
    "noop": "describe",
}
OPS = {
    "CreatePullThroughCacheRule": "Create",
    "UpdatePullThroughCacheRule": "Update",
    "DeletePullThroughCacheRule": "Delete",
    "DescribePullThroughCacheRules": "Describe",
    "ValidatePullThroughCacheRule": "Validate",
}
# the handler's packages the floor function does not import (the import profile's groups)
HANDLER_ONLY = ("handler", "aws_lambda_powertools", "crhelper")


def _para(text: str) -> str:
    return " ".join(text.split())


INTRO = _para(
    """
    Written by `./dev bench` (`python -m devkit.bench.measure`); do not edit by hand.
    Each comparison is measured in one run on one machine, its two sides alternating, and
    reported as medians (with the range, fastest to slowest, where it says so). The ECR emulator
    runs as its own server process on 127.0.0.1 (boto3 reaches it through `AWS_ENDPOINT_URL`, or
    `AWS_ENDPOINT_URL_ECR` under the runtime client) and answers go to a real HTTP receiver on
    127.0.0.1, so neither side pays for importing the emulator. Absolute times are this
    machine's and the emulator's (a moto server call takes a few ms, a real ECR call tens): the
    ratios and the call counts are what carry over to AWS.
    """
)
COLD = _para(
    """
    The package `sam build` makes (src/Makefile, run as sam runs it by
    devkit/aws_lambda/package.py: the pinned dependencies, the ECR and CloudFormation models, the
    modules compiled to .pyc) is the task root of AWS's runtime
    interface client, started as the python3.13 image starts it (`python -m awslambdaric
    handler.app.lambda_handler`; awslambdaric as pinned in requirements-ric.txt), with the managed runtime's
    environment and the template's JSON logging, fed by the project's Runtime API on 127.0.0.1
    (devkit/aws_lambda/ric.py). Each run is a new process that answers one Create. The floor is a
    bare boto3 function in the same package, run the same way (devkit/bench/floor_function.py:
    an ECR client at init; per request the one CreatePullThroughCacheRule call and a minimal
    answer PUT with http.client, nothing else). {runs} runs per side, alternating, timed on one
    clock from the process's spawn.
    """
)
BUILT = _para(
    """
    The same comparison from two other packages ({runs} runs of each side, the packages and
    sides alternating), each with the floor function beside the handler. Lambda cannot write
    `__pycache__` into /var/task, so a package without .pyc compiles every module it imports at
    every cold start; src/Makefile (`BuildMethod: makefile`) compiles them at build time instead.
    Spawn to the runtime's /response:
    """
)
PROFILE = _para(
    """
    PYTHONPROFILEIMPORTTIME=1 (what `python -X importtime` sets) in the same runtime processes
    as above, {runs} per side, alternating: self time summed by top-level package, medians. The
    runtime imports the handler's module through importlib, which the profile does not time:
    the module's own body (the ECR client, the Logger; the floor's: its client) is in neither
    column, the modules it imports are.
    """
)
WARM = _para(
    """
    One long-lived process imports `handler.app` and runs, {iterations} times per request type
    (after warm-up rounds), a request through `lambda_handler` (crhelper, dispatch, the ECR
    calls, the logged decision, the answer PUT to the receiver) and, alternately before or after
    it, the bare boto3 calls that request needs, on a client with the handler's configuration.
    Every Update reads the rule first (OldResourceProperties are what the template asked last
    time, not what ECR holds), so its bare calls start with that read too. Setup and clean-up are
    not timed. The last two columns split the handler's time: the answer it must PUT (timed
    alone: a bare http.client PUT of a typical answer), and what remains (crhelper, parsing,
    logging).
    """
)
ANSWERING = _para(
    """
    Most of the handler's excess over the bare calls is the answer itself: CloudFormation
    learns the outcome only from the PUT to the ResponseURL ({put} here, to a receiver on
    127.0.0.1, on a fresh connection as the handler makes it), which the bare calls do not make.
    The rest is crhelper's dispatch, parsing the properties, and the one logged decision.
    """
)
TLS = _para(
    """
    CloudFormation's ResponseURL is an S3 URL: the answer goes over TLS. Here it goes to an HTTPS
    receiver on 127.0.0.1 with a throwaway self-signed certificate, trusted through
    SSL_CERT_FILE: a bundle of the system's CA certificates plus that certificate, so that making a
    default TLS context costs what it costs against S3. The handler answers the Delete of a
    failed Create's id (no ECR call, only the answer), alternating with a bare PUT of a typical
    answer on a fresh connection.
    """
)
ERRORS = _para(
    """
    Error and special paths, one request each: the answer, and the calls the lifecycle
    prescribes for it (no budget; a retry is a call). The paths that read CloudFormation's
    record of the stack (an existing rule met by a Create or an Update) get DescribeStacks and
    ListStackResources answered from the case's stack (devkit.cloudformation.stack_api), the
    rest never make a CloudFormation client. A lost response is one the emulator answers 500
    after the change took effect.
    """
)
SCALE = _para(
    """
    {workers} handler processes (Lambda execution environments: each serves one request at a
    time, and `handler.app` is a per-process singleton) take the stack's requests off one queue,
    as CloudFormation sends the {rules} independent resources concurrently. The emulator admits
    {rate:g} ECR calls/s, reads and writes alike (a token bucket, burst 1; ECR's own quotas are
    per action), and answers ThrottlingException beyond that. Each phase is timed from its first
    request to its last answer; the processes started (paid their cold start) before. Floor =
    calls needed / rate. Rotate = an in-place CredentialArn update of every rule (a read and an
    update each). Medians of {runs} runs.
    """
)
STACKS = _para(
    """
    MiniStack (an independent CloudFormation and Lambda, pinned in requirements-ministack.txt)
    with the provider deployed by the real `sam build && sam deploy`, and a consumer stack of an
    SSM parameter and a Custom::PullThroughCacheRule, against the same template without the
    rule (given the same parameters). The update changes the parameter's value and the rule's
    CredentialArn (in place). Each operation is timed from its API call to the final status
    DescribeStacks reports (polled every 10 ms); "the provider's request" is from MiniStack
    invoking the function to the answer reaching MiniStack. {rounds} rounds, which side goes
    first swapping every round; medians and ranges. MiniStack runs the function in a warm local
    worker and answers in milliseconds, so the absolute difference, not the ratio, is what the
    provider adds; on AWS a stack operation takes seconds and CloudFormation's own work
    dominates it.
    """
)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def span(values: list[float]) -> str:
    """The range of `values`, fastest to slowest, in ms."""
    return f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f}"


def verdict(ok: bool, miss: str = "**FAIL**") -> str:
    return "pass" if ok else miss


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}{X}"


class Report:
    def __init__(self, results: Json) -> None:
        self.r = results
        self.budgets: list[tuple[str, str, str, str]] = []
        self.lines: list[str] = []

    def w(self, *lines: str) -> None:
        self.lines.extend(lines)

    def budget(self, name: str, measured: str, target: str, ok: bool, miss: str = "**FAIL**") -> None:
        self.budgets.append((name, measured, target, verdict(ok, miss)))

    def samples(self, kind: str, side: str, key: str = "elapsed") -> list[float]:
        return [float(s[key]) for s in self.r["warm"]["samples"] if s["kind"] == kind and s["side"] == side]

    # sections -----------------------------------------------------------------------------------

    def cold(self) -> list[str]:
        h, f = self.r["cold"]["handler"], self.r["cold"]["floor"]

        def values(runs: list[Json], key: str) -> list[float]:
            return [float(run[key]) for run in runs]

        def row(label: str, key: str, bold: bool = False) -> str:
            hv, fv = values(h, key), values(f, key)
            mark = "**" if bold else ""
            return (
                f"| {mark}{label}{mark} | {mark}{ms(median(hv))}{mark} | {span(hv)} | "
                f"{mark}{ms(median(fv))}{mark} | {span(fv)} | {mark}{ratio(median(hv), median(fv))}{mark} |"
            )

        fastest = (min(values(h, "response")), min(values(f, "response")))
        put = median(values(h, "put")) / median(values(f, "put"))
        response = median(values(h, "response")) / median(values(f, "response"))
        repeat = self.repeat_ratio()
        again = f"; the same package's other runs below: {repeat:.2f}{X}" if repeat is not None else ""
        self.budget(
            "Cold start under the runtime client: spawn -> first Create answered",
            f"{put:.2f}{X} the floor",
            f"<= {BUDGET}{X}",
            put <= BUDGET,
        )
        self.budget(
            "The same, spawn -> the answer PUT / the runtime's /response (the aim)",
            f"{put:.2f}{X} / {response:.2f}{X} (fastest runs: {fastest[0] / fastest[1]:.2f}{X}{again})",
            f"<= {COLD_AIM:.2f}{X} in every sample",
            max(put, response, repeat or 0.0) <= COLD_AIM,
            "**above the aim**",
        )
        rows = [
            COLD.format(runs=len(h)),
            "",
            "| from the spawn to | handler | range | floor | range | ratio |",
            "|---|---:|---:|---:|---:|---:|",
            row("the runtime asking for work (init: the runtime's start, the imports, the client)", "init"),
            row("the answer PUT received (what CloudFormation waits for)", "put", bold=True),
            row("the runtime's POST /response (the invocation's end)", "response", bold=True),
            row("(the first request alone: event received -> /response)", "request"),
            f"| the runtime's /response, fastest run of each side (the least disturbed by other load) | "
            f"{ms(fastest[0])} | | {ms(fastest[1])} | | {ratio(*fastest)} |",
        ]
        rows += ["", *self.aim_rows()]
        if self.r.get("cold_built"):
            rows += ["", *self.built_rows()]
        return rows

    def repeat_ratio(self) -> float | None:
        """The handler/floor ratio of the same package's cold starts in the second sample (the
        package comparison below), or None when the run made none."""
        built = self.r.get("cold_built") or {}
        if not built.get("built") or not built.get("built_floor"):
            return None
        return median([float(run["response"]) for run in built["built"]]) / median(
            [float(run["response"]) for run in built["built_floor"]]
        )

    def aim_rows(self) -> list[str]:
        h, f = self.r["cold"]["handler"], self.r["cold"]["floor"]
        hr, fr = (median([float(run["response"]) for run in side]) for side in (h, f))
        hi, fi = (median([float(run["init"]) for run in side]) for side in (h, f))
        hq, fq = (median([float(run["request"]) for run in side]) for side in (h, f))
        excess, allowed, repeat = hr - fr, (COLD_AIM - 1) * fr, self.repeat_ratio()
        if excess <= allowed and (repeat is None or repeat <= COLD_AIM):
            return [
                _para(
                    f"""The handler answers within {hr / fr:.2f}{X} the floor's time, inside the
                    aim of {COLD_AIM:.2f}{X}: {ms(abs(excess))} {"more" if excess >= 0 else "less"} than the
                    bare function."""
                )
            ]
        again = f"; the same package's other runs below: {repeat:.2f}{X}" if repeat is not None else ""
        return [
            _para(
                f"""Against the aim of {COLD_AIM:.2f}{X} in every sample: the handler's /response
                comes {ms(excess)} after the floor's ({hr / fr:.2f}{X}{again}); the aim allows
                {ms(allowed)}. Of the excess, {ms(hi - fi)} is init and {ms(hq - fq)} the first
                request (crhelper's dispatch, the property checks and the logged decision; both
                sides make the same one ECR call and answer PUT)."""
            )
        ]

    def module_bodies(self) -> tuple[float, float]:
        """The median self time (seconds) of handler.app's and the floor module's bodies, from
        `python -X importtime -c 'import <module>'` in the runtime's environment."""

        def body(side: str, module: str) -> float:
            found = [
                float(row[0]) / 1e6
                for profile in self.r["module_bodies"][side]
                for row in profile
                if row[3] == module
            ]
            return median(found) if found else 0.0

        return body("handler", "handler.app"), body("floor", FLOOR_MODULE)

    def built_rows(self) -> list[str]:
        built = self.r["cold_built"]
        b = {k: [float(run["response"]) for run in v] for k, v in built.items()}
        m = {k: median(v) for k, v in b.items()}
        rows = [
            BUILT.format(runs=len(built["built"])),
            "",
            "| package | handler | range | floor | range | ratio |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        labels = {
            "built": f"as `sam build` makes it (src/Makefile: {self.r['package']['pyc']} .pyc files)",
            "stripped": "the same without .pyc (SAM's default Python builder)",
            "full": "the same pins with all of botocore's models (the package before the lean build)",
        }
        for key, label in labels.items():
            if key in m:
                rows.append(
                    f"| {label} | {ms(m[key])} | {span(b[key])} | {ms(m[f'{key}_floor'])} | "
                    f"{span(b[f'{key}_floor'])} | {ratio(m[key], m[f'{key}_floor'])} |"
                )
        saved = m["stripped"] - m["built"]
        rows += [
            "",
            _para(
                f"""Both sides pay the compilation, so the ratio holds either way; the absolute cost
                does not: the .pyc in the package take {ms(saved)} off every cold start. The lean
                package's handler answers in {ms(m["built"])} against {ms(m["full"])} with all of
                botocore's models, read from this machine's disk; in Lambda a cold start also
                fetches and unpacks the package, which grows with its size (Memory and package,
                below)."""
            ),
        ]
        return rows

    def imports(self) -> list[str]:
        profiles = self.r["imports"]
        stdlib = sys.stdlib_module_names

        def group(name: str) -> str:
            top = name.split(".", maxsplit=1)[0]
            return "stdlib" if top in stdlib or top.startswith("_") else top

        def totals(profile: list[list[Any]]) -> dict[str, float]:
            sums: dict[str, float] = {}
            for self_us, _, _, name in profile:
                sums[group(str(name))] = sums.get(group(str(name)), 0.0) + float(self_us) / 1000
            return sums

        sides = {side: [totals(p) for p in profiles[side]] for side in ("handler", "floor")}
        names = {k for side in sides.values() for t in side for k in t}
        med = {
            side: {k: median([t.get(k, 0.0) for t in runs]) for k in names} for side, runs in sides.items()
        }
        whole = {side: median([sum(t.values()) for t in runs]) for side, runs in sides.items()}
        order = sorted(names, key=lambda k: (-(med["handler"][k] - med["floor"][k]), k))
        rows = [
            PROFILE.format(runs=len(profiles["handler"])),
            "",
            "| package | handler | floor | handler - floor |",
            "|---|---:|---:|---:|",
        ]
        for k in [k for k in order if abs(med["handler"][k] - med["floor"][k]) >= 0.1 or k in HANDLER_ONLY][
            :12
        ]:
            rows.append(
                f"| {k} | {med['handler'][k]:.1f} ms | {med['floor'][k]:.1f} ms | "
                f"{med['handler'][k] - med['floor'][k]:+.1f} ms |"
            )
        rows.append(
            f"| **every module the profile times** | **{whole['handler']:.1f} ms** | "
            f"**{whole['floor']:.1f} ms** | **{whole['handler'] - whole['floor']:+.1f} ms** |"
        )
        only = sum(med["handler"][k] for k in HANDLER_ONLY if k in names)
        first = self.handler_imports(profiles["handler"])
        rows += [
            "",
            _para(
                f"""The packages only the handler imports ({", ".join(HANDLER_ONLY)}) take
                {only:.1f} ms of self time; the other rows are modules both import (boto3 and its
                dependencies, the standard library), whose share moves with what is imported
                first and with the machine's noise. What the handler's module imports, by
                cumulative time (median):"""
            ),
            "",
            "| import (in handler.app's order) | cumulative |",
            "|---|---:|",
            *[f"| {name} | {value:.1f} ms |" for name, value in first],
        ]
        handler_body, floor_body = self.module_bodies()
        if handler_body:
            rows += [
                "",
                _para(
                    f"""The modules' own bodies, which the runtime's import does not time: under
                    `python -X importtime -c 'import handler.app'` (and the floor's module) from
                    the same package in the same environment, without the runtime client, median
                    of {len(self.r["module_bodies"]["handler"])}: handler.app's body
                    {ms(handler_body)} (its Logger, crhelper's resource and the dispatcher, and an
                    ECR client like the floor's), the floor's {ms(floor_body)} (its ECR client).
                    Both bodies load the same botocore data for their client."""
                ),
            ]
        return rows

    @staticmethod
    def handler_imports(profiles: list[list[Any]]) -> list[tuple[str, float]]:
        """The modules handler.app imports directly (depth 0 once the runtime's bootstrap is
        done), with their median cumulative time, in the order imported."""
        seen: dict[str, list[float]] = {}
        order: list[str] = []
        for profile in profiles:
            started = False
            for _, cumulative_us, depth, name in profile:
                if name == "awslambdaric.lambda_literals":  # the bootstrap's last import before the handler
                    started = True
                    continue
                if started and depth == 0 and not str(name).startswith("encodings"):
                    if name not in seen:
                        order.append(str(name))
                    seen.setdefault(str(name), []).append(float(cumulative_us) / 1000)
        return [(name, median(seen[name])) for name in order]

    def warm(self) -> list[str]:
        rows = [
            WARM.format(iterations=self.r["warm"]["iterations"]),
            "",
            "| request type | handler (median) | handler p90 | bare boto3 calls | bare (median) | ratio "
            "| budget "
            "| | bare answer PUT | handler - calls - PUT |",
            "|---|---:|---:|---|---:|---:|---|---|---:|---:|",
        ]
        worst, ok = 0.0, True
        for kind in KINDS:
            hs, bs, ps = (self.samples(kind, side) for side in ("handler", "bare", "put"))
            hm, bm, pm = median(hs), median(bs), median(ps)
            p90 = statistics.quantiles(hs, n=10)[-1] if len(hs) > 1 else hm
            worst = max(worst, hm / bm)
            ok &= hm / bm <= BUDGET
            rows.append(
                f"| {NAMES[kind]} | {ms(hm)} | {ms(p90)} | {BARE[kind]} | {ms(bm)} | {ratio(hm, bm)} | "
                f"<= {BUDGET}{X} | {verdict(hm / bm <= BUDGET)} | {ms(pm)} | {ms(hm - bm - pm)} |"
            )
        self.budget(
            "Warm latency vs the bare calls (worst request type)", f"{worst:.2f}{X}", f"<= 1.5{X}", ok
        )
        put = median([median(self.samples(kind, "put")) for kind in KINDS])
        return [*rows, "", ANSWERING.format(put=ms(put))]

    def calls(self) -> list[str]:
        rows = ["| request type | ECR calls | minimum | CloudFormation calls | |", "|---|---|---:|---:|---|"]
        ok_all = True
        made_client = self.r["warm"]["cfn_client_made"]
        for kind in KINDS:
            handled = [s for s in self.r["warm"]["samples"] if s["kind"] == kind and s["side"] == "handler"]
            made = sorted({len(s["ops"]) for s in handled})
            ok = made == [MIN_CALLS[kind]] and all(s["status"] == "SUCCESS" for s in handled)
            ok &= made_client is False
            ok_all &= ok
            detail = " + ".join(OPS[o] for o in handled[0]["ops"]) or "none"
            shown = ", ".join(map(str, made))
            rows.append(
                f"| {NAMES[kind]} | {shown} ({detail}), in all {len(handled)} requests | {MIN_CALLS[kind]} | "
                f"{'0' if made_client is False else 'unknown'} | {verdict(ok)} |"
            )
        requests = sum(1 for s in self.r["warm"]["samples"] if s["side"] == "handler")
        self.budget(
            "Success paths at the API-call minimum",
            "all 6" if ok_all else "not all",
            "all (a read before every Update's write)",
            ok_all,
        )
        rows += [
            "",
            _para(
                f"""No success path makes a CloudFormation call: after these {requests} requests
                the warm process had {"not " if made_client is False else ""}made a
                CloudFormation client (it is made on first use, by the error paths below)."""
            ),
            "",
            ERRORS,
            "",
            "| path | answer | ECR calls | which | CloudFormation calls | as designed |",
            "|---|---|---:|---|---|---|",
        ]
        for e in self.r["warm"]["errors"]:
            ops, cfn = e["ops"], e["cfn"]
            calls_ok = e["expected_calls"] is None or len(ops) == e["expected_calls"]
            ok = calls_ok and e["status"] == e["expected_status"] and len(cfn) == e["expected_cfn"]
            which = " -> ".join(OPS[o] for o in ops) if len(ops) <= 4 else f"{OPS[ops[0]]} {X} {len(ops)}"
            expected = (
                "yes"
                if ok
                else f"**no** (expected {e['expected_calls']} ECR and {e['expected_cfn']} "
                f"CloudFormation calls, {e['expected_status']})"
            )
            shown_cfn = ", ".join(cfn) if cfn else "0"
            cells = [e["name"], e["status"], str(len(ops)), which or "none", shown_cfn, expected]
            rows.append(f"| {' | '.join(cells)} |")
        return rows

    def delete(self) -> list[str]:
        answered = median(self.samples("delete", "handler", "answered_after"))
        returned = median(self.samples("delete", "handler"))
        call, put = median(self.samples("delete", "bare")), median(self.samples("delete", "put"))
        ok = answered / call <= BUDGET
        self.budget(
            "Delete answered",
            f"{ms(answered)}, {answered / call:.2f}{X} its one call",
            f"<= 1.5{X} the call",
            ok,
        )
        return [
            "| | time |",
            "|---|---:|",
            f"| the one DeletePullThroughCacheRule call, bare | {ms(call)} |",
            f"| a bare answer PUT | {ms(put)} |",
            f"| **handler: request in -> answer received at the ResponseURL** | **{ms(answered)}** "
            f"({answered / call:.2f}{X} the call) |",
            f"| handler: request in -> invocation returns | {ms(returned)} |",
        ]

    def tls(self) -> list[str]:
        handler, bare = median(self.samples("tls", "handler")), median(self.samples("tls", "put"))
        context = median(self.samples("tls", "context"))
        return [
            TLS,
            "",
            "| | time |",
            "|---|---:|",
            f"| bare PUT on a fresh TLS connection, its TLS context made once | {ms(bare)} |",
            f"| **handler: the Delete of a failed Create's id answered over TLS (no ECR call, only the "
            f"answer)** | **{ms(handler)}** |",
            f"| the handler beyond the bare PUT | {ms(handler - bare)} |",
            f"| for comparison: making one default TLS context (it loads the CA bundle) | {ms(context)} |",
        ]

    def scale(self) -> list[str]:
        s = self.r["scale"]
        rate, rules = s["rate"], s["rules"]
        needed = s["needed"]
        rows = [
            SCALE.format(workers=s["workers"], rules=rules, rate=rate, runs=len(s["runs"])),
            "",
            "| phase | calls needed | floor | measured | ratio | calls made (retries) | failed | rules after "
            "| request latency p50 / max | |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|---|",
        ]
        floor_total = elapsed_total = 0.0
        ok_all = True
        for phase in ("create", "rotate", "delete"):
            runs = [run[phase] for run in s["runs"]]
            floor, elapsed = needed[phase] / rate, median([r["elapsed"] for r in runs])
            made = round(median([r["calls"] for r in runs]))
            failed = max(r["failed"] for r in runs)
            rules_ok = all(r["rules_ok"] for r in runs)
            ok = elapsed / floor <= BUDGET and failed == 0 and rules_ok
            ok_all &= ok
            floor_total, elapsed_total = floor_total + floor, elapsed_total + elapsed
            p50, worst = median([r["latency_p50"] for r in runs]), max(r["latency_max"] for r in runs)
            rows.append(
                f"| {phase} | {needed[phase]} | {floor:.1f} s | {elapsed:.2f} s | {ratio(elapsed, floor)} | "
                f"{made} ({made - needed[phase]}) | {failed} | "
                f"{runs[-1]['rules_after']}{'' if rules_ok else ' (wrong)'} | "
                f"{p50:.2f} s / {worst:.2f} s | {verdict(ok)} |"
            )
        rows.append(
            f"| **stack** | {sum(needed.values())} | {floor_total:.1f} s | {elapsed_total:.2f} s | "
            f"**{ratio(elapsed_total, floor_total)}** | | | | | {verdict(ok_all)} |"
        )
        reasons = sorted(
            {x for run in s["runs"] for p in ("create", "rotate", "delete") for x in run[p]["reasons"]}
        )
        if reasons:
            rows += ["", "Why requests failed:", ""] + [f"- {x[:300]}" for x in reasons]
        self.budget(
            f"{rules}-rule stack vs the throttle floor ({rate:g} calls/s, {s['workers']} processes)",
            f"{elapsed_total / floor_total:.2f}{X}",
            f"<= 1.5{X}, none failed",
            ok_all,
        )
        return rows

    def stacks(self) -> list[str]:
        st = self.r["stacks"]
        samples = st["samples"]

        def values(side: str, phase: str, key: str = "seconds") -> list[float]:
            return [float(s[key]) for s in samples if s["side"] == side and s["phase"] == phase]

        rows = [
            STACKS.format(rounds=st["rounds"]),
            "",
            "| operation | with the rule | range | without | range | added by the provider | "
            "the provider's request | ECR calls |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        added_total = 0.0
        for phase in ("create", "update", "delete"):
            rule, bare, provider = (
                values("rule", phase),
                values("bare", phase),
                values("rule", phase, "provider_s"),
            )
            added = median(rule) - median(bare)
            added_total += added
            ecr = next(s["ecr"] for s in samples if s["side"] == "rule" and s["phase"] == phase)
            rows.append(
                f"| {phase} | {ms(median(rule))} | {span(rule)} | {ms(median(bare))} | {span(bare)} | "
                f"{ms(added)} | {ms(median(provider))} | {' + '.join(OPS[o] for o in ecr)} |"
            )
        first = st["first"]
        rows += [
            "",
            _para(
                f"""Over the consumer's whole life (create, update, delete) the provider adds
                {ms(added_total)} to the stack's operations here. The first Create after the
                provider's deploy took {first["seconds"]:.2f} s, {first["provider_s"]:.2f} s of it
                the provider's request: MiniStack starts the function's worker then (its own
                bootstrap importing the package; the Cold start section above measures AWS's
                runtime client instead). The deploy itself (`sam build && sam deploy` of
                template.yaml) took {st["deploy_s"]:.1f} s."""
            ),
        ]
        return rows

    def memory(self) -> list[str]:
        h, f = self.r["cold"]["handler"], self.r["cold"]["floor"]
        warm, scale = self.r["warm"]["peak_mb"], max(run["peak_mb"] for run in self.r["scale"]["runs"])
        life = self.r["cold"]["lifecycle"]
        first, whole = median([x["peak_first"] for x in h]), median([x["peak_all"] for x in life])
        floor = median([x["peak_first"] for x in f])
        peak = max(whole, warm, scale)
        self.budget("Peak memory of a handler process", f"{peak:.0f} MB", f"< {LAMBDA_MIN_MB} MB", peak < 128)
        handled = [s for s in self.r["warm"]["samples"] if s["side"] == "handler"]
        warm_requests = len(handled) + len(self.r["warm"]["errors"])
        rows = [
            _para(
                """Peak resident memory (VmHWM). The first three rows are runtime processes (the
                runtime interface client's bootstrap included, as in Lambda); the last two are
                plain Python processes running the handler (the bench's warm and scale
                workers)."""
            ),
            "",
            "| process | peak RSS | of 128 MB |",
            "|---|---:|---:|",
            f"| floor: the bare function after its Create | {floor:.1f} MB | {floor / LAMBDA_MIN_MB:.0%} |",
            f"| handler: cold start and first Create | {first:.1f} MB | {first / LAMBDA_MIN_MB:.0%} |",
            f"| handler: after a rule's whole life (7 requests) | {whole:.1f} MB | "
            f"{whole / LAMBDA_MIN_MB:.0%} |",
            f"| handler: the warm process after {warm_requests} requests (and the bench's own clients) | "
            f"{warm:.1f} MB | {warm / LAMBDA_MIN_MB:.0%} |",
            f"| handler: the largest scale-test process | {scale:.1f} MB | {scale / LAMBDA_MIN_MB:.0%} |",
        ]
        return rows + self.package_rows()

    def package_rows(self) -> list[str]:
        package, mib = self.r["package"], 1024 * 1024
        full = package["full"]
        zipped_ok = package["zipped"] <= PACKAGE_BUDGET_MB * mib
        self.budget(
            "Package, zipped",
            f"{package['zipped'] / mib:.1f} MB",
            f"<= {PACKAGE_BUDGET_MB} MB",
            zipped_ok,
        )

        def largest(sizes: Json) -> str:
            return ", ".join(f"{name} {size / mib:.1f} MB" for size, name in sizes["largest"])

        return [
            "",
            "The package (src/Makefile's, as `sam build` makes it; zipped here with DEFLATE) keeps only the "
            "botocore models of the services the provider calls (BOTOCORE_SERVICES: ECR and "
            "CloudFormation; endpoints and partitions for every Region stay) and drops boto3's resource "
            "data, the docs examples and the installers' RECORD files; the Powertools parts the handler "
            "never imports ship as source without .pyc. The last column is the same pins as installed, "
            "with all of botocore's models, as the package was before:",
            "",
            "| | size | Lambda's limit | budget | all models |",
            "|---|---:|---:|---:|---:|",
            f"| **zipped** | **{package['zipped'] / mib:.1f} MB** | 50 MB (direct upload) | "
            f"<= {PACKAGE_BUDGET_MB} MB, {verdict(zipped_ok)} | {full['zipped'] / mib:.1f} MB |",
            f"| unzipped | {package['unzipped'] / mib:.1f} MB | 250 MB | | {full['unzipped'] / mib:.1f} MB |",
            f"| .pyc files | {package['pyc']} | | | {full['pyc']} |",
            f"| largest parts, unzipped | {largest(package)} | | | {largest(full)} |",
        ]

    # the whole ----------------------------------------------------------------------------------

    def health(self) -> list[str]:
        rows, budgets = health.section(self.r["health"])
        for budget in budgets:
            self.budget(*budget)
        return rows

    def render(self) -> str:
        sections = [
            ("Cold start under AWS's runtime interface client", self.cold()),
            ("Import profile: what the handler imports beyond the floor", self.imports()),
            ("Warm latency", self.warm()),
            ("ECR API calls per request", self.calls()),
            ("Time to answer a Delete", self.delete()),
            ("The answer over TLS", self.tls()),
            ("Scale: a 50-rule stack against a throttled ECR", self.scale()),
            ("A consumer stack on MiniStack: what the provider adds to a deploy", self.stacks()),
            ("Memory and package", self.memory()),
            ("Health check", self.health()),
        ]
        m = self.r["machine"]
        quick = " --quick" if self.r["quick"] else ""
        self.w(
            "# Benchmark",
            "",
            INTRO,
            "",
            f"- Machine: {m['cpu']}, {m['cores']} cores; load average at the start "
            f"{', '.join(f'{x:.2f}' for x in m['load'])}",
            f"- Python: {m['python']} on {m['platform']}",
            f"- Date: {m['date']}",
            f"- Command: `./dev bench{quick}` ({len(self.r['cold']['handler'])} cold starts per side, "
            f"{self.r['warm']['iterations']} warm rounds per request type, {len(self.r['scale']['runs'])} "
            f"scale runs, {self.r['stacks']['rounds']} rounds on MiniStack); it took "
            f"{self.r['duration_s']:.0f} s",
            "",
            "## Budgets",
            "",
            "| budget | measured | target | |",
            "|---|---|---|---|",
        )
        self.w(
            *(
                f"| {name} | {measured} | {target} | {shown} |"
                for name, measured, target, shown in self.budgets
            )
        )
        for title, rows in sections:
            level = "###" if title.startswith("Import profile") else "##"
            self.w("", f"{level} {title}", "", *rows)
        self.w("")
        return "\n".join(self.lines)


def report(results: Json) -> str:
    return Report(results).render()
