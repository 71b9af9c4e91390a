"""Copies of the provider's src/handler/{contract,upstreams,properties}.py, written by
`./dev contract` (do not edit here: edit those and run it; tests/test_contract.py fails when
these are stale)."""
