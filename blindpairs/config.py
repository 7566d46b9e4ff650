"""Stage parameters: typed dataclasses, one YAML file, CLI flags, resolved config.

Each stage declares its parameters once, as a frozen dataclass whose fields are
made with :func:`option`. From that one declaration come the ``--help`` text,
the CLI flags, the section of the YAML config file and the resolved config
written to ``<workspace>/config.yaml``. Precedence: dataclass default < config
file section < flags given on the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from blindpairs import atomic
from blindpairs.errors import ConfigError

T = TypeVar("T")


def option(
    default: Any,
    help: str,
    *,
    parse: Callable[[Any], Any] | None = None,
    choices: tuple[str, ...] | None = None,
    metavar: str | None = None,
    flag: str | None = None,
) -> Any:
    """A dataclass field that is also a CLI flag and a config-file key.

    ``parse`` turns a CLI string or a YAML value into the field's value and
    raises ``ValueError`` with a readable reason when it cannot.
    """
    meta = {"help": help, "parse": parse, "choices": choices, "metavar": metavar, "flag": flag}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple or None for mutable defaults")
    return dataclasses.field(default=default, metadata=meta)


def _flag(field: dataclasses.Field) -> str:
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def add_options(parser: argparse.ArgumentParser, params_cls: type) -> None:
    """Add one flag per field of ``params_cls`` (values stay unset unless given)."""
    group = parser.add_argument_group(f"{params_cls.__name__} (config-file keys in brackets)")
    for f in dataclasses.fields(params_cls):
        meta = f.metadata
        default = f.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        # argparse %-formats help strings: a literal % must be doubled
        text = f"{meta['help']} [{f.name}; default: {shown}]".replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": text}
        if isinstance(default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["metavar"] = meta.get("metavar") or f.name.upper()
            if meta.get("choices"):
                kwargs["choices"] = meta["choices"]
                kwargs.pop("metavar")
        group.add_argument(_flag(f), **kwargs)


def _coerce(params_cls: type, f: dataclasses.Field, value: Any, source: str) -> Any:
    parse = f.metadata.get("parse")
    try:
        if value is None:
            return None
        if parse is not None:
            return parse(value)
        default = f.default
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() in {"1", "true", "yes", "on"}:
                    return True
                if value.lower() in {"0", "false", "no", "off"}:
                    return False
                raise ValueError(f"expected true or false, got {value!r}")
            return bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, str):
            choices = f.metadata.get("choices")
            if choices and value not in choices:
                raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
            return str(value)
        return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: option '{f.name}' ({_flag(f)}): {exc}") from None


def resolve(
    params_cls: type[T],
    section: Mapping[str, Any] | None = None,
    cli: argparse.Namespace | Mapping[str, Any] | None = None,
    *,
    section_source: str = "config file",
) -> T:
    """Build ``params_cls`` from defaults, a config-file section and CLI values."""
    fields = {f.name: f for f in dataclasses.fields(params_cls)}
    values: dict[str, Any] = {}
    for key, value in (section or {}).items():
        key = str(key).replace("-", "_")
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{section_source}: unknown option '{key}' (known: {known})")
        values[key] = _coerce(params_cls, fields[key], value, section_source)
    given = vars(cli) if isinstance(cli, argparse.Namespace) else dict(cli or {})
    for key, f in fields.items():
        if key in given:
            values[key] = _coerce(params_cls, f, given[key], "command line")
    return params_cls(**values)


def to_dict(params: Any) -> dict[str, Any]:
    """A YAML/JSON-friendly dict of a params dataclass (tuples become lists)."""
    out = {}
    for k, v in dataclasses.asdict(params).items():
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's loader where PyYAML has it (about 10x faster)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def load_config(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """Load a YAML config file: a mapping of stage name to that stage's options."""
    if path is None:
        return {}
    path = Path(path)
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(
        isinstance(v, (dict, type(None))) for v in data.values()
    ):
        raise ConfigError(
            f"{path}: expected a mapping of stage name to options, e.g. 'tile: {{size: 512}}'"
        )
    return {str(k): (v or {}) for k, v in data.items()}


def record_resolved(config_path: str | os.PathLike[str], stage: str, params: Any) -> None:
    """Write ``params`` as the ``stage`` section of the workspace's resolved config."""
    config_path = Path(config_path)
    current: dict[str, Any] = {}
    if config_path.exists():
        try:
            current = safe_load(config_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            current = {}
    if current.get(stage) == to_dict(params):
        return  # unchanged: leave the file (and its mtime) alone
    current[stage] = to_dict(params)
    atomic.write_text(config_path, yaml.safe_dump(current, sort_keys=True))


# ------------------------------------------------------------ common parsers
def int_tuple(value: Any) -> tuple[int, ...]:
    """Parse ``"4,3,2"`` or ``[4, 3, 2]`` into a tuple of ints."""
    items = value.split(",") if isinstance(value, str) else list(value)
    try:
        return tuple(int(str(v).strip()) for v in items if str(v).strip())
    except ValueError:
        raise ValueError(f"expected comma-separated integers, got {value!r}") from None


def float_tuple(value: Any) -> tuple[float, ...]:
    """Parse ``"2,98"`` or ``[2, 98]`` into a tuple of floats."""
    items = value.split(",") if isinstance(value, str) else list(value)
    try:
        return tuple(float(str(v).strip()) for v in items if str(v).strip())
    except ValueError:
        raise ValueError(f"expected comma-separated numbers, got {value!r}") from None


def optional_float(value: Any) -> float | None:
    """Parse a float, or ``none``/empty for no value."""
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", "none", "null"}):
        return None
    return float(value)


def positive_int(value: Any) -> int:
    """Parse an integer >= 1."""
    number = int(value)
    if number < 1:
        raise ValueError(f"expected a positive integer, got {value!r}")
    return number


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_name(value: Any) -> str:
    """An environment variable name (options name the variable; secrets never are options)."""
    text = str(value).strip()
    if not _ENV_NAME.match(text):
        raise ValueError(
            f"expected an environment variable name such as OPENAI_API_KEY, not {text!r}"
        )
    return text
