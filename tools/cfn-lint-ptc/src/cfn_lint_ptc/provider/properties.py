"""The resource's properties: CloudFormation's strings checked against the contract
(contract.py) and parsed into one immutable RuleSpec.

Every check the ECR API would make is made here first, and every problem found is reported
at once, each naming the property, the value and what to write instead: one problem per
mistake (a value of the wrong type is not also reported missing), every quoted value short
enough that the whole list fits in the Reason CloudFormation shows. An upstream this version
does not know (a host or an UpstreamRegistry outside contract.UPSTREAMS) is no problem: ECR
adds upstreams between releases, so it goes to ECR as written and ECR decides; `warnings`
says so, for the lint rule and the CDK construct to show.

`check` also serves the cfn-lint rule (tools/cfn-lint-ptc), which runs a copy of this module,
contract.py and upstreams.py (written by `./dev contract`): values that intrinsic functions
compute are named in `computed`, count as given, and nothing is said about them.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .contract import (
    BY_NAME,
    CLOUDFORMATION_OWNED,
    CREDENTIAL_ARN_MAX,
    CREDENTIAL_ARN_PATTERN,
    ECR,
    HOST_MAX,
    KIND_MAX,
    KIND_PATTERN,
    MISTAKE_NOTES,
    NAMES,
    PREFIX_MAX,
    PREFIX_MIN,
    PREFIX_PATTERN,
    PROPERTIES,
    ROLE_ARN_MAX,
    ROLE_ARN_PATTERN,
    ROOT,
    ROOT_LOOKALIKES,
    SECRET_NAME_PREFIX,
    Property,
)
from .upstreams import (
    REQUIRES_CREDENTIAL,
    SUPPORTED_URLS,
    UPSTREAM_REGISTRIES,
    a_kind,
    host_problem,
    infer_upstream_registry,
    is_host_name,
    meant_host,
    unknown_to_this_version,
)

__all__ = [
    "CLOUDFORMATION_OWNED",
    "KNOWN",
    "ROOT",
    "InvalidProperties",
    "Problem",
    "RuleSpec",
    "canonical_prefix",
    "check",
    "describe_problems",
    "is_rule_id",
    "parse",
    "quoted",
    "warnings",
]

KNOWN = NAMES
URL = "UpstreamRegistryUrl"
_SECRET_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
    r"secret:(?P<name>.+)"
)
_RANDOM_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}")  # Secrets Manager's, at the end of every secret ARN
_LAMBDA_ARN = re.compile(r"arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):function:.+")

# How much of the Reason the problems may take. response.py keeps the first 1500 characters
# of a Reason (MAX_REASON_CHARS) and keeps the whole body under 4096 bytes, of which the ids,
# the stack's ARN and the JSON around them take under 1000.
REASON_CHARS = 1450
REASON_BYTES = 3000
# A value longer than QUOTE_MAX characters is quoted by its first QUOTE_KEEP and its length.
QUOTE_MAX, QUOTE_KEEP = 100, 40


@dataclass(frozen=True)
class Problem:
    """One mistake: the sentence that says it, which starts with the property's name, and the
    property whose value shows it (None: the properties as a whole)."""

    message: str
    property: str | None = None

    def __str__(self) -> str:
        return self.message


class InvalidProperties(Exception):
    """The properties cannot be used; `problems` holds one sentence per problem."""

    def __init__(self, found: Sequence[Problem | str]) -> None:
        self.found = [p if isinstance(p, Problem) else Problem(p) for p in found]
        self.problems = [p.message for p in self.found]
        super().__init__(describe_problems(self.problems))


def describe_problems(problems: Sequence[str]) -> str:
    """All the problems in one text that fits the Reason: when it is too long, each problem is
    shortened to the same share, keeping its start (the property and the mistake)."""

    def text(share: int, listed: int) -> str:
        items = [_cut(p, share) for p in problems[:listed]]
        if len(problems) == 1:
            return f"Invalid properties: {items[0]}"
        numbered = " ".join(f"({n}) {p}" for n, p in enumerate(items, 1))
        more = f" … and {len(problems) - listed} more" if listed < len(problems) else ""
        return f"Invalid properties, {len(problems)} problems: {numbered}{more}"

    longest = max((len(p) for p in problems), default=0)
    listed = len(problems)
    while listed > 1 and not _fits(text(40, listed)):
        listed -= 1
    low, high = min(40, longest), longest  # the largest share that fits
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _fits(text(middle, listed)) else (low, middle - 1)
    return text(low, listed)


def _fits(text: str) -> bool:
    return len(text) <= REASON_CHARS and len(text.encode("utf-8", "surrogatepass")) <= REASON_BYTES


def _cut(problem: str, share: int) -> str:
    return problem if len(problem) <= share else problem[: max(share - 1, 1)].rstrip() + "…"


def quoted(value: str, say_length: bool = True) -> str:
    """`value` as a problem quotes it: characters that do not print escaped, and a long value
    shortened to its start, followed by its length."""
    parts = []
    width = 0
    for character in value:
        text = character if character.isprintable() else ascii(character)[1:-1]
        parts.append(text)
        width += len(text)
        if width > QUOTE_MAX:
            break
    if width <= QUOTE_MAX:
        return f"'{''.join(parts)}'"
    start = "".join(parts)[:QUOTE_KEEP]
    return f"'{start}…' ({len(value)} characters)" if say_length else f"'{start}…'"


def shown(value: Any) -> str:
    """A value of any type, as a problem shows it: a string quoted, anything else as the JSON
    CloudFormation sent (null, true, 5, {"a": 1}), never as Python writes it."""
    if isinstance(value, str):
        return quoted(value)
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return "(a value nested too deep to show)"
    return text if len(text) <= QUOTE_MAX else f"{text[:QUOTE_KEEP]}… ({len(text)} characters)"


def json_kind(value: Any) -> str:
    """What JSON calls the value's type, as a sentence names it ("an object", "a number")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    return "a list" if isinstance(value, list | tuple) else f"a {type(value).__name__}"


