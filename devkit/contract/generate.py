"""./dev contract: write what follows from src/handler/contract.py into the cfn-lint rule
package (tools/cfn-lint-ptc): the JSON Schema of the properties, and unchanged copies of the
three stdlib-only modules that check them (contract.py, upstreams.py, properties.py), so the
lint rule gives the handler's own messages without the Lambda's code on its path.

`./dev contract --check` writes nothing and exits 1 when a committed file is stale
(tests/test_contract.py fails the same way).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from handler.contract import json_schema

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "src" / "handler"
PACKAGE = ROOT / "tools" / "cfn-lint-ptc" / "src" / "cfn_lint_ptc"
COPIED = ("contract.py", "upstreams.py", "properties.py")
PROVIDER_INIT = '''"""Copies of the provider's src/handler/{contract,upstreams,properties}.py, written by
`./dev contract` (do not edit here: edit those and run it; tests/test_contract.py fails when
these are stale)."""
'''


def outputs() -> dict[Path, str]:
    """Every generated file and the text it must have."""
    files = {PACKAGE / "schema.json": json.dumps(json_schema(), indent=2) + "\n"}
    files[PACKAGE / "provider" / "__init__.py"] = PROVIDER_INIT
    for name in COPIED:
        files[PACKAGE / "provider" / name] = (HANDLER / name).read_text(encoding="utf-8")
    return files


def stale() -> list[Path]:
    """The generated files whose committed text differs from what the contract gives."""
    return [
        path
        for path, text in outputs().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev contract", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        for path in stale():
            print(f"stale: {path.relative_to(ROOT)} (run ./dev contract)")
        return 1 if stale() else 0
    for path, text in outputs().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
