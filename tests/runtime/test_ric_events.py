"""Every file in events/, in order, through the built package under AWS's runtime interface
client, at every LogLevel the template allows: what CloudFormation receives and the rules left
in the registry after each, as tests/test_events.py documents them for the handler itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devkit.cloudformation import events
from tests.runtime.conftest import LOG_LEVELS, EventRun
from tests.test_events import EXPECTED


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_every_event_file_gets_its_documented_answer(
    event_runs: Callable[[str], EventRun], level: str
) -> None:
    run: EventRun = event_runs(level)
    assert list(run.outcomes) == events.names() == sorted(EXPECTED)
    for name, outcome in run.outcomes.items():
        status, physical_id, held = EXPECTED[name]
        assert outcome.result.status == "response", (name, outcome.result.body)
        assert outcome.result.body == b"null"  # the handler returns nothing; the answer is the PUT
        answer = outcome.answer
        assert answer["Status"] == status, (name, answer.get("Reason"))
        assert answer["RequestId"] == outcome.event["RequestId"]
        assert answer["StackId"] == outcome.event["StackId"]
        assert answer["LogicalResourceId"] == outcome.event["LogicalResourceId"]
        if physical_id:
            assert answer["PhysicalResourceId"] == physical_id
        assert run.rules_after[name] == held, name


@pytest.mark.parametrize("level", LOG_LEVELS)
def test_one_process_serves_them_all_warm(event_runs: Callable[[str], EventRun], level: str) -> None:
    run: EventRun = event_runs(level)
    results = [outcome.result for outcome in run.outcomes.values()]
    assert [r.cold for r in results] == [True] + [False] * (len(results) - 1)
    assert len({r.pid for r in results}) == 1
    assert len({r.request_id for r in results}) == len(results)  # Lambda's own id, one each


def test_the_bad_input_event_reports_every_problem(event_runs: Callable[[str], EventRun]) -> None:
    run: EventRun = event_runs("INFO")
    reason = run.outcomes["07-bad-input.json"].answer["Reason"]
    assert reason.startswith("Invalid properties, 5 problems:")
