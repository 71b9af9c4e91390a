"""The construct tests run the real aws-cdk-lib (from .venv-cdk: see cdk_env.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cdk import cdk_env

cdk_env.use()

from tests.cdk import synth  # noqa: E402  (imports aws_cdk)


@pytest.fixture(scope="session", autouse=True)
def _cloud_assemblies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The Apps' cloud assemblies in pytest's temporary directory, not the system's."""
    with synth.assemblies_under(tmp_path_factory.mktemp("cdk-assemblies")):
        yield
