"""The provider's semantic version: the one place it is written.

`./dev version X.Y.Z` rewrites it here and in every place that must hold it as a literal
(template.yaml's SAR metadata, pyproject.toml, the README); tests/test_version.py fails when
any of them disagrees. The ECR client's user agent and every decision log line read it from here.
"""

VERSION = "1.0.0"
