"""An unknown keyword argument of the construct, said helpfully.

Python alone says `PullThroughCacheRule.__init__() got an unexpected keyword argument
'upstream_url'` (3.13 adds "Did you mean" only for a near miss, older versions never): no value,
no list of what the construct takes. `known_keywords` wraps `__init__` so the TypeError names
the keyword and the value as written, the keyword most likely meant (a CloudFormation property
name gives its keyword), and every keyword the construct takes. The signature stays the same
(functools.wraps: inspect, IDEs and mypy see the real one).
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from .checks import KEYWORDS

__all__ = ["known_keywords", "unknown_keyword"]

P = ParamSpec("P")
R = TypeVar("R")


def known_keywords(init: Callable[P, R]) -> Callable[P, R]:  # noqa: UP047 -- runs on Python 3.10
    """`init`, refusing a keyword argument it does not take with unknown_keyword's TypeError."""
    parameters = inspect.signature(init).parameters
    taken = [n for n, p in parameters.items() if n != "self" and p.kind is not p.VAR_KEYWORD]
    offered = [n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY]
    owner = init.__qualname__.split(".")[0]

    @functools.wraps(init)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        for keyword, value in kwargs.items():
            if keyword not in taken:
                raise TypeError(unknown_keyword(owner, keyword, value, offered))
        return init(*args, **kwargs)

    return checked


def unknown_keyword(owner: str, keyword: str, value: object, offered: Iterable[str]) -> str:
    offered = list(offered)
    written = f"{keyword}={value!r}" if isinstance(value, (str, bool, int)) else f"{keyword}="
    meant = _meant(keyword, offered)
    fix = f" Did you mean {meant}=?" if meant else ""
    return f"{owner} has no keyword argument {written}.{fix} Its keywords: {', '.join(offered)}."


def _meant(keyword: str, offered: list[str]) -> str | None:
    """The keyword most likely meant: the one a CloudFormation property name gives, the one that
    differs only in case and underscores, or the closest spelling."""
    if keyword in KEYWORDS:
        return KEYWORDS[keyword]
    squashed = {k.replace("_", ""): k for k in offered}
    if keyword.replace("_", "").lower() in squashed:
        return squashed[keyword.replace("_", "").lower()]
    close = difflib.get_close_matches(keyword.lower(), offered, n=1, cutoff=0.6)
    return close[0] if close else None
