"""How long the timeout answer takes from the moment it is due to S3's reply, under AWS's runtime
interface client with Lambda's freeze modelled (devkit.aws_lambda.ric): ECR's reply to the
Create trickles in and completes just as the timeout answer leaves (an 8 s deadline), and the
ResponseURL is 0.1 s away each way. An answer still on its way when the function returns is
frozen with the environment, and lost when it is retired (here: closed).

    ./dev bench --timeout-answer [--runs N]

prints, for N runs, the median and range of (S3 storing the answer) - (the moment it was
due), and how many answers never reached S3.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from devkit.aws_lambda import environment, package
from devkit.aws_lambda.context import FUNCTION_ARN, FUNCTION_NAME
from devkit.aws_lambda.emulator_server import EmulatorServer
from devkit.aws_lambda.endpoints import WithholdingProxy
from devkit.aws_lambda.ric import RIC_VENV, RuntimeContainer
from devkit.cloudformation.events import request
from devkit.cloudformation.receiver import Receiver
from handler.deadline import answer_reserve

TIMEOUT_S = 8.0
LATENCY_S = 0.1
QUAY = {"EcrRepositoryPrefix": "quay", "UpstreamRegistryUrl": "quay.io"}


def one(task_root: Path, ecr_server: EmulatorServer, receiver: Receiver) -> float | None:
    """Seconds from the answer being due to S3 storing it; None when it never arrived."""
    ecr_server.reset()
    config = environment.function_config()
    with WithholdingProxy(ecr_server.url, "CreatePullThroughCacheRule", how="trickle") as ecr:
        env = environment.runtime_environment(
            config,
            task_root=task_root,
            function_name=FUNCTION_NAME,
            region="us-east-1",
            credentials=environment.Credentials("testing", "testing", "testing"),
            runtime_bin=RIC_VENV / "bin",
            extra={"AWS_ENDPOINT_URL_ECR": ecr.url},
        )
        url = receiver.url()
        with RuntimeContainer(
            task_root,
            env,
            config.handler,
            TIMEOUT_S,
            FUNCTION_ARN,
            response_latency_s=LATENCY_S,
            on_answer_sent=ecr.release,
        ) as container:
            result = container.invoke({**request("Create", QUAY), "ResponseURL": url}, timeout_s=TIMEOUT_S)
    stored = receiver.raw(url)
    if not stored:
        return None
    received_at = result.answered_at - result.duration_s  # when the runtime got the event
    due = received_at + TIMEOUT_S - answer_reserve(TIMEOUT_S)
    return float(stored[0]["at"]) - due


def main(runs: int = 5) -> None:
    task_root = package.build()
    with EmulatorServer() as ecr_server, Receiver() as receiver:
        samples = [one(task_root, ecr_server, receiver) for _ in range(runs)]
    arrived = sorted(s for s in samples if s is not None)
    lost = len(samples) - len(arrived)
    line = f"timeout answer, from due to stored by S3 ({runs} runs, ResponseURL {LATENCY_S} s away):"
    if arrived:
        line += f" median {statistics.median(arrived):.3f} s, range {arrived[0]:.3f}-{arrived[-1]:.3f} s;"
    print(f"{line} {lost} of {runs} never reached S3")
