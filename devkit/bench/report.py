"""docs/benchmark.md from devkit.bench.measure's results: a table per section, budgets, pass/fail."""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

from devkit.bench.stats import KINDS, median

Json = dict[str, Any]
X = "\u00d7"  # the multiplication sign
BUDGET = 1.5  # every ratio budget of issue 5
LAMBDA_MIN_MB = 128
PACKAGE_BUDGET_MB = 5  # zipped (issue 11)
NAMES = {
    "create": "Create",
    "update": "Update in place (CredentialArn)",
    "replace": "Update, replacement (new prefix)",
    "same": "Update, same-prefix replacement",
    "delete": "Delete",
    "noop": "Update, no-op (nothing ECR holds changes)",
}
MIN_CALLS = {"create": 1, "update": 1, "replace": 1, "same": 2, "delete": 1, "noop": 0}
BARE = {
    "create": "create",
    "update": "update",
    "replace": "create",
    "same": "delete + create",
    "delete": "delete",
    "noop": "(none)",
}
OPS = {
    "CreatePullThroughCacheRule": "Create",
    "UpdatePullThroughCacheRule": "Update",
    "DeletePullThroughCacheRule": "Delete",
    "DescribePullThroughCacheRules": "Describe",
    "ValidatePullThroughCacheRule": "Validate",
}


def _para(text: str) -> str:
    return " ".join(text.split())


INTRO = _para(
    """
    Written by `./dev bench` (`python -m devkit.bench.measure`); do not edit by hand.
    Each comparison is measured in one run on one machine, its two sides alternating, and
    reported as medians. The ECR emulator runs as its own server process on 127.0.0.1 (boto3
    reaches it through `AWS_ENDPOINT_URL`) and answers go to a real HTTP receiver on 127.0.0.1,
    so neither side pays for importing the emulator. Absolute times are this machine's and the
    emulator's (a moto server call takes a few ms, a real ECR call tens): the ratios and the call
    counts are what carry over to AWS.
    """
)
COLD = _para(
    """
    Fresh interpreters, {runs} per side, alternating. The handler side imports `handler.app`
    (Powertools Logger, crhelper, boto3 and the ECR client, all made at import) and answers a
    Create to the receiver; the floor imports boto3, creates an ECR client and makes the same
    single CreatePullThroughCacheRule call. Libraries load from the virtualenv's .pyc; the
    handler's own modules compile from source, as in Lambda. Timed from each interpreter's first
    line; the last row adds interpreter start-up and exit.
    """
)
BUILT = _para(
    """
    The same first Create ({runs} runs each) with the **built package** on PYTHONPATH (its own
    boto3, as it ships), both sides importing from it. Lambda cannot write `__pycache__` into
    /var/task, so a package without .pyc compiles every module it imports at every cold start;
    src/Makefile (`BuildMethod: makefile`) compiles them at build time instead:
    """
)
PYC = _para(
    """
    Both sides pay the compilation, so the ratio holds either way; the absolute cost does not:
    the .pyc in the package take {saved} off every cold start.
    """
)
WARM = _para(
    """
    One long-lived process imports `handler.app` and runs, {iterations} times per request type
    (after warm-up rounds), a request through `lambda_handler` (crhelper, dispatch, the ECR
    calls, the logged decision, the answer PUT to the receiver) and, alternately before or after
    it, the bare boto3 calls that request needs, on a client with the handler's configuration.
    Setup and clean-up are not timed. The last two columns split the handler's time: the answer
    it must PUT (timed alone: a bare http.client PUT of a typical answer), and what remains
    (crhelper, parsing, logging).
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
    receiver on 127.0.0.1 whose certificate comes from a throwaway CA, trusted through
    SSL_CERT_FILE: a bundle of the system's CA certificates plus that CA, so that making a
    default TLS context costs what it costs against S3. The handler answers a no-op Update (no
    ECR call), alternating with a bare PUT of a typical answer on a fresh connection.
    """
)
ERRORS = _para(
    """
    Error and special paths, one request each: the answer, and the calls the lifecycle
    prescribes for it (no budget; a retry is a call).
    """
)
SCALE = _para(
    """
    {workers} handler processes (Lambda execution environments: each serves one request at a
    time, and `handler.app` is a per-process singleton) take the stack's requests off one queue,
    as CloudFormation sends the {rules} independent resources concurrently. The emulator admits
    {rate:g} ECR calls/s (a token bucket, burst 1) and answers ThrottlingException beyond that.
    Each phase is timed from its first request to its last answer; the processes started (paid
    their cold start) before. Floor = calls needed / rate. Rotate = an in-place CredentialArn
    update of every rule. Medians of {runs} runs.
    """
)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}{X}"


