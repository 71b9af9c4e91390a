"""Lifecycle scenarios with faults: `run` plays one path with one fault on a `Lab` and checks,
into the lab's `Ledger`: every answer (by the Stack), the registry against the stack's record
after every stack operation (`Invariants`), the outcome the fault's duration calls for, and
finally that deleting the stack leaves only the rules that were not the stack's, untouched.

The paths are in devkit/cloudformation/plans.py (the shape) and tests/simulator/paths.py (the
cases); the faults in devkit/cloudformation/faults.py; the environment in lab.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from devkit.cloudformation.faults import EITHER, FAILURE, SAME, Fault
from devkit.cloudformation.invariants import SHORT, Rules, settings
from devkit.cloudformation.lab import Lab
from devkit.cloudformation.plans import Path
from devkit.cloudformation.simulator import FAILED, FORWARD, Hooks, Invocation, Stack

# -- one scenario ----------------------------------------------------------------------------


@dataclass
class Result:
    stack: Stack
    operation: list[Invocation]
    ops: list[str]


def run(lab: Lab, path: Path, fault: Fault | None = None) -> Result:
    """Play `path` with `fault` injected; every check goes into lab.ledger."""
    invariants = lab.invariants
    for spec in path.foreign:
        prefix, url = spec.split("=", 1)
        lab.registry.create_behind_the_stacks_back(prefix, url)
    lab.age_rules()
    invariants.note_foreign()
    if fault is not None:
        fault.prepare(lab)
    try:
        return _play(lab, path, fault)
    finally:
        if fault is not None:
            fault.finish(lab)


def _play(lab: Lab, path: Path, fault: Fault | None) -> Result:
    ledger, invariants = lab.ledger, lab.invariants
    stack = lab.stack()
    if path.before is not None:
        status = stack.create(lab.resolve(path.before))
        ledger.check(
            status == "CREATE_COMPLETE", f"{path.name}: the stack before could not be created: {status}"
        )
        invariants.check(stack, "before the operation")
        lab.age_rules()  # (foreign ones were aged before they were noted)
    template = lab.resolve(path.template)
    if fault is not None:
        stack.hooks = fault
        fault.arm(lab, stack, path)
    registry_before = settings(lab.registry.rules())
    mark = len(lab.registry.ops())

    if path.operation == "create":
        status = stack.create(template)
    elif path.operation == "update":
        status = stack.update(template)
    else:
        status = stack.delete()

    lab.clear()
    ops = lab.registry.ops()[mark:]
    operation = list(stack.operation)
    stack.hooks = Hooks()
    invariants.check(stack, "after the operation")
    trace = "\n  ".join(str(invocation) for invocation in operation)
    name = f"{path.name}{f' with {fault.label}' if fault else ''}"
    if fault is None:
        plan = [(s.phase, s.request, s.calls) for s in path.plan]
        done = [(i.phase, i.request, tuple(SHORT.get(c, c) for c in i.ecr_calls)) for i in operation]
        ledger.check(done == plan, f"{name}: the requests and calls were\n  {done}\nnot the plan\n  {plan}")
    else:
        fault.verify(lab, stack, ops)
    expect = SAME if fault is None else fault.expect(path)
    if expect == EITHER:
        expect = SAME if status == path.outcome else FAILURE
    if expect == SAME:
        ledger.check(status == path.outcome, f"{name}: ended {status}, not {path.outcome}:\n  {trace}")
        ledger.check(
            stack.template == lab.resolve(path.final_template(path.outcome)),
            f"{name}: the stack's record is {stack.template}:\n  {trace}",
        )
    else:
        _check_clean_failure(lab, name, stack, operation, status, registry_before, fault, trace)

    # Finally the stack is deleted: only the rules that were never its own may remain, untouched.
    if stack.status != "DELETE_COMPLETE":
        status = stack.delete()
        ledger.check(status == "DELETE_COMPLETE", f"{name}: the stack could not be deleted: {status}")
    invariants.check(stack, "after deleting the stack")
    ledger.check(
        lab.registry.rules() == invariants.untouched_foreign(),
        f"{name}: after deleting the stack the registry holds {sorted(lab.registry.rules())}, "
        f"not just {sorted(invariants.untouched_foreign())}",
    )
    return Result(stack, operation, ops)


def _check_clean_failure(
    lab: Lab,
    name: str,
    stack: Stack,
    operation: list[Invocation],
    status: str,
    registry_before: Rules,
    fault: Fault | None,
    trace: str,
) -> None:
    """A permanent fault: the forward phase failed, saying what to do, and the rollback put the
    registry back as it was (a failed stack delete leaves it as it was, or without the rules
    whose Delete went through but whose answer was lost)."""
    ledger = lab.ledger
    forward = [i for i in operation if i.phase == FORWARD]
    failed = [i for i in forward if i.taken is None or i.taken["Status"] == FAILED]
    ledger.check(bool(failed), f"{name}: nothing failed:\n  {trace}")
    hint = fault.hint if fault is not None else None
    if hint and failed:
        reasons = [str(i.taken.get("Reason", "")) for i in failed if i.taken]
        ledger.check(
            any(hint.lower() in reason.lower() for reason in reasons),
            f"{name}: no Reason says what to do ({hint!r}): {reasons}",
        )
    ledger.check(
        status in ("ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "DELETE_FAILED"),
        f"{name}: ended {status}:\n  {trace}",
    )
    after = settings(lab.registry.rules())
    if status == "DELETE_FAILED":
        ok = after == {p: rule for p, rule in registry_before.items() if p in after}
    else:
        ok = after == registry_before
    ledger.check(
        ok, f"{name}: the registry is not as before the operation:\n  {registry_before}\n  {after}\n  {trace}"
    )
