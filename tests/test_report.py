"""What ./dev demo and ./dev local print of a stack operation (devkit/demo/report.py): the
outputs under their own names, each with the expression it comes from (the attribute's real
name), the Reason of a failure, the rules held."""

from __future__ import annotations

import pytest

from devkit.cloudformation import templates
from devkit.cloudformation.ministack import CustomResourceRequest, Operation, StackEvent
from devkit.demo import report

TEMPLATE = templates.parse(
    """
Resources:
  Cache: {Type: Custom::PullThroughCacheRule}
Outputs:
  Prefix: {Value: !Ref Cache}
  RepositoryUri: {Value: !GetAtt Cache.RepositoryUriPrefix}
  Registry: {Value: !GetAtt [Cache, RegistryId]}
  Pull: {Value: !Sub "${Cache.RepositoryUriPrefix}/pause:3.10"}
  Joined: {Value: !Join ["/", [a, b]]}
  Fixed: {Value: plain}
"""
)


@pytest.mark.parametrize(
    ("output", "expression"),
    [
        ("Prefix", "!Ref Cache"),
        ("RepositoryUri", "!GetAtt Cache.RepositoryUriPrefix"),
        ("Registry", "!GetAtt Cache.RegistryId"),
        ("Pull", "!Sub ${Cache.RepositoryUriPrefix}/pause:3.10"),
        ("Joined", '!Join ["/", ["a", "b"]]'),
        ("Fixed", ""),
        ("Absent", ""),
    ],
)
def test_an_output_is_named_by_the_expression_it_comes_from(output: str, expression: str) -> None:
    assert templates.output_expression(TEMPLATE, output) == expression


def test_the_report_shows_outputs_under_the_attributes_real_name(capsys: pytest.CaptureFixture[str]) -> None:
    op = Operation("s", "id", "create", "CREATE_COMPLETE", "", 0.25)
    op.outputs = {"RepositoryUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/k8s", "Fixed": "plain"}
    op.rules = {"k8s": {"upstreamRegistryUrl": "registry.k8s.io"}}
    report.show(op, TEMPLATE)
    out = capsys.readouterr().out
    assert (
        "    outputs:   RepositoryUri = !GetAtt Cache.RepositoryUriPrefix -> "
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/k8s\n"
    ) in out
    assert "               Fixed = plain\n" in out
    assert "(Fn::GetAtt)" not in out
    assert "    rules:     k8s -> registry.k8s.io\n" in out


def test_the_report_shows_the_reason_and_marks_hand_made_rules(capsys: pytest.CaptureFixture[str]) -> None:
    op = Operation("s", "id", "update", "UPDATE_ROLLBACK_COMPLETE", "", 0.1)
    op.events = [
        StackEvent(
            "Cache", "Custom::PullThroughCacheRule", "UPDATE_FAILED", "EcrRepositoryPrefix 'x': taken", ""
        )
    ]
    op.requests = [
        CustomResourceRequest({"RequestType": "Update", "LogicalResourceId": "Cache"}, {"Status": "FAILED"})
    ]
    op.rules = {
        "x": {
            "upstreamRegistryUrl": "quay.io",
            "credentialArn": "arn:aws:secretsmanager:r:1:secret:ecr-pullthroughcache/q",
        }
    }
    report.show(op, None, hand_made={"x"})
    out = capsys.readouterr().out
    assert (
        "    events:    Cache UPDATE_FAILED\n               Reason: EcrRepositoryPrefix 'x': taken\n" in out
    )
    assert "    provider:  Update Cache -> FAILED None\n" in out
    assert "    ECR calls: (none)\n" in out
    assert "x -> quay.io, secret ecr-pullthroughcache/q  <- made by hand, owned by no stack" in out


def test_a_stack_reason_is_shown_when_no_resource_gives_one(capsys: pytest.CaptureFixture[str]) -> None:
    op = Operation("s", "id", "create", "ROLLBACK_COMPLETE", "No export named x-ServiceToken found", 0.1)
    report.show(op, None)
    assert "Reason: No export named x-ServiceToken found" in capsys.readouterr().out
