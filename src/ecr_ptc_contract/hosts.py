"""What an UpstreamRegistryUrl is: which kind of upstream a host is, the host a URL most likely
means, why ECR would refuse a host for a kind (said with the fix), and what this version does
not know, which it leaves to ECR."""

from __future__ import annotations

import re

from .shapes import HOST_MAX, HOST_PATTERN
from .upstreams import BY_KIND, COMMON_MISTAKES, UPSTREAMS

__all__ = [
    "a_kind",
    "host_problem",
    "infer_upstream_registry",
    "is_host_name",
    "meant_host",
    "unknown_to_this_version",
]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def infer_upstream_registry(url: str) -> str | None:
    """The UpstreamRegistry ECR infers from an upstream URL, or None when it is not one it knows."""
    for upstream in UPSTREAMS:
        if re.fullmatch(upstream.host_pattern, url):
            return upstream.kind
    return None


def meant_host(url: str) -> tuple[str, list[str]]:
    """The host `url` most likely means, and what is wrong with it as written: 'scheme',
    'path', 'port' (dropped), 'capitals' (lowered), 'mistake' (a host people write for
    another, e.g. docker.io: replaced by the host ECR wants)."""
    faults = []
    host = url
    if _SCHEME.match(host):
        host = _SCHEME.sub("", host, count=1)
        faults.append("scheme")
    if "/" in host:
        host = host.split("/", 1)[0]
        faults.append("path")
    if re.fullmatch(r".+:[0-9]*", host):
        host = host.rsplit(":", 1)[0]
        faults.append("port")
    if host != host.lower():
        host = host.lower()
        faults.append("capitals")
    if host in COMMON_MISTAKES:
        host = COMMON_MISTAKES[host]
        faults.append("mistake")
    return host, faults


def is_host_name(host: str) -> bool:
    return len(host) <= HOST_MAX and re.fullmatch(HOST_PATTERN, host) is not None


def unknown_to_this_version(url: str, registry: str | None) -> list[tuple[str, str]]:
    """(property, value) of what this version does not know in an upstream: an UpstreamRegistry
    outside its table, an UpstreamRegistryUrl no kind it knows has. ECR decides on them."""
    unknown = []
    if registry is not None and registry not in BY_KIND:
        unknown.append(("UpstreamRegistry", registry))
    if infer_upstream_registry(url) is None:
        unknown.append(("UpstreamRegistryUrl", url))
    return unknown


def host_problem(host: str, registry: str | None) -> str | None:
    """Why ECR would refuse `host` (a well-formed host name) for the UpstreamRegistry `registry`
    (None: not given, so ECR infers it), or None when it takes it or this version cannot tell
    (a host no kind it knows has, given no kind or a kind it does not know: ECR decides). Said
    of the host as the rest of a sentence that begins with the property and its value."""
    upstream = BY_KIND.get(registry) if registry is not None else None
    if upstream is None or re.fullmatch(upstream.host_pattern, host):
        return None
    if upstream.literal_host is None:  # a pattern of hosts: the note says what they look like
        return f"is not {a_kind(upstream.kind)} host: {upstream.note}"
    note = f" ({upstream.note})" if upstream.note else ""
    return f"is not {a_kind(upstream.kind)} host{note}: write '{upstream.literal_host}'"


def a_kind(kind: str) -> str:
    """The kind with its article: 'an ecr', 'a quay'."""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