@dataclass(frozen=True)
class RuleSpec:
    """What the template asks for."""

    ecr_repository_prefix: str
    upstream_registry_url: str
    upstream_registry: str | None = None
    upstream_repository_prefix: str | None = None
    credential_arn: str | None = None
    custom_role_arn: str | None = None
    adopt_existing: bool = False
    validate_credentials: bool = False

    @property
    def effective_upstream_registry(self) -> str | None:
        """The UpstreamRegistry ECR will hold: the one given, or the one it infers from the URL."""
        return self.upstream_registry or infer_upstream_registry(self.upstream_registry_url)

    @property
    def effective_upstream_repository_prefix(self) -> str | None:
        """ECR upstreams default to ROOT; other upstreams have none."""
        if self.effective_upstream_registry != ECR:
            return self.upstream_repository_prefix
        return self.upstream_repository_prefix or ROOT


def canonical_prefix(prefix: str) -> str:
    """ECR treats every prefix as ending in '/': 'docker-hub' and 'docker-hub/' are one rule."""
    return prefix if prefix == ROOT else prefix.rstrip("/")


def is_rule_id(physical_id: str | None) -> bool:
    """True when a PhysicalResourceId can name a rule (ids of failed Creates never can). ECR's
    own rule, not the provider's stricter one: a rule 'root' made elsewhere is still a rule."""
    return (
        bool(physical_id)
        and PREFIX_MIN <= len(str(physical_id)) <= PREFIX_MAX
        and re.fullmatch(PREFIX_PATTERN, str(physical_id)) is not None
    )


def suggest_prefix(value: str) -> str | None:
    """A valid prefix close to `value`, or None."""
    words = [w for w in re.split(r"[^a-z0-9/]+", value.lower()) if w]
    suggestion = re.sub(r"/+", "/", "-".join(words).strip("/")).replace("-/", "/").replace("/-", "/")
    if PREFIX_MIN <= len(suggestion) <= PREFIX_MAX and re.fullmatch(PREFIX_PATTERN, suggestion):
        return suggestion
    return None


def parse(properties: Mapping[str, Any]) -> RuleSpec:
    """Parse ResourceProperties into a RuleSpec, or raise InvalidProperties listing every problem."""
    if not isinstance(properties, Mapping):
        raise InvalidProperties(
            [Problem(f"The resource's Properties must be an object of properties, not {shown(properties)}.")]
        )
    found, values = _examine(properties, ())
    if found:
        raise InvalidProperties(found)
    text = values.known
    upstream_prefix = text.get("UpstreamRepositoryPrefix")
    if text["EcrRepositoryPrefix"] == ROOT and upstream_prefix == ROOT:
        upstream_prefix = None  # the same rule; ECR refuses the pair when it is sent
    return RuleSpec(
        ecr_repository_prefix=text["EcrRepositoryPrefix"],
        upstream_registry_url=text[URL],
        upstream_registry=text.get("UpstreamRegistry"),
        upstream_repository_prefix=upstream_prefix,
        credential_arn=text.get("CredentialArn"),
        custom_role_arn=text.get("CustomRoleArn"),
        adopt_existing=values.flags.get("AdoptExisting", False),
        validate_credentials=values.flags.get("ValidateCredentials", False),
    )


