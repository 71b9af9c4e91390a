"""The construct tests run the real aws-cdk-lib (from .venv-cdk: see cdk_env.py)."""

from __future__ import annotations

from tests.cdk import cdk_env

cdk_env.use()
