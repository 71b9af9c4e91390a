"""handler.cfn_resource is the one module that relies on crhelper's internals. These tests fail
loudly when an upgrade of crhelper changes one of them: read the new crhelper's
resource_helper.py, adapt handler/cfn_resource.py, then the pin and these tests."""

from __future__ import annotations

import inspect
import re
from importlib import metadata
from pathlib import Path

import pytest
from crhelper import CfnResource

from handler import cfn_resource

ROOT = Path(__file__).resolve().parent.parent
PINNED = "2.0.12"


def test_the_crhelper_the_seam_was_written_for_is_the_one_pinned_and_installed() -> None:
    requirements = (ROOT / "src" / "requirements.txt").read_text(encoding="utf-8").split()
    assert f"crhelper=={PINNED}" in requirements
    assert metadata.version("crhelper") == PINNED


def test_the_state_the_seam_sets_is_exactly_what_crhelpers_init_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """ProviderResource does not call CfnResource.__init__ (it would make three AWS clients and
    reconfigure logging): it sets the same attributes itself."""
    monkeypatch.setenv("AWS_SAM_LOCAL", "1")  # so crhelper's own __init__ creates no clients
    theirs = vars(CfnResource(log_level="INFO"))
    assert set(theirs) == set(cfn_resource.CRHELPER_STATE)


def test_every_crhelper_method_the_seam_relies_on_exists_with_the_signature_it_overrides() -> None:
    signatures = {
        "__call__": ["self", "event", "context"],
        "_crhelper_init": ["self", "event", "context"],
        "_wrap_function": ["self", "func"],
        "_cfn_response": ["self", "event"],
        "_set_timeout": ["self"],
        "_send": ["self", "status", "reason", "send_response"],
        "_log_setup": ["self", "event", "context"],
        "_wait_for_cwlogs": ["self", "sleep"],
        "generate_physical_id": ["self", "event"],
        "init_failure": ["self", "error"],
    }
    assert set(signatures) == set(cfn_resource.CRHELPER_METHODS)
    for name, parameters in signatures.items():
        method = getattr(CfnResource, name, None)
        assert callable(method), f"crhelper's CfnResource has no {name} any more"
        assert list(inspect.signature(method).parameters) == parameters, name


def test_crhelpers_dispatch_still_reads_what_the_seam_sets() -> None:
    """The seam sets Status, Reason, Data and the hooks; crhelper's __call__ must still send the
    answer through _send, cancel _timer and call the hook through _wrap_function."""
    source = inspect.getsource(CfnResource)
    for used in (
        "self._send()",
        "self._timer.cancel()",
        "self._wrap_function(self._get_func())",
        "self._init_failed",
        "self._set_timeout()",
        "self._create_func",
    ):
        assert used in source, f"crhelper's CfnResource no longer has {used}"


def test_no_other_module_imports_crhelper_or_touches_the_resources_private_names() -> None:
    """Only the seam knows crhelper: the rest of the provider, the devkit and the tests (but this
    file) reach the answer through handler.answers and build the provider with handler.provider;
    none reads or sets a private name of the crhelper resource (`provider.resource._...`)."""
    imports = re.compile(r"^\s*(from|import) crhelper\b", re.MULTILINE)
    touches = re.compile(r"\bresource\)?\.(_[a-z]\w*)")
    offenders = []
    for folder in ("src", "devkit", "tests", "ecr_ptc_emulator", "tools"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name in ("cfn_resource.py", Path(__file__).name):
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)} imports crhelper" for _ in imports.finditer(text)]
            offenders += [f"{path.relative_to(ROOT)} touches {m[1]}" for m in touches.finditer(text)]
    assert offenders == []