def check(properties: Mapping[str, Any], computed: Collection[str] = ()) -> list[Problem]:
    """Every problem with `properties`, one per mistake. The values of the properties named in
    `computed` are not known (intrinsic functions compute them at deploy time): they count as
    given, and nothing is said of them or of what depends on them."""
    return _examine(properties, computed)[0]


def warnings(properties: Mapping[str, Any], computed: Collection[str] = ()) -> list[Problem]:
    """What `properties` leave to ECR that this version cannot check: an upstream host or
    UpstreamRegistry it does not know. Nothing stops the deploy; ECR accepts or refuses them."""
    return _examine(properties, computed)[1].warnings


@dataclass
class _Values:
    known: dict[str, str] = field(default_factory=dict)  # valid and set
    flags: dict[str, bool] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)  # given, but computed or already reported
    literal: set[str] = field(default_factory=set)  # given as a literal, valid or not, and not empty
    warnings: list[Problem] = field(default_factory=list)  # left to ECR (see `warnings`)

    def given(self, name: str) -> bool:
        return name in self.known or name in self.unknown


def _examine(properties: Mapping[str, Any], computed: Collection[str]) -> tuple[list[Problem], _Values]:
    found = _unknown_names([*properties, *(c for c in computed if c not in properties)])
    values = _Values()
    for prop in PROPERTIES:
        if prop.name in computed:
            values.unknown.add(prop.name)
            continue
        if prop.name not in properties:
            if prop.required:
                found.append(Problem(f"{prop.name} is required and missing.", None))
            continue
        raw = properties[prop.name]
        if raw not in (None, ""):
            values.literal.add(prop.name)
        problem = _read(prop, raw, values)
        if problem is not None:
            values.unknown.add(prop.name)
            found.append(problem)
    location = None if "ServiceToken" in computed else _service_token_location(properties)
    found += _check_values(values, location)
    return found, values


def _unknown_names(names: Sequence[Any]) -> list[Problem]:
    found = []
    listed = False
    for name in names:
        if name in NAMES or name in CLOUDFORMATION_OWNED:
            continue
        text = str(name)
        candidates = (*NAMES, *CLOUDFORMATION_OWNED)
        by_case = [k for k in candidates if k.lower() == text.lower()]
        close = by_case or difflib.get_close_matches(text[:QUOTE_MAX], candidates, n=1, cutoff=0.6)
        if close:
            found.append(Problem(f"Unknown property {quoted(text)}: did you mean '{close[0]}'?", text))
        elif not listed:
            listed = True
            found.append(
                Problem(
                    f"Unknown property {quoted(text)}: the properties are {', '.join(NAMES)}, and "
                    f"CloudFormation's {' and '.join(CLOUDFORMATION_OWNED)}.",
                    text,
                )
            )
        else:
            found.append(Problem(f"Unknown property {quoted(text)}: remove it.", text))
    return found


def _read(prop: Property, raw: Any, values: _Values) -> Problem | None:
    """Store a valid value in `values`, or say what is wrong with its type or spacing."""
    name = prop.name
    if prop.boolean:
        if raw is None:
            return None
        if isinstance(raw, bool):
            values.flags[name] = raw
            return None
        if isinstance(raw, str) and raw.isascii() and raw.lower() in ("true", "false", ""):
            values.flags[name] = raw.lower() == "true"
            return None
        return Problem(f"{name} must be 'true' or 'false', not {shown(raw)}.", name)
    if raw is None or raw == "":
        return Problem(f"{name} is empty; it is required.", name) if prop.required else None
    if not isinstance(raw, str):
        return Problem(f"{name} must be a string, not {json_kind(raw)} {shown(raw)}.", name)
    if not raw.strip():
        need = "it is required" if prop.required else "leave it out or give a value"
        return Problem(f"{name} {quoted(raw)} is only spaces; {need}.", name)
    if raw != raw.strip():
        return Problem(
            f"{name} {quoted(raw)} has leading or trailing spaces: write {quoted(raw.strip())}.", name
        )
    values.known[name] = raw
    return None


