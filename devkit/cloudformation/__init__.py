"""Stand-ins for CloudFormation: the request events it sends, the presigned ResponseURL that
receives the answers (a real HTTP server on 127.0.0.1), the project's lifecycle simulator and
its faults, and the driver for MiniStack's CloudFormation (an independent engine)."""
