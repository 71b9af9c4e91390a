"""The floor of ./dev bench's cold start under AWS's runtime interface client: the least a
function must do to serve the provider's first request, a Create.

At init it makes an ECR client (the provider makes its own at init too). Per request it makes
the one CreatePullThroughCacheRule call the provider makes for a Create and PUTs a minimal
SUCCESS answer to the ResponseURL with http.client (as crhelper does). Nothing else: no
property checks, no logging, no retries, no deadline.

Bench-only: devkit/bench/ric_cold.py copies it into the bench's own copies of the built
package as bench_floor.py (handler `bench_floor.lambda_handler`), compiled as src/Makefile
compiles the rest. It is never part of src/ or of the package `sam build` makes.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import boto3

client: Any = boto3.client("ecr")


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    properties = event["ResourceProperties"]
    prefix = properties["EcrRepositoryPrefix"]
    client.create_pull_through_cache_rule(
        ecrRepositoryPrefix=prefix,
        upstreamRegistryUrl=properties["UpstreamRegistryUrl"],
        credentialArn=properties["CredentialArn"],
    )
    body = json.dumps(
        {
            "Status": "SUCCESS",
            "Reason": "",
            "PhysicalResourceId": prefix,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {},
        }
    ).encode()
    url = urlsplit(event["ResponseURL"])
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(url.netloc, timeout=5)
    connection.request("PUT", f"{url.path}?{url.query}", body=body, headers={"Content-Type": ""})
    connection.getresponse().read()
    connection.close()