def _service_token_location(properties: Mapping[str, Any]) -> tuple[str, str] | None:
    """(region, account) of the provider, read from the ServiceToken when it is a Lambda ARN."""
    token = properties.get("ServiceToken")
    match = _LAMBDA_ARN.fullmatch(token) if isinstance(token, str) else None
    return (match["region"], match["account"]) if match else None


def _check_values(values: _Values, location: tuple[str, str] | None) -> list[Problem]:
    found: list[Problem] = []

    def report(problem: Problem | None, name: str) -> None:
        if problem is not None:
            found.append(problem)
            values.known.pop(name, None)
            values.unknown.add(name)

    prefix = values.known.get("EcrRepositoryPrefix")
    if prefix is not None:
        report(_prefix_problem(BY_NAME["EcrRepositoryPrefix"], prefix), "EcrRepositoryPrefix")

    if "UpstreamRegistry" in values.known:
        report(_kind_problem(values.known["UpstreamRegistry"]), "UpstreamRegistry")
    kinds = _upstream_kinds(values, found)
    kind = kinds[0] if len(kinds) == 1 else None

    for prop in PROPERTIES:  # the ECR-only properties, given for another kind: any value is wrong
        if prop.only_for and kinds and prop.only_for not in kinds and prop.name in values.literal:
            found.append(
                Problem(
                    f"{prop.name} is only for ECR upstreams ({prop.only_for}); this upstream is "
                    f"{' or '.join(kinds)}: "
                    f"remove {prop.name}.",
                    prop.name,
                )
            )
            values.known.pop(prop.name, None)
            values.unknown.add(prop.name)

    upstream_prefix = values.known.get("UpstreamRepositoryPrefix")
    if upstream_prefix is not None:
        name = "UpstreamRepositoryPrefix"
        report(_prefix_problem(BY_NAME[name], upstream_prefix), name)
    upstream_prefix = values.known.get("UpstreamRepositoryPrefix")
    if values.known.get("EcrRepositoryPrefix") == ROOT and upstream_prefix not in (None, ROOT):
        found.append(
            Problem(
                "UpstreamRepositoryPrefix cannot be set when EcrRepositoryPrefix is ROOT (a ROOT rule "
                "caches the whole upstream registry): set a specific EcrRepositoryPrefix, or remove "
                "UpstreamRepositoryPrefix.",
                "UpstreamRepositoryPrefix",
            )
        )

    credential = values.known.get("CredentialArn")
    if credential is not None:
        found += _credential_problems(credential, location)
    elif kind in REQUIRES_CREDENTIAL and not values.given("CredentialArn"):
        url = values.known.get(URL)
        upstream = f" ({quoted(url)})" if url else ""
        found.append(
            Problem(
                f"CredentialArn is required for {kind} upstreams{upstream}: store the registry's "
                f"username and accessToken in a Secrets Manager secret named "
                f"'{SECRET_NAME_PREFIX}<name>' and pass its ARN (e.g. !Ref MySecret).",
                "CredentialArn",
            )
        )

    role = values.known.get("CustomRoleArn")
    if role is not None:
        if len(role) > ROLE_ARN_MAX:
            fix = "pass the role's ARN (e.g. !GetAtt MyRole.Arn)"
            found.append(_too_long(BY_NAME["CustomRoleArn"], role, fix))
        elif not re.fullmatch(ROLE_ARN_PATTERN, role):
            found.append(
                Problem(
                    f"CustomRoleArn {quoted(role)} is not an IAM role ARN: write "
                    f"arn:<partition>:iam::<account>:role/<name> (e.g. !GetAtt MyRole.Arn).",
                    "CustomRoleArn",
                )
            )
    return found


def _too_long(prop: Property, value: str, fix: str) -> Problem:
    if prop.min_length > 1:
        allowed = f"it must be {prop.min_length} to {prop.max_length}"
    else:
        allowed = f"it can be at most {prop.max_length}"
    return Problem(
        f"{prop.name} {quoted(value, say_length=False)} is {_characters(len(value))} long; {allowed}: {fix}.",
        prop.name,
    )


def _characters(count: int) -> str:
    return "1 character" if count == 1 else f"{count} characters"


