"""Stage parameters: typed dataclasses, one YAML file, CLI flags, resolved config.

Each stage declares its parameters once, as a frozen dataclass whose fields are
made with :func:`option`. From that one declaration come the ``--help`` text,
the CLI flags, the section of the YAML config file and the resolved config
written to ``<workspace>/config.yaml``. Precedence: dataclass default < config
file section < flags given on the command line.

An option group shared by several stages (a dataclass with ``SHARED_SECTION``, such as
the encoder choice) is one option with one meaning, taken whole from one place: the
command line if it gives any of the group's keys, else the stage's own section if it
sets any, else the group's home section (:func:`stage_section`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from collections.abc import Callable, Collection, Mapping
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
    positional: bool = False,
    deprecated: tuple[str, ...] = (),
    once: bool = False,
) -> Any:
    """A dataclass field that is also a CLI flag and a config-file key.

    ``parse`` turns a CLI string or a YAML value into the field's value and
    raises ``ValueError`` with a readable reason when it cannot. ``positional``
    makes it the command's positional arguments (a tuple field). ``deprecated``
    names old spellings still accepted as a flag (``--old``) and a config key,
    each with a one-line warning. ``once`` marks a one-off (such as ``force``): given on
    the command line it applies to that run only and is not recorded as a standing
    setting in the workspace's config.yaml (:func:`standing`).
    """
    meta = {
        "help": help,
        "parse": parse,
        "choices": choices,
        "metavar": metavar,
        "positional": positional,
        "deprecated": deprecated,
        "once": once,
    }
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple or None for mutable defaults")
    return dataclasses.field(default=default, metadata=meta)


def option_fields(params_cls: type) -> list[dataclasses.Field]:
    """The fields of ``params_cls`` made with :func:`option` (flags and config keys)."""
    return [f for f in dataclasses.fields(params_cls) if "help" in f.metadata]


def _flag(field: dataclasses.Field) -> str:
    if field.metadata.get("positional"):
        return f"the positional {field.name.upper()}"
    return "--" + field.name.replace("_", "-")


def warn_deprecated(old: str, new: str, where: str = "") -> None:
    """The one-line warning of an old spelling that still works."""
    print(f"blindpairs: warning: {where}{old} is deprecated; use {new}", file=sys.stderr)


class _DeprecatedFlag(argparse.Action):
    """An old flag name: sets the new option and warns once per use."""

    def __init__(self, option_strings: list[str], dest: str, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        warn_deprecated(str(option_string), self.new)
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)


def _add_deprecated(group: Any, f: dataclasses.Field, old: str) -> None:
    """The old spelling ``--old`` of ``f`` (and ``--no-old`` for a switch)."""
    flag = "--" + old.replace("_", "-")
    switch = isinstance(f.default, bool)
    spellings = [(flag, _flag(f), True)]
    if switch:
        spellings.append(("--no-" + flag[2:], "--no-" + _flag(f)[2:], False))
    for spelled, new, value in spellings:
        group.add_argument(
            spelled,
            dest=f.name,
            default=argparse.SUPPRESS,
            action=_DeprecatedFlag,
            new=new,
            nargs=0 if switch else None,
            const=value if switch else None,
            help=argparse.SUPPRESS,
        )


def add_options(parser: argparse.ArgumentParser, params_cls: type) -> None:
    """Add one flag per field of ``params_cls`` (values stay unset unless given)."""
    group = parser.add_argument_group(f"{params_cls.__name__} (config-file keys in brackets)")
    for f in option_fields(params_cls):
        meta = f.metadata
        default = f.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        if meta.get("positional"):
            shown = f"the config file's '{f.name}:' list"
        if shown == "":  # e.g. no bands given: the help says what happens then
            shown = "not set"
        # argparse %-formats help strings: a literal % must be doubled
        text = f"{meta['help']} [{f.name}; default: {shown}]".replace("%", "%%")
        if meta.get("positional"):
            parser.add_argument(f.name, nargs="*", default=argparse.SUPPRESS, help=text)
            continue
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": text}
        if isinstance(default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["metavar"] = meta.get("metavar") or f.name.upper()
            if meta.get("choices"):
                kwargs["choices"] = meta["choices"]
                kwargs.pop("metavar")
        group.add_argument(_flag(f), **kwargs)
        for old in meta.get("deprecated") or ():
            _add_deprecated(group, f, old)


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


def _given(cli: argparse.Namespace | Mapping[str, Any] | None) -> dict[str, Any]:
    return vars(cli) if isinstance(cli, argparse.Namespace) else dict(cli or {})


def _section_values(
    params_cls: type, section: Mapping[str, Any], source: str, key_sources: Mapping[str, str]
) -> dict[str, Any]:
    """A section's values by field name (old spellings renamed with a warning), parsed."""
    fields = {f.name: f for f in option_fields(params_cls)}
    renamed = {old: f.name for f in fields.values() for old in f.metadata.get("deprecated") or ()}
    values: dict[str, Any] = {}
    for key, value in section.items():
        where = key_sources.get(key, source)
        key = str(key).replace("-", "_")
        if key in renamed:
            warn_deprecated(f"'{key}'", f"'{renamed[key]}'", f"{where}: ")
            key = renamed[key]
        values[key] = _coerce(params_cls, fields[key], value, where)
    return values


