"""One in-process scenario's environment: the real handler (crhelper included) against moto with
the ECR emulator, answered to the real receiver, with CloudFormation's record served by the
stand-in API, all on one fake clock.

Time is the Lambda context's fake clock. Retry pauses advance it (and are recorded, not slept);
an ECR attempt takes `latency(n)` seconds of it, or, when it hangs, as long as its own timeouts
allow (handler.calls.AttemptTimeouts), ending in botocore's ReadTimeoutError as over a socket.
A lost response (the emulator's lose_response "timeout") takes the attempt's read timeout.

The Lambda is stopped at its deadline: any ECR attempt, retry pause or answer PUT that would run
at or past it raises LambdaKilled instead, and nothing after that point of the invocation runs
(devkit.aws_lambda.context). The container is then gone (simulator.InProcessLambda).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ReadTimeoutError

import ecr_ptc_emulator
from devkit.aws_lambda.context import FakeClock, LambdaContext, LambdaKilled
from devkit.cloudformation.invariants import Invariants, Registry
from devkit.cloudformation.receiver import Receiver
from devkit.cloudformation.simulator import InProcessLambda, Ledger, Sibling, Stack, Template
from devkit.cloudformation.stack_api import CUSTOM_TYPE, StackApi

if TYPE_CHECKING:
    from handler.provider import Provider

Listener = Callable[[int], None]  # called at each ECR call the handler makes, with its number
SIBLING_TYPE = "AWS::CloudFormation::WaitConditionHandle"
NEW_UPSTREAM = ("artifactory", "registry.example.dev")  # (kind, host): see Lab.__init__
# How long the answer's PUT waits for S3's response when a fault holds that response back. Every
# other PUT waits as long as the provider's does (5 s): with a shorter wait, a machine busy
# enough to answer late on 127.0.0.1 made the provider retry a PUT the receiver had stored, and
# the simulator reported a second answer that only the load had caused.
STALLED_PUT_TIMEOUT_S = 0.3


@functools.cache
def _clients() -> tuple[Any, Any]:
    """ECR and Secrets Manager clients for the whole run (creating one costs ~50 ms); moto's
    mock serves them whichever mock_aws is active."""
    import boto3

    region = "us-east-1"
    return boto3.client("ecr", region_name=region), boto3.client("secretsmanager", region_name=region)


@functools.cache
def _provider_clients() -> tuple[Any, Any]:
    """The ECR and CloudFormation clients every container of the run's provider uses, configured
    as handler.app configures its own."""
    import boto3

    from handler.wiring import CLIENT_CONFIG

    return boto3.client("ecr", config=CLIENT_CONFIG), boto3.client("cloudformation", config=CLIENT_CONFIG)


class Lab:
    """See the module's docstring. Every ECR call the handler makes passes the listeners first,
    and, once ECR took it (its answer not yet back to the caller), the `landed` listeners."""

    SECRETS = ("a", "b")

    def __init__(self, receiver: Receiver, ledger: Ledger) -> None:
        self.receiver = receiver
        self.ledger = ledger
        ecr, secrets = _clients()
        self.registry = Registry(ecr)
        self.invariants = Invariants(ledger, self.registry)
        self.faults = ecr_ptc_emulator.faults()
        self.lambda_ = InProcessLambda(self._container)
        self.stack_api = StackApi()
        self.clock = FakeClock()
        self.current: LambdaContext | None = None
        self.pauses: list[float] = []
        self.listeners: list[Listener] = []
        self.landed: list[Listener] = []
        self.latency: Callable[[int], float] = lambda n: 0.0
        self.service_timeout: int | None = None  # added to every rule's properties when set
        self.function_timeout_s = 120.0  # the provider's Timeout (template.yaml)
        self.armed: list[Callable[[], None]] = []  # every action the watchdog was armed with
        self.handler_calls = 0  # ECR calls the handler made (also those that never reached ECR)
        # ECR as it may be after this release: one more upstream, which the provider does not know
        ecr_ptc_emulator.teach_upstream(*NEW_UPSTREAM, needs_credential=True)
        self.secrets = {
            name: str(
                secrets.create_secret(
                    Name=f"ecr-pullthroughcache/{name}", SecretString='{"username":"u","accessToken":"t"}'
                )["ARN"]
            )
            for name in self.SECRETS
        }

    @property
    def app(self) -> Any:
        from handler import app

        return app

    @property
    def provider(self) -> Provider:
        """The provider of the container that serves now."""
        return self.lambda_.provider

    def _container(self) -> Provider:
        """A new container's provider: answering through the lab's PUT, pausing on its clock, the
        watchdog's actions recorded (`armed`)."""
        from handler.provider import build_provider

        ecr, cloudformation = _provider_clients()
        provider = build_provider(ecr, lambda: cloudformation, send=self._put, sleep=self._sleep)
        watchdog = provider.answers.watchdog
        arm = watchdog.arm

        def recording(seconds: float, action: Callable[[], None]) -> None:
            self.armed.append(action)
            arm(seconds, action)

        watchdog.arm = recording  # type: ignore[method-assign]
        return provider

    def __enter__(self) -> Lab:
        self._saved = self.app.provider
        ecr, cloudformation = _provider_clients()
        ecr.meta.events.register_first("before-send.ecr.*", self._before_send)
        ecr.meta.events.register("after-call-error.ecr.*", self._after_error)
        ecr.meta.events.register_first("after-call.ecr.*", self._after_call)
        self.stack_api.install(cloudformation)
        return self

    def __exit__(self, *exc: object) -> None:
        ecr, _ = _provider_clients()
        ecr.meta.events.unregister("before-send.ecr.*", self._before_send)
        ecr.meta.events.unregister("after-call-error.ecr.*", self._after_error)
        ecr.meta.events.unregister("after-call.ecr.*", self._after_call)
        self.stack_api.uninstall()
        self.provider.answers.watchdog.cancel()
        self.app.provider = self._saved

    # -- time, and the process stopped at its deadline ------------------------------------------

    def context(self, timeout_s: float) -> LambdaContext:
        self.current = LambdaContext(timeout_s, clock=self.clock)
        return self.current

    def _alive(self) -> None:
        if self.current is not None:
            self.current.check_alive()

    def _pass(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self._alive()

    def _sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self._pass(seconds)

    def _put(self, url: str, body: bytes, time_left: Callable[[], float]) -> Any:
        from handler import response

        self._alive()
        if self.receiver.stalls(url):
            return response.put(url, body, time_left, timeout_s=STALLED_PUT_TIMEOUT_S, sleep=self._sleep)
        return response.put(url, body, time_left, sleep=self._sleep)

    def _bound(self) -> float:
        connect, read = self._timeouts()
        return float(connect + read)

    def _timeouts(self) -> tuple[float, float]:
        """The (connect, read) timeouts of the handler's latest ECR attempt."""
        timeouts = self.provider.ecr_timeouts
        return (timeouts.current if timeouts else None) or (2.0, 6.0)

    def _before_send(self, request: Any, **kwargs: Any) -> None:
        self._alive()
        self.handler_calls += 1
        for listener in list(self.listeners):
            listener(self.handler_calls)
        takes = self.latency(self.handler_calls)
        if takes > self._bound():  # no answer within the attempt's timeouts: it ends at them
            self._pass(self._bound())
            raise ReadTimeoutError(endpoint_url=str(request.url))
        self._pass(takes)

    def _after_call(self, **kwargs: Any) -> None:
        for listener in list(self.landed):
            listener(self.handler_calls)

    def _after_error(self, exception: Exception, **kwargs: Any) -> None:
        lost = isinstance(exception, ReadTimeoutError) and type(exception) is not ReadTimeoutError
        if lost:  # the emulator took the call and sent nothing back: the read timeout runs out
            self._pass(self._timeouts()[1])

    def age_rules(self) -> None:
        """Every rule now in the registry was made a minute ago: what exists before an operation
        comes from earlier deploys (a create settling a lost response tells its own rule by age)."""
        recent = datetime.now(UTC) - timedelta(seconds=30)
        for prefix, rule in self.registry.rules().items():
            if rule["createdAt"] > recent:  # not aged yet
                ecr_ptc_emulator.backdate(prefix, 60)

    def fire_timeout(self) -> None:
        """The watchdog's thread runs the action it was last armed with, now (it was descheduled
        until this moment)."""
        if self.armed:
            self.armed[-1]()

    def answer_due(self) -> None:
        """Time passes until the current request's answer is due, and the watchdog's thread runs
        its timeout answer then: what a call outliving the time left leads to."""
        self.until_answer_due()
        self.fire_timeout()

    def until_answer_due(self) -> None:
        turn = self.provider.answers.current
        if turn is not None:
            self.clock.advance(max(turn.answer_left(), 0.0))

    def kill(self) -> None:
        """The deadline comes and Lambda stops the process: nothing after this point runs."""
        if self.current is not None:
            self.clock.advance(self.current.get_remaining_time_in_millis() / 1000.0 + 0.001)
        raise LambdaKilled("the Lambda's deadline")

    # -- stacks -----------------------------------------------------------------------------------

    def resolve(self, template: Template) -> Template:
        """The template with $SECRET_<NAME> replaced by that secret's ARN (and ServiceTimeout)."""
        resolved: Template = {}
        for logical_id, definition in template.items():
            if isinstance(definition, Sibling):
                resolved[logical_id] = definition
                continue
            properties = {
                k: self.secrets[v.removeprefix("$SECRET_").lower()] if v.startswith("$SECRET_") else v
                for k, v in definition.items()
            }
            if self.service_timeout is not None:
                properties["ServiceTimeout"] = str(self.service_timeout)
            resolved[logical_id] = properties
        return resolved

    def stack(self, name: str = "sim-stack") -> Stack:
        return Stack(
            self.lambda_,
            self.receiver,
            self.ledger,
            name=name,
            ecr_log=self.registry.ops,
            new_context=self.context,
            publish=self.publish,
            function_timeout_s=self.function_timeout_s,
        )

    def publish(self, stack: Stack) -> None:
        """CloudFormation's record of `stack` as DescribeStacks and ListStackResources show it."""
        view = self.stack_api.stacks.get(stack.stack_id) or self.stack_api.add(stack.stack_id)
        view.status = stack.status
        view.resources = {
            logical_id: (
                SIBLING_TYPE if isinstance(record.definition, Sibling) else CUSTOM_TYPE,
                record.physical_id,
            )
            for logical_id, record in stack.resources.items()
        }

    def clear(self) -> None:
        """Every fault off."""
        self.faults.clear()
        self.listeners.clear()
        self.landed.clear()
        self.latency = lambda n: 0.0
        self.stack_api.fail = None
