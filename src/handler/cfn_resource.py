"""The one module that knows crhelper's internals (crhelper==2.0.12, pinned in requirements.txt;
tests/test_cfn_resource.py fails loudly when an internal used here changes).

crhelper's CfnResource dispatches Create/Update/Delete to the hooks registered with
`create`/`update`/`delete`, remembers a start-up failure (`init_failure`) and answers FAILED when a
hook raises. `ProviderResource` keeps that and hands everything about the answer to
handler.answers.Answers, changing what crhelper does wrong for this provider:

- its __init__ is not called: it would create lambda/events/logs clients (for polling, unused:
  ~100 ms of every cold start) and reconfigure the root logger (Powertools owns logging);
- no 120 s sleep after a Delete, and no logging setup on each request;
- the timeout answer comes from Answers' one watchdog thread, not a threading.Timer per request,
  and only for the request it was armed for;
- the answer goes out through Answers (once, bounded, protocol-valid, never logging the URL);
- a failed Create answers an id that can never name a rule, so its Delete touches nothing.
"""

from __future__ import annotations

from typing import Any

from crhelper import CfnResource

from handler.answers import Answers
from handler.dispatch import Dispatcher
from handler.response import FAILED, failed_create_id

# What CfnResource.__init__ sets, with the values this provider needs (checked against crhelper).
CRHELPER_STATE: dict[str, Any] = {
    "_sleep_on_delete": 0,
    "_create_func": None,
    "_update_func": None,
    "_delete_func": None,
    "_poll_create_func": None,
    "_poll_update_func": None,
    "_poll_delete_func": None,
    "_timer": None,
    "_init_failed": None,
    "_json_logging": False,
    "_log_level": "INFO",
    "_boto_level": "ERROR",
    "_send_response": False,
    "_polling_interval": 2,
    "Status": "",
    "Reason": "",
    "PhysicalResourceId": "",
    "StackId": "",
    "RequestId": "",
    "LogicalResourceId": "",
    "Data": {},
    "NoEcho": False,
    "_event": {},
    "_context": None,
    "_response_url": "",
    "_sam_local": None,
    "_region": None,
    "_ssl_verify": None,
}
# The methods of CfnResource overridden below, or called by its __call__ on the way to them.
CRHELPER_METHODS = (
    "__call__",
    "_crhelper_init",
    "_wrap_function",
    "_cfn_response",
    "_set_timeout",
    "_send",
    "_log_setup",
    "_wait_for_cwlogs",
    "generate_physical_id",
    "init_failure",
)


class ProviderResource(CfnResource):
    """crhelper's dispatch, with the answer owned by `answers` and the work done by `dispatcher`."""

    def __init__(self, answers: Answers, dispatcher: Dispatcher) -> None:
        for name, value in CRHELPER_STATE.items():
            setattr(self, name, dict(value) if isinstance(value, dict) else value)
        self.answers = answers
        self.dispatcher = dispatcher
        self.create(self._work)
        self.update(self._work)
        self.delete(self._work)

    def __call__(self, event: Any, context: Any) -> None:
        self.answers.serve(event, context, lambda checked: CfnResource.__call__(self, checked, context))

    def _work(self, event: dict[str, Any], context: Any) -> str:
        """The Create/Update/Delete hook: the dispatcher's result, settled with the answer."""
        turn = self.answers.current
        assert turn is not None
        request = self.dispatcher.begin(event, context, turn.deadline())
        self.answers.working(turn, request)
        result = request.run()
        if self.answers.settle(turn, request, result):
            self.Status, self.Reason, self.Data = result.status, result.reason, dict(result.data)
        return result.physical_id

    # -- crhelper's own steps, changed ---------------------------------------------------------

    def _log_setup(self, event: Any, context: Any) -> None:
        """Logging is configured once, by Powertools, in handler.app."""

    def _wait_for_cwlogs(self, sleep: Any = None) -> None:
        """No pause after a Delete: the answer goes out as soon as the work is done."""

    def generate_physical_id(self, event: dict[str, Any]) -> str:
        return failed_create_id(str(event.get("RequestId", "")))

    def _set_timeout(self) -> None:
        turn = self.answers.current
        assert turn is not None
        self._timer = self.answers.watchdog  # crhelper cancels self._timer when the request is done
        self.answers.arm(turn)

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        turn = self.answers.current
        if turn is None:
            return
        self.answers.send_answer(
            turn,
            status or self.Status or FAILED,
            reason if status else str(self.Reason),
            str(self.PhysicalResourceId or "") or None,
            self.Data,
        )
