"""The health check's states (src/health/classification.py): MISSING, DRIFTED (each field
named), INVALID (with ECR's text), HEALTHY, the precedence among them, NOT_CHECKED for what the
stack's record cannot tell, and UNMANAGED; and the report they make (src/health/report.py)."""

from __future__ import annotations

import json

from handler.rules import Rule
from health.classification import Validation, classify, unmanaged
from health.report import Drift, Report, State
from health.resolution import Resolved

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf"
OTHER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/other-XyZ123"
ASKED = {
    "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
    "EcrRepositoryPrefix": "ghcr",
    "UpstreamRegistryUrl": "ghcr.io",
    "CredentialArn": SECRET,
    "ValidateCredentials": "true",
}
HELD = Rule("ghcr", "ghcr.io", "github-container-registry", None, SECRET, None, "123456789012")
VALID = Validation(True)
FAILING = Validation(False, "Authentication failed: 401 Unauthorized")


def state_of(
    held: Rule | None, validation: Validation | None = VALID, resolved: Resolved | None = None
) -> tuple[State, tuple[Drift, ...], tuple[str, ...], str]:
    entry = classify("ghcr-cache", "Rule", "ghcr", resolved or Resolved(values=dict(ASKED)), held, validation)
    assert (entry.stack, entry.logical_id, entry.prefix) == ("ghcr-cache", "Rule", "ghcr")
    return entry.state, entry.drifted, entry.not_checked, entry.detail


def test_a_rule_as_asked_and_valid_is_healthy() -> None:
    assert state_of(HELD) == (State.HEALTHY, (), (), "")


def test_ecr_reads_a_prefix_with_a_slash_and_a_host_in_capitals_as_the_same_rule() -> None:
    held = Rule("ghcr/", "GHCR.io", "github-container-registry", None, SECRET, None)
    assert state_of(held)[0] == State.HEALTHY


def test_no_rule_under_the_prefix_is_missing_and_says_how_to_repair() -> None:
    state, drifted, _, detail = state_of(None, validation=None)
    assert (state, drifted) == (State.MISSING, ())
    repair = "an update of the resource puts it back (docs/reference.md#health-check)"
    assert detail == f"ECR has no rule under 'ghcr': {repair}"


def test_a_credential_changed_by_hand_is_drifted_with_the_field_named() -> None:
    held = Rule("ghcr", "ghcr.io", "github-container-registry", None, OTHER_SECRET, None)
    state, drifted, _, detail = state_of(held)
    assert state == State.DRIFTED
    assert drifted == (Drift("CredentialArn", OTHER_SECRET, SECRET),)
    assert detail.startswith(f"CredentialArn is '{OTHER_SECRET}' in ECR, the stack asks '{SECRET}'")


def test_every_differing_field_is_named() -> None:
    held = Rule("ghcr", "ghcr.io", "github-container-registry", "team", None, "arn:aws:iam::1:role/r")
    state, drifted, _, _ = state_of(held)
    assert state == State.DRIFTED
    assert [d.field for d in drifted] == ["UpstreamRepositoryPrefix", "CredentialArn", "CustomRoleArn"]


def test_a_failing_validation_is_invalid_with_ecrs_text() -> None:
    state, drifted, _, detail = state_of(HELD, validation=FAILING)
    assert (state, drifted) == (State.INVALID, ())
    assert "Authentication failed: 401 Unauthorized" in detail
    assert "new value in the secret" in detail


def test_drift_comes_before_invalid_and_keeps_the_failure_in_the_detail() -> None:
    held = Rule("ghcr", "ghcr.io", "github-container-registry", None, OTHER_SECRET, None)
    state, _, _, detail = state_of(held, validation=FAILING)
    assert state == State.DRIFTED
    assert "Authentication failed: 401 Unauthorized" in detail


def test_an_unresolved_property_is_not_checked_by_name_and_never_drifts() -> None:
    values = {k: v for k, v in ASKED.items() if k not in ("CredentialArn", "ServiceToken")}
    unresolved = {"CredentialArn": "Fn::GetAtt Role.Arn", "ServiceToken": "Fn::If"}
    held = Rule("ghcr", "ghcr.io", "github-container-registry", None, OTHER_SECRET, None)
    state, drifted, not_checked, detail = state_of(held, resolved=Resolved(values, unresolved))
    assert (state, drifted, not_checked) == (State.HEALTHY, (), ("CredentialArn",))
    assert detail == "not checked: CredentialArn (Fn::GetAtt Role.Arn)"
    # a resolved field that differs is still found beside it
    drifting = {**values, "UpstreamRegistryUrl": "quay.io"}
    state, drifted, not_checked, _ = state_of(held, resolved=Resolved(drifting, unresolved))
    assert state == State.DRIFTED and [d.field for d in drifted] == [
        "UpstreamRegistryUrl",
        "UpstreamRegistry",
    ]
    assert not_checked == ("CredentialArn",)


def test_an_unresolved_prefix_is_the_physical_id() -> None:
    values = {k: v for k, v in ASKED.items() if k != "EcrRepositoryPrefix"}
    resolved = Resolved(values, {"EcrRepositoryPrefix": "Fn::If"})
    state, _, not_checked, _ = state_of(HELD, resolved=resolved)
    assert (state, not_checked) == (State.HEALTHY, ("EcrRepositoryPrefix",))


def test_properties_that_cannot_be_parsed_leave_every_field_not_checked() -> None:
    broken = Resolved({**ASKED, "UpstreamRegistryUrl": "https://ghcr.io/path"})
    state, drifted, not_checked, detail = state_of(HELD, resolved=broken)
    assert (state, drifted) == (State.HEALTHY, ())
    assert "UpstreamRegistryUrl" in not_checked and "CredentialArn" in not_checked
    assert "the stack's properties cannot be read" in detail


def test_unmanaged_rules_are_those_no_stack_holds() -> None:
    held = [Rule("quay", "quay.io"), Rule("by-hand", "registry.k8s.io"), Rule("native/", "public.ecr.aws")]
    found = unmanaged(held, {"quay", "native"})  # 'native' and 'native/' are one rule
    assert [(r.prefix, r.state, r.stack) for r in found] == [("by-hand", State.UNMANAGED, None)]
    assert "./dev import" in found[0].detail and "registry.k8s.io" in found[0].detail


def test_the_report_counts_every_state_and_is_json() -> None:
    entries = (
        classify("s", "A", "ghcr", Resolved(values=dict(ASKED)), HELD, VALID),
        classify("s", "B", "gone", Resolved(values=dict(ASKED)), None, None),
        *unmanaged([Rule("by-hand", "quay.io")], set()),
    )
    report = Report(entries)
    assert report.counts == {"HEALTHY": 1, "MISSING": 1, "DRIFTED": 0, "INVALID": 0, "UNMANAGED": 1}
    assert report.summary() == "3 rules: 1 HEALTHY, 1 MISSING, 1 UNMANAGED"
    assert not report.healthy
    assert Report(entries[:1]).healthy
    data = json.loads(report.to_json())
    assert data["counts"] == report.counts
    assert data["rules"][1] == {
        "stack": "s",
        "logical_id": "B",
        "prefix": "gone",
        "state": "MISSING",
        "drifted": [],
        "not_checked": [],
        "detail": entries[1].detail,
    }


def test_a_rule_ecr_would_not_validate_is_judged_on_its_fields_and_says_so() -> None:
    refused = Validation(True, refused="ECR answered ValidationException: no credential to validate")
    state, _, _, detail = state_of(HELD, validation=refused)
    assert state == State.HEALTHY
    assert detail == "not validated: ECR answered ValidationException: no credential to validate"
