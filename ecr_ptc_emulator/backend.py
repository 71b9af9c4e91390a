"""Pull-through cache rules kept on moto's ECR backend, and the five operations on them."""

import base64
import binascii
import copy
import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.loaders import create_loader
from moto.secretsmanager.models import secretsmanager_backends

from . import secrets
from .errors import (
    InvalidParameterException,
    LimitExceededException,
    PullThroughCacheRuleAlreadyExistsException,
    PullThroughCacheRuleNotFoundException,
    SecretNotFoundException,
    UnsupportedUpstreamRegistryException,
)
from .faults import Faults
from .validation import operation_model, validate

ROOT = "ROOT"
QUOTA = 50  # rules per registry and Region, not adjustable
NEEDS_SECRET = frozenset(
    {
        "docker-hub",
        "github-container-registry",
        "gitlab-container-registry",
        "azure-container-registry",
        "chainguard",
    }
)
_HOSTS = {
    "public.ecr.aws": "ecr-public",
    "registry.k8s.io": "k8s",
    "quay.io": "quay",
    "registry-1.docker.io": "docker-hub",
    "ghcr.io": "github-container-registry",
    "registry.gitlab.com": "gitlab-container-registry",
    "cgr.dev": "chainguard",
}


@functools.cache
def _host_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The hosts of a kind that has many: an Azure registry's, and a private ECR registry's in
    any AWS partition, ``<account>.dkr.ecr.<region>.<suffix>``, with the DNS suffix of each
    partition botocore's partition data lists (read on first use: importing the emulator logs
    nothing)."""
    partitions = create_loader().load_data("partitions")["partitions"]
    suffixes = sorted({str(p["outputs"]["dnsSuffix"]).lower() for p in partitions})
    ecr = re.compile(rf"[0-9]{{12}}\.dkr\.ecr\.[a-z0-9-]+\.(?:{'|'.join(map(re.escape, suffixes))})")
    return ((re.compile(r"[a-z0-9]+\.azurecr\.io"), "azure-container-registry"), (ecr, "ecr"))


_KIND_SHAPE = "UpstreamRegistry"  # the model's enum of upstream registry kinds
_ATTRIBUTE = "_ecr_ptc_state"  # on the ECR backend, so BaseBackend.reset() drops it
_STATE_LOCK = threading.Lock()

Params = dict[str, Any]


@dataclass
class State:
    """What one ECR backend (account, Region) holds for pull-through cache rules."""

    rules: dict[str, Params] = field(default_factory=dict)
    calls: list[tuple[str, Params]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    upstreams: dict[str, str] = field(default_factory=dict)  # taught: host (lowercase) -> kind
    secret_kinds: set[str] = field(default_factory=set)  # taught kinds that need a credential
    lock: threading.RLock = field(default_factory=threading.RLock)


def state_of(backend: Any) -> State:
    with _STATE_LOCK:
        state = backend.__dict__.get(_ATTRIBUTE)
        if state is None:
            state = State()
            setattr(backend, _ATTRIBUTE, state)
        return state  # type: ignore[no-any-return]


def teach(state: State, kind: str, host: str, needs_credential: bool) -> None:
    """Make ``state``'s ECR cache ``host`` as the upstream registry ``kind``, one the model does not
    list; with ``needs_credential`` a rule for ``kind`` must name a secret (the last teaching of
    ``kind`` decides). A kind the model lists, or a host already inferred, is refused."""
    if not kind or not host:
        raise ValueError("kind and host must not be empty")
    if kind in _model_kinds():
        raise ValueError(f"{kind!r} is an upstream registry botocore's model already lists")
    known = _inferred(host.lower(), {})
    if known is not None:
        raise ValueError(f"{host!r} is already the host of the upstream registry {known!r}")
    with state.lock:
        state.upstreams[host.lower()] = kind
        if needs_credential:
            state.secret_kinds.add(kind)
        else:
            state.secret_kinds.discard(kind)


def handle(backend: Any, operation: str, params: Params) -> Params:
    """Record the call, apply faults, validate, then run ``operation``; return its output."""
    state = state_of(backend)
    with state.lock:
        state.calls.append((operation, copy.deepcopy(params)))
        state.faults.check(operation)
        lost = state.faults.loses(operation)
        validate(operation, params, {_KIND_SHAPE: sorted(set(state.upstreams.values()))})
        registry_id = params.get("registryId", backend.account_id)
        if registry_id != backend.account_id:
            raise InvalidParameterException(
                f"Invalid parameter at 'registryId' failed to satisfy constraint: "
                f"'{registry_id}' is not the registry of the caller's account"
            )
        ctx = _Context(state, backend.account_id, backend.region_name)
        output = _OPERATIONS[operation](ctx, params)
        state.faults.lose(lost)
        return output


@dataclass
class _Context:
    state: State
    account_id: str
    region: str

    def rule(self, prefix: str) -> Params:
        if prefix not in self.state.rules:
            raise PullThroughCacheRuleNotFoundException(prefix, self.account_id)
        return self.state.rules[prefix]

    def require_secret(self, arn: str) -> None:
        if self.state.faults.secret_hidden() or not self.secret_exists(arn):
            raise SecretNotFoundException(f"The specified secret '{arn}' could not be found")

    def secret_exists(self, arn: str) -> bool:
        parts = arn.split(":")
        if len(parts) < 7 or parts[3] != self.region or parts[4] != self.account_id:
            return False
        if secrets.endpoint() is not None:
            return secrets.exists_at_endpoint(arn, self.account_id, self.region)
        secret = secretsmanager_backends[self.account_id][self.region].secrets.get(arn)
        return secret is not None and not secret.is_deleted()


def _create(ctx: _Context, p: Params) -> Params:
    prefix = canonical(p["ecrRepositoryPrefix"])
    upstream = _upstream_registry(p["upstreamRegistryUrl"], p.get("upstreamRegistry"), ctx.state.upstreams)
    upstream_prefix = p.get("upstreamRepositoryPrefix")
    if upstream != "ecr":
        for name in ("customRoleArn", "upstreamRepositoryPrefix"):
            if p.get(name) is not None:
                raise InvalidParameterException(
                    f"{name} is supported only for an upstream registry of type ecr"
                )
    elif upstream_prefix is not None and prefix == ROOT and canonical(upstream_prefix) != ROOT:
        raise InvalidParameterException(
            "upstreamRepositoryPrefix can be set only when ecrRepositoryPrefix is not ROOT"
        )
    needs_secret = upstream in NEEDS_SECRET or upstream in ctx.state.secret_kinds
    if needs_secret and p.get("credentialArn") is None:
        raise UnsupportedUpstreamRegistryException(
            "The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN"
        )
    if prefix in ctx.state.rules:
        raise PullThroughCacheRuleAlreadyExistsException(prefix, ctx.account_id)
    if len(ctx.state.rules) >= QUOTA:
        raise LimitExceededException(
            f"The maximum number of pull through cache rules ({QUOTA}) "
            f"in the registry with id '{ctx.account_id}' has been reached"
        )
    if p.get("credentialArn") is not None:
        ctx.require_secret(p["credentialArn"])
    now = _now()
    rule = {
        "ecrRepositoryPrefix": prefix,
        "upstreamRegistryUrl": p["upstreamRegistryUrl"],
        "createdAt": now,
        "updatedAt": now,
        "registryId": ctx.account_id,
        "upstreamRegistry": upstream,
        "credentialArn": p.get("credentialArn"),
        "customRoleArn": p.get("customRoleArn"),
        "upstreamRepositoryPrefix": (canonical(upstream_prefix or ROOT) if upstream == "ecr" else None),
    }
    ctx.state.rules[prefix] = {k: v for k, v in rule.items() if v is not None}
    return _output("CreatePullThroughCacheRule", ctx.state.rules[prefix])


def _update(ctx: _Context, p: Params) -> Params:
    credential, role = p.get("credentialArn"), p.get("customRoleArn")
    if credential is None and role is None:
        raise InvalidParameterException(
            "Please set either credential arn or role arn to update the credentials"
        )
    rule = ctx.rule(canonical(p["ecrRepositoryPrefix"]))
    if role is not None and rule["upstreamRegistry"] != "ecr":
        raise InvalidParameterException(
            "customRoleArn is supported only for an upstream registry of type ecr"
        )
    if credential is not None:
        ctx.require_secret(credential)
    changes = {"credentialArn": credential, "customRoleArn": role}
    rule.update({k: v for k, v in changes.items() if v is not None}, updatedAt=_now())
    return _output("UpdatePullThroughCacheRule", rule)


def _delete(ctx: _Context, p: Params) -> Params:
    rule = ctx.rule(canonical(p["ecrRepositoryPrefix"]))
    del ctx.state.rules[rule["ecrRepositoryPrefix"]]
    return _output("DeletePullThroughCacheRule", rule)


def _describe(ctx: _Context, p: Params) -> Params:
    if p.get("ecrRepositoryPrefixes") is not None:
        prefixes = sorted({canonical(x) for x in p["ecrRepositoryPrefixes"]})
        for prefix in prefixes:
            ctx.rule(prefix)
    else:
        prefixes = sorted(ctx.state.rules)
    if p.get("nextToken") is not None:  # the last prefix of the previous page
        after = _decode_token(p["nextToken"])
        prefixes = [x for x in prefixes if x > after]
    limit = p.get("maxResults", 100)
    page = prefixes[:limit]
    shape = operation_model("DescribePullThroughCacheRules").output_shape
    out: Params = {
        "pullThroughCacheRules": [
            _project(shape.members["pullThroughCacheRules"].member, ctx.state.rules[x]) for x in page
        ]
    }
    if len(prefixes) > limit:
        out["nextToken"] = base64.urlsafe_b64encode(page[-1].encode()).decode()
    return out


def _validate(ctx: _Context, p: Params) -> Params:
    prefix = canonical(p["ecrRepositoryPrefix"])
    rule = ctx.rule(prefix)
    result = ctx.state.faults.forced_validation(prefix)
    if result is None:
        arn = rule.get("credentialArn")
        secret_ok = arn is None or ctx.secret_exists(arn)
        result = (True, "") if secret_ok else (False, f"The secret '{arn}' was not found")
    return _output("ValidatePullThroughCacheRule", rule, isValid=result[0], failure=result[1])


_OPERATIONS: dict[str, Callable[[_Context, Params], Params]] = {
    "CreatePullThroughCacheRule": _create,
    "UpdatePullThroughCacheRule": _update,
    "DeletePullThroughCacheRule": _delete,
    "DescribePullThroughCacheRules": _describe,
    "ValidatePullThroughCacheRule": _validate,
}
OPERATIONS = tuple(_OPERATIONS)


def canonical(prefix: str) -> str:
    """ECR reads every prefix as ending in "/": "a" and "a/" name the same rule."""
    return prefix if prefix == ROOT else prefix.rstrip("/")


def _model_kinds() -> list[str]:
    """The upstream registry kinds this botocore's ECR model lists."""
    shape = operation_model("CreatePullThroughCacheRule").input_shape.members["upstreamRegistry"]
    return list(shape.enum)


