"""A test-only custom resource function for MiniStack (never part of the provider): for each
request it records the event and what CloudFormation tells it mid-operation (DescribeStacks and
ListStackResources on the request's StackId, through AWS_ENDPOINT_URL, which MiniStack points
at itself), then answers the ResponseURL.

Properties: Id (the physical id to answer), Fail "true" (answer FAILED to Create/Update),
Sleep (seconds to wait before answering), NoAnswer "true" (return without answering).
"""

import json
import os
import time
import urllib.request

import boto3


def handler(event, context):
    props = event.get("ResourceProperties", {})
    record = {"event": {**event, "ResponseURL": "<ResponseURL>"}}
    cfn = boto3.client("cloudformation")
    record["endpoint"] = cfn.meta.endpoint_url
    record["log_format"] = os.environ.get("AWS_LAMBDA_LOG_FORMAT")
    stack = cfn.describe_stacks(StackName=event["StackId"])["Stacks"][0]
    record["stack_status"] = stack["StackStatus"]
    record["last_updated"] = str(stack.get("LastUpdatedTime"))
    record["creation_time"] = str(stack.get("CreationTime"))
    record["resources"] = [
        {k: r.get(k) for k in ("LogicalResourceId", "PhysicalResourceId", "ResourceType", "ResourceStatus")}
        for r in cfn.list_stack_resources(StackName=event["StackId"])["StackResourceSummaries"]
    ]
    fail = props.get("Fail") == "true" and event["RequestType"] != "Delete"
    if event["RequestType"] == "Delete":
        physical_id = event["PhysicalResourceId"]
    else:
        physical_id = "probe-" + props.get("Id", "x")
    if props.get("Sleep"):
        time.sleep(float(props["Sleep"]))
    with open(os.environ["PROBE_LOG"], "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
    if props.get("NoAnswer") == "true":
        return
    body = {
        "Status": "FAILED" if fail else "SUCCESS",
        "Reason": "the probe was asked to fail" if fail else "",
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {"RequestType": event["RequestType"]},
    }
    request = urllib.request.Request(event["ResponseURL"], data=json.dumps(body).encode(), method="PUT")
    with urllib.request.urlopen(request, timeout=10):
        pass
