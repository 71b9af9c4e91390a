"""Development kit: what the demo, the tests and the benchmark share to drive the real handler
locally (never shipped in the Lambda package)."""