def _inferred(host: str, taught: dict[str, str]) -> str | None:
    """The upstream registry kind of ``host`` (lowercase), built in or ``taught``; None if neither."""
    return (
        _HOSTS.get(host)
        or taught.get(host)
        or next((name for pattern, name in _host_patterns() if pattern.fullmatch(host)), None)
    )


def _upstream_registry(url: str, given: str | None, taught: dict[str, str]) -> str:
    inferred = _inferred(url.lower(), taught)
    if given is not None and inferred not in (None, given):
        raise UnsupportedUpstreamRegistryException(
            f"The upstream registry URL '{url}' does not belong to the registry '{given}'"
        )
    if given is None and inferred is None:
        raise UnsupportedUpstreamRegistryException(f"The upstream registry URL '{url}' is not supported")
    return given or inferred  # type: ignore[return-value]


def _decode_token(token: str) -> str:
    try:
        return base64.b64decode(token, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError) as e:
        raise InvalidParameterException(
            "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid token'"
        ) from e


def _output(operation: str, rule: Params, **extra: Any) -> Params:
    return _project(operation_model(operation).output_shape, {**rule, **extra})


def _project(shape: Any, data: Params) -> Params:
    """The members of ``shape`` that ``data`` holds (moto serialises only those anyway)."""
    return {k: data[k] for k in shape.members if data.get(k) is not None}


def _now() -> datetime:
    now = datetime.now(UTC)  # milliseconds: what the wire format carries
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
