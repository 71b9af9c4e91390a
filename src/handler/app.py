"""The Lambda entry point (template.yaml: Handler handler.app.lambda_handler).

Lambda's start-up imports this module. It loads everything else (handler.wiring: logging, the
AWS clients, the provider) with the cyclic garbage collector off, then turns the collector on
again with what the start-up made frozen out of its later passes. The collector's passes over the
imports' objects cost the built package's cold start under AWS's runtime interface client about
18 ms of 230 (median of 15 interleaved cold starts each way: init 210.5 ms without them, 230.7 ms
with them). `importlib` loads handler.wiring so that the collector is off before its imports run.
"""

from __future__ import annotations

import gc
import importlib
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handler.provider import Provider

STARTED = time.monotonic()  # CloudFormation's ServiceTimeout counts the container's start too
gc.disable()
wiring: Any = importlib.import_module("handler.wiring")
provider: Provider = wiring.make_provider(started=STARTED)
gc.freeze()
gc.enable()


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    wiring.serve(provider, event, context)
