"""The lifecycle paths of the simulator, each with its plan: the requests CloudFormation sends
in the operation under test and the ECR calls each one makes when nothing goes wrong."""

from __future__ import annotations

from devkit.cloudformation.lab import NEW_UPSTREAM
from devkit.cloudformation.plans import Path, Step
from devkit.cloudformation.simulator import CLEANUP, FORWARD, ROLLBACK, Sibling

ROLE_A = "arn:aws:iam::123456789012:role/ecr-ptc-upstream-a"
ROLE_B = "arn:aws:iam::123456789012:role/ecr-ptc-upstream-b"
UPSTREAM = "444455556666.dkr.ecr.us-east-1.amazonaws.com"

PUBLIC = {"EcrRepositoryPrefix": "ecr-public", "UpstreamRegistryUrl": "public.ecr.aws"}
MOVED = {**PUBLIC, "EcrRepositoryPrefix": "ecr-public-2"}
QUAY = {"EcrRepositoryPrefix": "quay", "UpstreamRegistryUrl": "quay.io"}
# An upstream ECR caches but the provider does not know (the lab teaches it to the emulator): the
# same-prefix paths replace it and put it back under every fault.
MIRROR = {
    "EcrRepositoryPrefix": "mirror",
    "UpstreamRegistryUrl": NEW_UPSTREAM[1],
    "CredentialArn": "$SECRET_A",
}
MIRROR_QUAY = {**MIRROR, "UpstreamRegistryUrl": "quay.io"}
MIRROR_HUB = {
    "EcrRepositoryPrefix": "mirror",
    "UpstreamRegistryUrl": "registry-1.docker.io",
    "CredentialArn": "$SECRET_A",
    "ValidateCredentials": "true",
}
HUB = {
    "EcrRepositoryPrefix": "docker-hub",
    "UpstreamRegistryUrl": "registry-1.docker.io",
    "CredentialArn": "$SECRET_A",
}
HUB_ROTATED = {**HUB, "CredentialArn": "$SECRET_B", "ValidateCredentials": "true"}
PRIVATE = {"EcrRepositoryPrefix": "upstream", "UpstreamRegistryUrl": UPSTREAM}
PRIVATE_A = {**PRIVATE, "CustomRoleArn": ROLE_A}
PRIVATE_B = {**PRIVATE, "CustomRoleArn": ROLE_B}
LATER = Sibling()
LATER_FAILS = Sibling(fail_on=frozenset({"Update"}), revision=1)

RENAME_KEEPS_PREFIX = (
    "drift-deleted",
    "with the rule deleted by hand, the new logical id creates it afresh and the old one's cleanup "
    "Delete then removes it: only a read of the stack before every Delete could tell, at a "
    "CloudFormation call per Delete (docs/reference.md, Limits)",
)

ADOPTION_KEPT = (
    "an AdoptExisting Create updates the existing rule in place; when CloudFormation then never "
    "hears of it (answer lost, or the timeout answer went first) the change stays: the API cannot "
    "clear a role or credential in place, and deleting and recreating a rule the stack does not "
    "own to restore it would risk more than the change (docs/reference.md, AdoptExisting)"
)


def step(phase: str, request: str, *calls: str) -> Step:
    return Step(phase, request, calls)


