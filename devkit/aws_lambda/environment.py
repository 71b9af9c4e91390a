"""The function's configuration read from template.yaml, and the environment the managed
python3.13 runtime gives its process.

Lambda sets, for every function (AWS's "defined runtime environment variables"):
_HANDLER, AWS_EXECUTION_ENV, AWS_REGION, AWS_DEFAULT_REGION, AWS_LAMBDA_FUNCTION_NAME,
AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_INITIALIZATION_TYPE,
AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME, AWS_LAMBDA_RUNTIME_API,
LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, LANG, TZ, PATH, the execution role's credentials
(AWS_ACCESS_KEY_ID and AWS_ACCESS_KEY, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), with a JSON LoggingConfig
AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL (the ApplicationLogLevel), and the
function's own Environment variables. Nothing else of the caller's environment reaches it.
PYTHONPATH is not set on python3.13 (the task root is on sys.path because the runtime starts in
it: `python -m awslambdaric` puts the working directory first).

Departures, each standing in for what a Lambda sandbox is rather than sets: there is no home
directory with an AWS config (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name a file that
does not exist, so a developer's ~/.aws never fills in a Region or credentials), and
PYTHONDONTWRITEBYTECODE=1 stands in for the read-only /var/task (the package's own .pyc are
used, none are written). LD_LIBRARY_PATH and the X-Ray daemon's variables are not set (they
name Lambda's image paths and addresses; nothing in the package reads them).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.cloudformation import templates

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
FUNCTION = "ProviderFunction"
NO_FILE = "/nonexistent/lambda-sandbox-has-no-aws-config"


@dataclass(frozen=True)
class FunctionConfig:
    """What template.yaml configures for the function (Globals merged in, as SAM does)."""

    handler: str
    runtime: str
    timeout_s: int
    memory_mb: int
    variables: dict[str, str]
    log_format: str  # "JSON" | "Text"
    application_log_level: str  # Lambda's names: TRACE DEBUG INFO WARN ERROR FATAL
    system_log_level: str


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    data = templates.load(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return data


def function_config(
    parameters: dict[str, str] | None = None, template: Path = TEMPLATE, function: str = FUNCTION
) -> FunctionConfig:
    """The function's configuration with the template's parameters (their defaults unless
    given), e.g. `function_config({"LogLevel": "DEBUG"})`."""
    data = load_template(template)
    values = _parameters(data, parameters or {})
    merged = _merge(data.get("Globals", {}).get("Function", {}), data["Resources"][function]["Properties"])

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and "Ref" in value:
            return values[value["Ref"]]
        if isinstance(value, dict) and "Fn::FindInMap" in value:
            name, key, attribute = (resolve(v) for v in value["Fn::FindInMap"])
            return data["Mappings"][name][key][attribute]
        if isinstance(value, dict) and any(k.startswith("Fn::") for k in value):
            raise ValueError(f"{function}: cannot resolve {value} locally")
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    keys = ("Handler", "Runtime", "Timeout", "MemorySize", "Environment", "LoggingConfig")
    properties = {key: resolve(merged[key]) for key in keys if key in merged}  # Role etc.: not ours
    logging_config = properties.get("LoggingConfig", {})
    return FunctionConfig(
        handler=str(properties["Handler"]),
        runtime=str(properties["Runtime"]),
        timeout_s=int(properties.get("Timeout", 3)),
        memory_mb=int(properties.get("MemorySize", 128)),
        variables={k: str(v) for k, v in properties.get("Environment", {}).get("Variables", {}).items()},
        log_format=str(logging_config.get("LogFormat", "Text")),
        application_log_level=str(logging_config.get("ApplicationLogLevel", "INFO")),
        system_log_level=str(logging_config.get("SystemLogLevel", "INFO")),
    )


def _parameters(data: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    declared = data.get("Parameters", {})
    unknown = set(given) - set(declared)
    if unknown:
        raise ValueError(f"template.yaml has no parameter {sorted(unknown)}; it has {sorted(declared)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        value = str(given.get(name, spec.get("Default", "")))
        allowed = [str(v) for v in spec.get("AllowedValues", [])]
        if allowed and value not in allowed:
            raise ValueError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    return values


def _merge(globals_: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals: maps are merged (the resource's keys win), anything else is replaced."""
    merged = dict(globals_)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str = ""


def runtime_environment(
    config: FunctionConfig,
    *,
    task_root: Path,
    function_name: str,
    region: str | None,
    credentials: Credentials,
    runtime_bin: Path,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of the function's process, less AWS_LAMBDA_RUNTIME_API (set per
    sandbox). `region` None leaves both Region variables out (a test of that case only)."""
    today = datetime.datetime.now(datetime.UTC).strftime("%Y/%m/%d")
    env = {
        "_HANDLER": config.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{uuid.uuid4().hex}",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": f"{runtime_bin}:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_ACCESS_KEY": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        # not the sandbox's, see the module's docstring
        "AWS_CONFIG_FILE": NO_FILE,
        "AWS_SHARED_CREDENTIALS_FILE": NO_FILE,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if credentials.session_token:
        env["AWS_SESSION_TOKEN"] = credentials.session_token
    if region is not None:
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    if config.log_format.upper() == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        env["AWS_LAMBDA_LOG_LEVEL"] = config.application_log_level
    env.update(config.variables)
    env.update(extra or {})
    return env
