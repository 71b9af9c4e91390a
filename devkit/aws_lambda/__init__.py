"""Stand-ins for AWS Lambda: the context object, in-process invocation, and containers as
separate processes (the project's own harness); the Lambda Runtime API that AWS's runtime
interface client (awslambdaric) talks to."""
