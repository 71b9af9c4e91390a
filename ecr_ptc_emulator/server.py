"""moto in server mode with the pull-through cache operations, plus fault control over HTTP.

    python -m ecr_ptc_emulator.server [--port N] [--secrets-endpoint URL]

--port 0 (the default) picks a free port. --secrets-endpoint makes ECR check a rule's
CredentialArn at that Secrets Manager (e.g. MiniStack's) instead of moto's own.

Point a client at the printed URL (``endpoint_url``). Control endpoints, on the same
server (account and Region default to 123456789012 / us-east-1):

    POST /_ecr_ptc/faults  {"action": "fail" | "lose_response" | "throttle" | "hide_secret_for" |
                            "validation_result" | "clear", <its keyword arguments>,
                            "account_id": ..., "region": ...}
    POST /_ecr_ptc/upstreams  {"kind": ..., "host": ..., "needs_credential": false,
                               "account_id": ..., "region": ...}   (teach_upstream)
    GET  /_ecr_ptc/calls?account_id=...&region=...
    GET  /_ecr_ptc/rules?account_id=...&region=...

moto's Flask apps are built per service on demand, so the control routes are a small
WSGI middleware in front of moto's ``DomainDispatcherApplication``; ``ThreadedMotoServer``
builds that application in ``_server_entry``, which the subclass below overrides.
"""

import argparse
import json
import threading
from collections.abc import Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from . import DEFAULT_ACCOUNT, DEFAULT_REGION, calls, faults, install, rules, secrets, teach_upstream

CONTROL_PATH = "/_ecr_ptc/"
_ACTIONS = ("fail", "lose_response", "throttle", "hide_secret_for", "validation_result", "clear")


class ControlMiddleware:
    """Serves ``/_ecr_ptc/*`` itself and passes every other request to moto."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(CONTROL_PATH):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        request = Request(environ)
        try:
            status, body = 200, self._control(request)
        except (KeyError, TypeError, ValueError) as e:
            status, body = 400, {"error": f"{type(e).__name__}: {e}"}
        text = json.dumps(body, default=lambda o: o.isoformat())
        response = Response(text, status, mimetype="application/json")
        return response(environ, start_response)

    @staticmethod
    def _control(request: Request) -> Any:
        route = request.path[len(CONTROL_PATH) :]
        if request.method == "GET" and route in ("calls", "rules"):
            where = (
                request.args.get("account_id", DEFAULT_ACCOUNT),
                request.args.get("region", DEFAULT_REGION),
            )
            return [list(c) for c in calls(*where)] if route == "calls" else rules(*where)
        if request.method == "POST" and route == "faults":
            kwargs = dict(json.loads(request.get_data()))
            action = kwargs.pop("action")
            if action not in _ACTIONS:
                raise ValueError(f"unknown action {action!r}; expected one of {_ACTIONS}")
            target = faults(kwargs.pop("account_id", DEFAULT_ACCOUNT), kwargs.pop("region", DEFAULT_REGION))
            getattr(target, action)(**kwargs)
            return {"ok": True}
        if request.method == "POST" and route == "upstreams":
            teach_upstream(**dict(json.loads(request.get_data())))
            return {"ok": True}
        raise KeyError(f"no control route {request.method} {request.path}")


class EmulatorServer(ThreadedMotoServer):
    """``ThreadedMotoServer`` serving the control routes too."""

    def _server_entry(self) -> None:
        app = ControlMiddleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        # stop() returns once the loop has seen its shutdown request: with the default poll of
        # half a second, every stop took that long
        self._server.serve_forever(poll_interval=0.05)


def start(port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """Start the emulator on 127.0.0.1 (port 0: a free one); return it and its base URL."""
    install()
    server = EmulatorServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, real_port = server.get_host_and_port()
    return server, f"http://{host}:{real_port}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--secrets-endpoint",
        help="check CredentialArn at this Secrets Manager (e.g. MiniStack's) instead of moto's",
    )
    args = parser.parse_args(argv)
    secrets.use_endpoint(args.secrets_endpoint)
    server, url = start(args.port)
    print(f"ECR emulator listening on {url}", flush=True)  # noqa: T201
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