def _kind_problem(registry: str) -> Problem | None:
    """Why `registry` cannot be an UpstreamRegistry, known to this version or not, or None."""
    if re.fullmatch(KIND_PATTERN, registry) and len(registry) <= KIND_MAX:
        return None
    return Problem(
        f"UpstreamRegistry {quoted(registry)} is not an upstream kind: {_meant_kind(registry)}kinds are "
        f"at most {KIND_MAX} lowercase letters and digits, in words joined by '-' (this version knows "
        f"{', '.join(UPSTREAM_REGISTRIES)}); or leave it out to let ECR infer it from the URL.",
        "UpstreamRegistry",
    )


def _meant_kind(value: str) -> str:
    """ "did you mean '<kind>'? " for the known kind closest to `value`, or ""."""
    close = difflib.get_close_matches(value[:QUOTE_MAX].lower(), UPSTREAM_REGISTRIES, n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'? " if close else ""


def _left_to_ecr(name: str, value: str) -> Problem:
    """The warning for a value this version does not know (`name`: UpstreamRegistryUrl or
    UpstreamRegistry)."""
    if name == URL:
        said = f"{URL} {quoted(value)} is not an upstream this provider version knows (it knows "
        said += f"{SUPPORTED_URLS})"
    else:
        said = (
            f"{name} {quoted(value)} is not a kind this provider version knows ({_meant_kind(value)}it "
            f"knows {', '.join(UPSTREAM_REGISTRIES)})"
        )
    return Problem(f"{said}: it goes to ECR as written, and ECR accepts or refuses it at deploy time.", name)


def _upstream_kinds(values: _Values, found: list[Problem]) -> tuple[str, ...]:
    """The upstream kinds this version knows that the rule may be for (one, or two when
    UpstreamRegistry and the URL disagree; none when neither is known), after checking the URL
    against them: an UpstreamRegistry given must be the kind of a URL this version knows, and
    a URL the host this version knows for an UpstreamRegistry given. What this version does not
    know is left to ECR, with a warning."""
    registry = values.known.get("UpstreamRegistry")
    url = values.known.get(URL)
    if url is None:
        if registry is not None and registry not in UPSTREAM_REGISTRIES:
            values.warnings.append(_left_to_ecr("UpstreamRegistry", registry))
            return ()
        return (registry,) if registry else ()
    host, faults = meant_host(url)
    kinds: tuple[str, ...] = (registry,) if registry else ()
    if len(url) > HOST_MAX and not is_host_name(host):
        fix = "write the upstream registry's host name alone"
        problem: Problem | None = _too_long(BY_NAME[URL], url, fix)
    elif not is_host_name(host):
        problem = Problem(
            f"{URL} {quoted(url)} is not a host name: write the upstream registry's host name alone "
            f"(ECR caches {SUPPORTED_URLS}).",
            URL,
        )
    else:
        inferred = infer_upstream_registry(host)
        kind_problem = None
        if registry is not None and inferred is not None and inferred != registry:
            found.append(
                Problem(
                    f"UpstreamRegistry {quoted(registry)} does not match {URL} {quoted(url)}, which is "
                    f"{a_kind(inferred)} upstream: set UpstreamRegistry to '{inferred}' or leave it out.",
                    "UpstreamRegistry",
                )
            )
            values.known.pop("UpstreamRegistry")
            values.unknown.add("UpstreamRegistry")
            kinds = (registry, inferred)  # which of the two is meant is not known
        else:
            kind_problem = host_problem(host, registry)
            kind = registry or inferred
            kinds = (kind,) if kind else ()
        if kind_problem is not None:
            problem = Problem(f"{URL} {quoted(url)} {kind_problem}.", URL)
        elif faults:
            problem = _url_shape_problem(url, host, faults)
        else:
            problem = None
            if registry is None or "UpstreamRegistry" in values.known:  # no mismatch said
                unknown = unknown_to_this_version(url, registry)
                values.warnings += [_left_to_ecr(name, value) for name, value in unknown]
    kinds = tuple(k for k in kinds if k in UPSTREAM_REGISTRIES)
    if problem is not None:
        found.append(problem)
        values.known.pop(URL)
        values.unknown.add(URL)
    return kinds


def _url_shape_problem(url: str, host: str, faults: Collection[str]) -> Problem:
    """The URL means `host`, but carries more, or is a common mistake for it (faults:
    'scheme', 'path', 'port', 'capitals', 'mistake')."""
    parts = [f for f in ("scheme", "path", "port") if f in faults]
    has = [f"a {f}" for f in parts] + (["capital letters"] if "capitals" in faults else [])
    write = f"write '{host}'"
    if has:
        drop = f"drop the {parts[0]}" if len(parts) == 1 else "drop them" if parts else ""
        fix = f"{drop}, {write}" if drop else write
        why = (
            " (ECR stores the URL as it is sent, and later updates compare it exactly)"
            if "capitals" in faults and not parts
            else ""
        )
        return Problem(f"{URL} {quoted(url)} has {_and(has)}: {fix}{why}.", URL)
    note = MISTAKE_NOTES.get(url.lower())
    because = f" ({note})" if note else ""
    return Problem(f"{URL} {quoted(url)} is not the host ECR pulls from{because}: {write}.", URL)


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _prefix_problem(prop: Property, value: str) -> Problem | None:
    """Why `value` cannot be this repository prefix, or None when it can."""
    name = prop.name
    if not PREFIX_MIN <= len(value) <= PREFIX_MAX:
        return Problem(
            f"{name} {quoted(value, say_length=False)} is {_characters(len(value))} long; it must be "
            f"{PREFIX_MIN} to {PREFIX_MAX}.",
            name,
        )
    if value in ROOT_LOOKALIKES:
        meant = "the whole registry" if name == "EcrRepositoryPrefix" else "every upstream repository"
        return Problem(
            f"{name} {quoted(value)} would be a literal prefix named 'root', not {meant}: write ROOT "
            f"(in capitals) for {meant}, or choose another name.",
            name,
        )
    if not re.fullmatch(PREFIX_PATTERN, value):
        suggestion = suggest_prefix(value)
        hint = "use lowercase letters and digits, with '.', '_', '-' or '/' only between them"
        if suggestion:
            hint += f", e.g. '{suggestion}'"
        return Problem(
            f"{name} {quoted(value)} is not a valid repository prefix: {hint} "
            "(or ROOT for the whole registry).",
            name,
        )
    return None


def _credential_problems(arn: str, location: tuple[str, str] | None) -> list[Problem]:
    name = "CredentialArn"
    if len(arn) > CREDENTIAL_ARN_MAX:
        return [_too_long(BY_NAME[name], arn, "pass the secret's ARN (e.g. !Ref MySecret)")]
    match = _SECRET_ARN.fullmatch(arn)
    if not match:
        return [
            Problem(
                f"CredentialArn {quoted(arn)} is not a Secrets Manager secret ARN: pass the secret's ARN, "
                f"arn:<partition>:secretsmanager:<region>:<account>:secret:{SECRET_NAME_PREFIX}<name> "
                f"(e.g. !Ref MySecret).",
                name,
            )
        ]
    secret = match["name"]
    if not secret.startswith(SECRET_NAME_PREFIX):
        base = secret
        suffix = _RANDOM_SUFFIX.search(secret)
        if suffix and suffix.end() == len(secret) and suffix.start() > 0:
            base = secret[: suffix.start()]
        added = ""
        if suffix and base != secret:
            added = f" (its ARN adds Secrets Manager's random suffix {quoted(suffix[0])})"
        return [
            Problem(
                f"CredentialArn names the secret {quoted(base)}{added}, but ECR only reads secrets whose "
                f"name starts with '{SECRET_NAME_PREFIX}': create the secret as "
                f"{quoted(SECRET_NAME_PREFIX + base)} and pass its ARN.",
                name,
            )
        ]
    # (shorter than CREDENTIAL_ARN_MIN cannot be: the parts already matched are longer)
    found = []
    if not re.fullmatch(CREDENTIAL_ARN_PATTERN, arn):
        found.append(
            Problem(
                f"CredentialArn {quoted(arn)} is not a secret ARN ECR accepts: "
                f"arn:<partition>:secretsmanager:<region>:<account>:secret:{SECRET_NAME_PREFIX}<name>, "
                "the name of letters, digits and / _ + = . @ -.",
                name,
            )
        )
    if location is not None and (match["region"], match["account"]) != location:
        region, account = location
        found.append(
            Problem(
                f"CredentialArn's secret is in {quoted(match['region'])}/{match['account']}, but the rule "
                f"is created in {region}/{account}: ECR reads secrets only from the rule's own "
                "account and Region; create the secret there.",
                name,
            )
        )
    return found