def resolve(
    params_cls: type[T],
    section: Mapping[str, Any] | None = None,
    cli: argparse.Namespace | Mapping[str, Any] | None = None,
    *,
    section_source: str = "config file",
    key_sources: Mapping[str, str] | None = None,
    also_known: Collection[str] = (),
    fixed: Mapping[str, Any] | None = None,
) -> T:
    """Build ``params_cls`` from defaults, a config-file section and CLI values.

    ``key_sources`` names where a section key came from when not ``section_source`` (a
    key inherited from another section); ``also_known`` are keys of the same section
    that another dataclass takes (left out here, but listed as known); ``fixed`` are
    values of fields that are not options (such as ``choice_from``).
    """
    fields = {f.name: f for f in option_fields(params_cls)}
    renamed = {old for f in fields.values() for old in f.metadata.get("deprecated") or ()}
    accepted = {*fields, *renamed}
    for key in section or {}:
        name = str(key).replace("-", "_")
        if name not in accepted and name not in also_known:
            known = ", ".join(sorted({*fields, *also_known}))
            where = (key_sources or {}).get(key, section_source)
            raise ConfigError(f"{where}: unknown option '{name}' (known: {known})")
    own = {k: v for k, v in (section or {}).items() if str(k).replace("-", "_") in accepted}
    values = _section_values(params_cls, own, section_source, key_sources or {})
    given = _given(cli)
    for key, f in fields.items():
        if key in given:
            values[key] = _coerce(params_cls, f, given[key], "command line")
    return params_cls(**values, **(fixed or {}))


def standing(params: T, section: Mapping[str, Any] | None, cli: Any) -> T:
    """``params`` as a standing setting, to record in config.yaml: a one-off option
    (``once``) given on the command line takes the config section's value (else its
    default) instead, so reusing the recorded config does not repeat it."""
    given = _given(cli)
    once = [f for f in option_fields(type(params)) if f.metadata.get("once") and f.name in given]
    if not once:
        return params
    names = {f.name: f.name for f in once}
    names.update({old: f.name for f in once for old in f.metadata.get("deprecated") or ()})
    from_file = {
        names[k]: v for k, v in (section or {}).items() if str(k).replace("-", "_") in names
    }
    return dataclasses.replace(
        params,
        **{
            f.name: _coerce(type(params), f, from_file[f.name], "config")
            if f.name in from_file
            else f.default
            for f in once
        },
    )