PATHS = (
    Path(
        "create",
        "create",
        (step(FORWARD, "Create Cache", "Create"),),
        "CREATE_COMPLETE",
        template={"Cache": PUBLIC},
        grows=True,
    ),
    Path(
        "create-validated",
        "create",
        (step(FORWARD, "Create Cache", "Create", "Validate"),),
        "CREATE_COMPLETE",
        template={"Cache": {**HUB, "ValidateCredentials": "true"}},
        grows=True,
    ),
    Path(
        "create-adopting",
        "create",
        (step(FORWARD, "Create Cache", "Create", "Describe", "Update"),),
        "CREATE_COMPLETE",
        template={"Cache": {**PRIVATE_A, "AdoptExisting": "true"}},
        foreign=(f"upstream={UPSTREAM}",),
        not_for=(
            ("answer-refused", ADOPTION_KEPT),
            ("answer-500", ADOPTION_KEPT),
            ("answer-403", ADOPTION_KEPT),
            ("timeout-fires", ADOPTION_KEPT),
            ("lost-for-good@call3", ADOPTION_KEPT),
            # the answer comes due once the Update is on its way or done
            ("frozen-at-return@call3-sent", ADOPTION_KEPT),
            ("frozen-at-return@call3-landed", ADOPTION_KEPT),
            ("frozen-at-return@request0-claim", ADOPTION_KEPT),
            ("killed-at-deadline@call3-landed", ADOPTION_KEPT),
            ("killed-at-deadline@request0-claim", ADOPTION_KEPT),
        ),
    ),
    Path(
        "create-two",
        "create",
        (step(FORWARD, "Create First", "Create"), step(FORWARD, "Create Second", "Create")),
        "CREATE_COMPLETE",
        template={"First": PUBLIC, "Second": QUAY},
        grows=True,
    ),
    Path(
        "create-then-sibling-fails",
        "create",
        (step(FORWARD, "Create Cache", "Create"), step(ROLLBACK, "Delete Cache", "Delete")),
        "ROLLBACK_COMPLETE",
        template={"Cache": PUBLIC, "Later": Sibling(fail_on=frozenset({"Create"}))},
        grows=True,
    ),
    Path(
        "in-place",
        "update",
        (step(FORWARD, "Update Cache", "Describe", "Update"),),
        "UPDATE_COMPLETE",
        before={"Cache": PRIVATE_A},
        template={"Cache": PRIVATE_B},
    ),
    Path(
        "rotate-validated",
        "update",
        (step(FORWARD, "Update Cache", "Describe", "Update", "Validate"),),
        "UPDATE_COMPLETE",
        before={"Cache": HUB},
        template={"Cache": HUB_ROTATED},
    ),
    Path(
        "new-prefix",
        "update",
        (step(FORWARD, "Update Cache", "Create"), step(CLEANUP, "Delete Cache", "Delete")),
        "UPDATE_COMPLETE",
        before={"Cache": PUBLIC},
        template={"Cache": MOVED},
        grows=True,
    ),
    Path(
        "same-prefix",
        "update",
        (step(FORWARD, "Update Cache", "Describe", "Delete", "Create"),),
        "UPDATE_COMPLETE",
        before={"Cache": MIRROR},
        template={"Cache": MIRROR_QUAY},
    ),
    Path(
        "same-prefix-validated",
        "update",
        (step(FORWARD, "Update Cache", "Describe", "Delete", "Create", "Validate"),),
        "UPDATE_COMPLETE",
        before={"Cache": MIRROR},
        template={"Cache": MIRROR_HUB},
    ),
    Path(
        "role-removed",
        "update",
        (step(FORWARD, "Update Cache", "Describe", "Delete", "Create"),),
        "UPDATE_COMPLETE",
        before={"Cache": PRIVATE_A},
        template={"Cache": PRIVATE},
    ),
    Path(
        "nothing-ecr-holds",
        "update",
        (step(FORWARD, "Update Cache", "Describe"),),
        "UPDATE_COMPLETE",
        before={"Cache": PUBLIC},
        template={"Cache": {**PUBLIC, "AdoptExisting": "true"}},
    ),
    Path(
        "new-prefix-taken",
        "update",
        (step(FORWARD, "Update Cache", "Create", "Describe"), step(ROLLBACK, "Update Cache", "Describe")),
        "UPDATE_ROLLBACK_COMPLETE",
        before={"Cache": PUBLIC},
        template={"Cache": {**PUBLIC, "EcrRepositoryPrefix": "taken"}},
        foreign=("taken=quay.io",),
    ),
    Path(
        "new-prefix-then-sibling-fails",
        "update",
        (
            step(FORWARD, "Update Cache", "Create"),
            step(ROLLBACK, "Update Cache", "Create", "Describe"),
            step(CLEANUP, "Delete Cache", "Delete"),
        ),
        "UPDATE_ROLLBACK_COMPLETE",
        before={"Cache": PUBLIC, "Later": LATER},
        template={"Cache": MOVED, "Later": LATER_FAILS},
        grows=True,
    ),
    Path(
        "same-prefix-then-sibling-fails",
        "update",
        (
            step(FORWARD, "Update Cache", "Describe", "Delete", "Create"),
            step(ROLLBACK, "Update Cache", "Describe", "Delete", "Create"),
        ),
        "UPDATE_ROLLBACK_COMPLETE",
        before={"Cache": MIRROR, "Later": LATER},
        template={"Cache": MIRROR_QUAY, "Later": LATER_FAILS},
    ),
    Path(
        "in-place-then-sibling-fails",
        "update",
        (
            step(FORWARD, "Update Cache", "Describe", "Update"),
            step(ROLLBACK, "Update Cache", "Describe", "Update"),
        ),
        "UPDATE_ROLLBACK_COMPLETE",
        before={"Cache": PRIVATE_A, "Later": LATER},
        template={"Cache": PRIVATE_B, "Later": LATER_FAILS},
    ),
    Path(
        "removed-from-template",
        "update",
        (step(CLEANUP, "Delete Cache", "Delete"),),
        "UPDATE_COMPLETE",
        before={"Cache": PUBLIC, "Other": LATER},
        template={"Other": LATER},
    ),
    Path(
        "renamed",
        "update",
        (step(FORWARD, "Create Renamed", "Create"), step(CLEANUP, "Delete Cache", "Delete")),
        "UPDATE_COMPLETE",
        before={"Cache": PUBLIC},
        template={"Renamed": MOVED},
        grows=True,
    ),
    Path(
        "renamed-keeping-prefix",
        "update",
        (step(FORWARD, "Create Renamed", "Create", "Describe"), step(ROLLBACK, "Delete Renamed")),
        "UPDATE_ROLLBACK_COMPLETE",
        before={"Cache": PUBLIC},
        template={"Renamed": PUBLIC},
        not_for=(RENAME_KEEPS_PREFIX,),
    ),
    Path(
        "delete",
        "delete",
        (step(FORWARD, "Delete Cache", "Delete"),),
        "DELETE_COMPLETE",
        before={"Cache": PUBLIC},
    ),
    Path(
        "delete-two",
        "delete",
        (step(FORWARD, "Delete Second", "Delete"), step(FORWARD, "Delete First", "Delete")),
        "DELETE_COMPLETE",
        before={"First": PUBLIC, "Second": QUAY},
    ),
)
