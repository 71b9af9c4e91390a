"""The provider's semantic version: the one place it is written.

The Lambda, the contract package and the lint and CDK packages built on it are one release
and carry this one version. `./dev version X.Y.Z` rewrites it here and in every place that
must hold it as a literal (template.yaml's SAR metadata, the pyproject.toml files and their
pins on the contract, the README); tests/test_version.py fails when any of them disagrees.
"""

VERSION = "1.0.0"