class Report:
    def __init__(self, results: Json, args: argparse.Namespace) -> None:
        self.r = results
        self.args = args
        self.budgets: list[tuple[str, str, str, bool]] = []
        self.lines: list[str] = []

    def w(self, *lines: str) -> None:
        self.lines.extend(lines)

    def samples(self, kind: str, side: str, key: str = "elapsed") -> list[float]:
        return [float(s[key]) for s in self.r["warm"]["samples"] if s["kind"] == kind and s["side"] == side]

    # sections -----------------------------------------------------------------------------------

    def cold(self) -> list[str]:
        h, f = self.r["cold"]["handler"], self.r["cold"]["floor"]

        def med(runs: list[Json], key: str) -> float:
            return median([run[key] for run in runs])

        first = med(h, "first") / med(f, "first")
        self.budgets.append(
            (
                "Cold start: import + first Create answered",
                f"{first:.2f}{X} the floor",
                f"<= 1.5{X}",
                first <= BUDGET,
            )
        )
        rows = [
            COLD.format(runs=len(h)),
            "",
            "| | handler | floor | ratio |",
            "|---|---:|---:|---:|",
            f"| init: imports, ECR client | {ms(med(h, 'init'))} | {ms(med(f, 'init'))} | "
            f"{ratio(med(h, 'init'), med(f, 'init'))} |",
            f"| **init + first request answered (budget {BUDGET}{X})** | **{ms(med(h, 'first'))}** | "
            f"**{ms(med(f, 'first'))}** | **{first:.2f}{X}** |",
            f"| init + first request, fastest run (the least disturbed by other load) | "
            f"{ms(min(run['first'] for run in h))} | {ms(min(run['first'] for run in f))} | "
            f"{ratio(min(run['first'] for run in h), min(run['first'] for run in f))} |",
            f"| the first request alone | {ms(med(h, 'first') - med(h, 'init'))} | "
            f"{ms(med(f, 'first') - med(f, 'init'))} | |",
            f"| whole process, spawn to exit | {ms(med(h, 'wall'))} | {ms(med(f, 'wall'))} | "
            f"{ratio(med(h, 'wall'), med(f, 'wall'))} |",
        ]
        if self.r.get("cold_built"):
            rows += ["", *self.built_rows()]
        return rows

    def built_rows(self) -> list[str]:
        built = self.r["cold_built"]
        b = {k: median([run["first"] for run in v]) for k, v in built.items()}
        rows = [
            BUILT.format(runs=len(built["built"])),
            "",
            "| package | handler: init + first Create | floor from the same package | ratio |",
            "|---|---:|---:|---:|",
            f"| as `sam build` makes it (src/Makefile: {self.r['package']['pyc']} .pyc files) | "
            f"{ms(b['built'])} | {ms(b['built_floor'])} | {ratio(b['built'], b['built_floor'])} |",
            "| the same without .pyc (SAM's default Python builder) | "
            f"{ms(b['stripped'])} | "
            f"{ms(b['stripped_floor'])} | {ratio(b['stripped'], b['stripped_floor'])} |",
        ]
        if "full" in b:
            rows.append(
                "| the same pins with all of botocore's models (the package before issue 11) | "
                f"{ms(b['full'])} | {ms(b['full_floor'])} | {ratio(b['full'], b['full_floor'])} |"
            )
        return [*rows, "", PYC.format(saved=ms(b["stripped"] - b["built"]))]

    def imports(self) -> list[str]:
        profiles = self.r["imports"]["profiles"]
        stdlib = sys.stdlib_module_names
        groups: dict[str, list[float]] = {}
        cumulative: dict[tuple[str, int], list[float]] = {}
        for profile in profiles:
            totals: dict[str, float] = {}
            for self_us, cumulative_us, depth, name in profile:
                top = name.split(".")[0]
                group = "stdlib" if top in stdlib or top.startswith("_") else top
                if name == "handler.app":
                    group = "handler.app's own body (ECR client, Logger, resource)"
                elif top == "handler":
                    group = "handler's other modules"
                totals[group] = totals.get(group, 0.0) + self_us / 1000
                cumulative.setdefault((name, depth), []).append(cumulative_us / 1000)
            for group, value in totals.items():
                groups.setdefault(group, []).append(value)
        total = median([c / 1000 for p in profiles for _, c, _, name in p if name == "handler.app"])
        rows = [
            f"Median of {len(profiles)} runs. `import handler.app`: {total:.0f} ms; `import boto3` alone: "
            f"{median(self.r['imports']['boto3_ms']):.0f} ms (which the floor pays too). "
            "Self time by package:",
            "",
            "| package | self time | share |",
            "|---|---:|---:|",
        ]
        by_group = sorted(((median(v), k) for k, v in groups.items()), reverse=True)
        everything = sum(value for value, _ in by_group)
        rows += [f"| {group} | {value:.1f} ms | {value / everything:.0%} |" for value, group in by_group[:10]]
        rows += ["", "Top entries by cumulative time:", "", "| module | cumulative |", "|---|---:|"]
        top = sorted(((median(v), name, depth) for (name, depth), v in cumulative.items()), reverse=True)[:20]
        rows += [f"| {'. ' * depth}{name} | {value:.1f} ms |" for value, name, depth in top]
        return rows

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
            if kind == "noop":
                rows.append(
                    f"| {NAMES[kind]} | {ms(hm)} | {ms(p90)} | {BARE[kind]} | - | - | absolute: no call, "
                    f"only the answer | | {ms(pm)} | {ms(hm - pm)} |"
                )
                continue
            worst = max(worst, hm / bm)
            ok &= hm / bm <= BUDGET
            rows.append(
                f"| {NAMES[kind]} | {ms(hm)} | {ms(p90)} | {BARE[kind]} | {ms(bm)} | {ratio(hm, bm)} | "
                f"<= {BUDGET}{X} | {verdict(hm / bm <= BUDGET)} | {ms(pm)} | {ms(hm - bm - pm)} |"
            )
        self.budgets.append(
            ("Warm latency vs the bare calls (worst request type)", f"{worst:.2f}{X}", f"<= 1.5{X}", ok)
        )
        put = median([median(self.samples(kind, "put")) for kind in KINDS])
        return [*rows, "", ANSWERING.format(put=ms(put))]

    def calls(self) -> list[str]:
        rows = ["| request type | ECR calls | minimum | |", "|---|---|---:|---|"]
        ok_all = True
        for kind in KINDS:
            handled = [s for s in self.r["warm"]["samples"] if s["kind"] == kind and s["side"] == "handler"]
            made = sorted({len(s["ops"]) for s in handled})
            ok = made == [MIN_CALLS[kind]] and all(s["status"] == "SUCCESS" for s in handled)
            ok_all &= ok
            detail = " + ".join(OPS[o] for o in handled[0]["ops"]) or "none"
            shown = ", ".join(map(str, made))
            rows.append(
                f"| {NAMES[kind]} | {shown} ({detail}), in all {len(handled)} requests | {MIN_CALLS[kind]} | "
                f"{verdict(ok)} |"
            )
        self.budgets.append(
            ("Success paths at the API-call minimum", "all 6" if ok_all else "not all", "all", ok_all)
        )
        rows += [
            "",
            ERRORS,
            "",
            "| path | answer | ECR calls | which | as designed |",
            "|---|---|---:|---|---|",
        ]
        for e in self.r["warm"]["errors"]:
            ops = e["ops"]
            calls_ok = e["expected_calls"] is None or len(ops) == e["expected_calls"]
            ok = calls_ok and e.get("status") == e["expected_status"]
            which = " -> ".join(OPS[o] for o in ops) if len(ops) <= 4 else f"{OPS[ops[0]]} {X} {len(ops)}"
            expected = (
                "yes" if ok else f"**no** (expected {e['expected_calls']} calls, {e['expected_status']})"
            )
            rows.append(f"| {e['name']} | {e.get('status')} | {len(ops)} | {which or 'none'} | {expected} |")
        return rows

    def delete(self) -> list[str]:
        answered = median(self.samples("delete", "handler", "answered_after"))
        returned = median(self.samples("delete", "handler"))
        call, put = median(self.samples("delete", "bare")), median(self.samples("delete", "put"))
        sleep = self.r["crhelper_delete_sleep"]
        ok = answered / call <= BUDGET
        self.budgets.append(
            (
                "Delete answered",
                f"{ms(answered)}, {answered / call:.2f}{X} its one call",
                f"<= 1.5{X} the call",
                ok,
            )
        )
        return [
            "| | time |",
            "|---|---:|",
            f"| the one DeletePullThroughCacheRule call, bare | {ms(call)} |",
            f"| a bare answer PUT | {ms(put)} |",
            f"| **handler: request in -> answer received at the ResponseURL** | **{ms(answered)}** "
            f"({answered / call:.2f}{X} the call) |",
            f"| handler: request in -> invocation returns | {ms(returned)} |",
            f"| crhelper's own CfnResource (`sleep_on_delete={sleep['default']}` by default), with 300 s of "
            f"function time left: sleeps before it answers | {sleep['slept']:.0f} s, then the call |",
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
            f"| **handler: a no-op Update answered over TLS (no ECR call, only the answer)** | "
            f"**{ms(handler)}** |",
            f"| the handler beyond the bare PUT | {ms(handler - bare)} |",
            f"| for comparison: making one default TLS context (it loads the CA bundle) | {ms(context)} |",
        ]

    def scale(self) -> list[str]:
        s = self.r["scale"]
        rate, rules = s["rate"], s["rules"]
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
            floor, elapsed = rules / rate, median([r["elapsed"] for r in runs])
            made = round(median([r["calls"] for r in runs]))
            failed = max(r["failed"] for r in runs)
            rules_ok = all(r["rules_ok"] for r in runs)
            ok = elapsed / floor <= BUDGET and failed == 0 and rules_ok
            ok_all &= ok
            floor_total, elapsed_total = floor_total + floor, elapsed_total + elapsed
            p50, worst = median([r["latency_p50"] for r in runs]), max(r["latency_max"] for r in runs)
            latency = f"{p50:.2f} s / {worst:.2f} s"
            rows.append(
                f"| {phase} | {rules} | {floor:.1f} s | {elapsed:.2f} s | {ratio(elapsed, floor)} | "
                f"{made} ({made - rules}) | {failed} | "
                f"{runs[-1]['rules_after']}{'' if rules_ok else ' (wrong)'} | "
                f"{latency} | {verdict(ok)} |"
            )
        rows.append(
            f"| **stack** | {3 * rules} | {floor_total:.1f} s | {elapsed_total:.2f} s | "
            f"**{ratio(elapsed_total, floor_total)}** | | | | | {verdict(ok_all)} |"
        )
        reasons = sorted(
            {x for run in s["runs"] for p in ("create", "rotate", "delete") for x in run[p]["reasons"]}
        )
        if reasons:
            rows += ["", "Why requests failed:", ""] + [f"- {x[:300]}" for x in reasons]
        self.budgets.append(
            (
                f"{rules}-rule stack vs the throttle floor ({rate:g} calls/s, {s['workers']} processes)",
                f"{elapsed_total / floor_total:.2f}{X}",
                f"<= 1.5{X}, none failed",
                ok_all,
            )
        )
        return rows

    def memory(self) -> list[str]:
        h, f = self.r["cold"]["handler"], self.r["cold"]["floor"]
        warm, scale = self.r["warm"]["peak_mb"], max(run["peak_mb"] for run in self.r["scale"]["runs"])
        life = self.r["cold"]["lifecycle"]
        first, whole = median([x["peak_first"] for x in h]), median([x["peak_all"] for x in life])
        floor = median([x["peak_all"] for x in f])
        peak = max(whole, warm, scale)
        self.budgets.append(
            ("Peak memory of a handler process", f"{peak:.0f} MB", f"< {LAMBDA_MIN_MB} MB", peak < 128)
        )
        handled = [s for s in self.r["warm"]["samples"] if s["side"] == "handler"]
        warm_requests = len(handled) + len(self.r["warm"]["errors"])
        rows = [
            "Peak resident memory (VmHWM) of the Python process. In Lambda the runtime's bootstrap shares "
            "the process and adds to it.",
            "",
            "| process | peak RSS | of 128 MB |",
            "|---|---:|---:|",
            f"| floor: boto3, client, one call | {floor:.1f} MB | {floor / LAMBDA_MIN_MB:.0%} |",
            f"| handler: cold start and first Create | {first:.1f} MB | {first / LAMBDA_MIN_MB:.0%} |",
            f"| handler: after a rule's whole life (7 requests) | {whole:.1f} MB | "
            f"{whole / LAMBDA_MIN_MB:.0%} |",
            f"| handler: the warm process after {warm_requests} requests (and the bench's own clients) | "
            f"{warm:.1f} MB | {warm / LAMBDA_MIN_MB:.0%} |",
            f"| handler: the largest scale-test process | {scale:.1f} MB | {scale / LAMBDA_MIN_MB:.0%} |",
        ]
        return rows + self.package_rows()

    def package_rows(self) -> list[str]:
        package = self.r.get("package")
        if not package:
            return []
        mib = 1024 * 1024
        full = package.get("full")
        zipped_ok = package["zipped"] <= PACKAGE_BUDGET_MB * mib
        self.budgets.append(
            (
                "Package, zipped (issue 11)",
                f"{package['zipped'] / mib:.1f} MB",
                f"<= {PACKAGE_BUDGET_MB} MB",
                zipped_ok,
            )
        )

        def largest(sizes: Json) -> str:
            return ", ".join(f"{name} {size / mib:.1f} MB" for size, name in sizes["largest"])

        rows = [
            "",
            f"The package ({package['method']}, zipped here with DEFLATE). src/Makefile keeps only the "
            "botocore models of the services the provider calls (BOTOCORE_SERVICES: ECR and "
            "CloudFormation; endpoints and partitions for every Region stay) and drops boto3's resource "
            "data, the docs examples and the installers' RECORD files; the Powertools parts the handler "
            "never imports ship as source without .pyc. The last column is the same pins as installed, "
            "with all of botocore's models, as the package was before:",
            "",
            "| | size | Lambda's limit | budget | all models |",
            "|---|---:|---:|---:|---:|",
            f"| **zipped** | **{package['zipped'] / mib:.1f} MB** | 50 MB (direct upload) | "
            f"<= {PACKAGE_BUDGET_MB} MB, {verdict(zipped_ok)} | "
            + (f"{full['zipped'] / mib:.1f} MB |" if full else "- |"),
            f"| unzipped | {package['unzipped'] / mib:.1f} MB | 250 MB | | "
            + (f"{full['unzipped'] / mib:.1f} MB |" if full else "- |"),
            f"| .pyc files | {package['pyc']} | | | " + (f"{full['pyc']} |" if full else "- |"),
            f"| largest parts, unzipped | {largest(package)} | | | "
            + (f"{largest(full)} |" if full else "- |"),
        ]
        built = self.r.get("cold_built", {})
        if "full" in built:
            lean, whole = (median([run["first"] for run in built[k]]) for k in ("built", "full"))
            rows += [
                "",
                f"Read from this machine's disk, the lean package's first Create takes {ms(lean)}, against "
                f"{ms(whole)} with all of botocore's models (Cold start, above). In Lambda a cold start also "
                "fetches and unpacks the package, which this machine cannot measure and which grows with its "
                "size; every deploy uploads it.",
            ]
        return rows

    # the whole ----------------------------------------------------------------------------------

    def render(self) -> str:
        sections = [
            ("Cold start", self.cold()),
            ("Import profile (`python -X importtime -c 'import handler.app'`)", self.imports()),
            ("Warm latency", self.warm()),
            ("ECR API calls per request", self.calls()),
            ("Time to answer a Delete", self.delete()),
            ("The answer over TLS", self.tls()),
            ("Scale: a 50-rule stack against a throttled ECR", self.scale()),
            ("Memory and package", self.memory()),
        ]
        m, a = self.r["machine"], self.args
        self.w(
            "# Benchmark",
            "",
            INTRO,
            "",
            f"- Machine: {m['cpu']}, {m['cores']} cores; load average at the start "
            f"{', '.join(f'{x:.2f}' for x in m['load'])}",
            f"- Python: {m['python']} on {m['platform']}",
            f"- Date: {m['date']}",
            f"- Command: `./dev bench` ({a.cold_runs} cold starts per side, "
            f"{self.r['warm']['iterations']} warm "
            f"rounds per request type, {len(self.r['scale']['runs'])} scale runs); it took "
            f"{self.r['duration_s']:.0f} s",
            "",
            "## Budgets (issue 5)",
            "",
            "| budget | measured | target | |",
            "|---|---|---|---|",
        )
        self.w(
            *(
                f"| {name} | {measured} | {target} | {verdict(ok)} |"
                for name, measured, target, ok in self.budgets
            )
        )
        for title, rows in sections:
            level = "###" if title.startswith("Import profile") else "##"
            self.w("", f"{level} {title}", "", *rows)
        self.w("")
        return "\n".join(self.lines)


def report(results: Json, args: argparse.Namespace) -> str:
    return Report(results, args).render()


def package_tables(results: Json) -> str:
    """The built package's cold-start table and the package table alone (--package-only)."""
    made = Report(results, argparse.Namespace())
    return "\n".join([*made.built_rows(), *made.package_rows()])