def to_dict(params: Any) -> dict[str, Any]:
    """A YAML/JSON-friendly dict of a params dataclass's options (tuples become lists)."""
    out = {}
    for f in option_fields(type(params)):
        v = getattr(params, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


@dataclasses.dataclass(frozen=True)
class StageSection:
    """A stage's options from the config file, shared option groups resolved."""

    values: dict[str, Any]
    key_sources: dict[str, str]  # where an inherited key came from ("c.yaml [embed]")
    fixed: dict[str, str]  # each shared group's ORIGIN_FIELD -> where the group came from


def _label(path: str | os.PathLike[str] | None, section: str) -> str:
    return f"{path} [{section}]" if path else f"config [{section}]"


def stage_section(
    sections: Mapping[str, Mapping[str, Any]],
    stage: str,
    params_cls: type,
    *,
    cli: argparse.Namespace | Mapping[str, Any] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> StageSection:
    """The config-file section of ``stage`` for ``params_cls`` (read from ``path``).

    Each shared option group (a dataclass base with ``SHARED_SECTION``) is taken whole
    from one place: the command line ``cli`` if it gives any of the group's keys (the
    section's are then dropped), else ``stage``'s own section if it sets any, else the
    group's home section, else the defaults."""
    section = dict(sections.get(stage) or {})
    given = _given(cli)
    key_sources: dict[str, str] = {}
    fixed: dict[str, str] = {}
    for base in params_cls.__mro__:
        home = vars(base).get("SHARED_SECTION")
        if not home or not dataclasses.is_dataclass(base):
            continue
        names = {f.name for f in option_fields(base)}
        own = [k for k in section if str(k).replace("-", "_") in names]
        inherited = {
            k: v for k, v in (sections.get(home) or {}).items() if str(k).replace("-", "_") in names
        }
        if names & given.keys():
            origin = "the command line"
            for key in own:
                del section[key]
        elif own:
            origin = _label(path, stage)
        elif inherited and home != stage:
            origin = _label(path, home)
            section.update(inherited)
            key_sources.update(dict.fromkeys(inherited, origin))
        else:
            origin = "the defaults"
        if vars(base).get("ORIGIN_FIELD"):
            fixed[base.ORIGIN_FIELD] = origin
    return StageSection(section, key_sources, fixed)


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


def record_resolved(config_path: str | os.PathLike[str], stage: str, *params: Any) -> None:
    """Write ``params`` (one or more option dataclasses, e.g. the stage's options and its
    compute) as the ``stage`` section of the workspace's resolved config."""
    config_path = Path(config_path)
    resolved: dict[str, Any] = {}
    for p in params:
        resolved.update(to_dict(p))
    current: dict[str, Any] = {}
    if config_path.exists():
        try:
            current = safe_load(config_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            current = {}
    if current.get(stage) == resolved:
        return  # unchanged: leave the file (and its mtime) alone
    current[stage] = resolved
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


def optional_text(value: Any) -> str | None:
    """Text, or None for nothing (``None`` or blank)."""
    text = str(value).strip() if value is not None else ""
    return text or None


def str_tuple(value: Any) -> tuple[str, ...]:
    """One string, or a list of them, as a tuple of strings."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a text or a list of texts, got {value!r}")
    return tuple(str(v) for v in value)


def positive_int(value: Any) -> int:
    """Parse an integer >= 1."""
    number = int(value)
    if number < 1:
        raise ValueError(f"expected a positive integer, got {value!r}")
    return number


def optional_positive_int(value: Any) -> int | None:
    """Parse an integer >= 1, or ``none``/empty for no value."""
    return None if optional_text(value) is None else positive_int(value)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_name(value: Any) -> str:
    """An environment variable name (options name the variable; secrets never are options)."""
    text = str(value).strip()
    if not _ENV_NAME.match(text):
        raise ValueError(
            f"expected an environment variable name such as OPENAI_API_KEY, not {text!r}"
        )
    return text
