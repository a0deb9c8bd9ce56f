"""Render the client's reference page from its docstrings and its command line.

    python -m maizeplus.client.reference --write docs/client-reference.md
    python -m maizeplus.client.reference --check docs/client-reference.md

``--check`` exits with 1 when the page differs from what the code renders;
without an option the page goes to standard output.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from maizeplus.client import auth, cli, errors, models, resources, transport

HEADER = """# maizeplus.client reference

Generated from the docstrings by `python -m maizeplus.client.reference --write
docs/client-reference.md`; a test fails when this page is out of date. The
guide with first scripts is [client.md](client.md).
"""

CLIENT_CLASSES: tuple[type, ...] = (resources.Client, resources.AsyncClient)
AUTH_CLASSES: tuple[type, ...] = (
    auth.Credentials,
    transport.RetryPolicy,
    auth.TokenManager,
    auth.TokenStore,
    auth.StoredToken,
)
MODEL_CLASSES: tuple[type, ...] = (
    models.Token,
    models.ImportJob,
    models.ImportSummary,
    models.ImportFile,
    models.JobStatus,
    models.RowError,
    models.RowErrorPage,
    models.Page,
    models.PageLinks,
    models.PageMeta,
    models.Resource,
    models.User,
    models.Language,
    models.Country,
    models.OrganizationalUnit,
    models.BusinessUnit,
    models.Topic,
    models.Course,
    models.Certification,
    models.CourseProgress,
    models.CertificationProgress,
    models.ProgressUser,
)
ERROR_CLASSES: tuple[type[BaseException], ...] = (
    errors.MaizeplusError,
    errors.ApiError,
    errors.BadRequestError,
    errors.UnauthenticatedError,
    errors.NotFoundError,
    errors.PayloadTooLargeError,
    errors.ValidationFailedError,
    errors.RateLimitedError,
    errors.ServerError,
    errors.OAuthError,
    errors.ConnectionFailedError,
    errors.PagingError,
    errors.WaitTimeoutError,
)


def _doc(item: Any) -> str:
    return inspect.cleandoc(item.__doc__ or "").strip()


def _annotation(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if inspect.isbuiltin(value) or inspect.isfunction(value):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def _signature(function: Callable[..., Any], multiline: bool = False) -> str:
    """Render a signature with its annotations as written in the source."""
    signature = inspect.signature(function)
    parts: list[str] = []
    keyword_only_marked = False
    for parameter in signature.parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not keyword_only_marked:
            parts.append("*")
            keyword_only_marked = True
        text = parameter.name
        annotation = _annotation(parameter.annotation)
        if annotation:
            text += f": {annotation}"
        if parameter.default is not inspect.Parameter.empty:
            text += f" = {_default(parameter.default)}"
        parts.append(text)
    returns = _annotation(signature.return_annotation)
    arrow = f" -> {returns}" if returns and returns != "None" else ""
    if multiline and parts:
        body = "".join(f"\n    {part}," for part in parts)
        return f"({body}\n){arrow}"
    return f"({', '.join(parts)}){arrow}"


def _public_methods(cls: type) -> Iterator[tuple[str, Any]]:
    for name, member in cls.__dict__.items():
        if name.startswith("_") or not callable(member):
            continue
        yield name, member


def _class_section(cls: type, level: str = "###") -> list[str]:
    lines = [f"{level} {cls.__name__}", ""]
    constructor = cls.__dict__.get("__init__")
    is_protocol = bool(getattr(cls, "_is_protocol", False))
    if constructor is not None and not issubclass(cls, BaseModel) and not is_protocol:
        signature = _signature(constructor, multiline=True)
        lines += ["```python", f"{cls.__name__}{signature}", "```", ""]
    if _doc(cls):
        lines += [_doc(cls), ""]
    for name, method in _public_methods(cls):
        prefix = (
            "async "
            if inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)
            else ""
        )
        lines += [f"#### `{prefix}{cls.__name__}.{name}{_signature(method)}`", ""]
        if _doc(method):
            lines += [_doc(method), ""]
    return lines


def _source_annotation(model: type[BaseModel], name: str) -> str:
    for cls in model.__mro__:
        annotation = inspect.get_annotations(cls).get(name)
        if annotation is not None:
            return _annotation(annotation)
    return ""


def _model_section(model: type) -> list[str]:
    lines = [f"### {model.__name__}", ""]
    if _doc(model):
        lines += [_doc(model), ""]
    if isinstance(model, enum.EnumMeta):
        values = ", ".join(f"`{member.value}`" for member in model)  # type: ignore[var-annotated]
        return [*lines, f"Values: {values}.", ""]
    assert issubclass(model, BaseModel)
    lines += ["| field | type | default |", "| --- | --- | --- |"]
    for name, info in model.model_fields.items():
        label = info.alias or name
        if info.default_factory is not None:
            default = "`[]`"
        elif info.default is PydanticUndefined:
            default = "required"
        else:
            default = f"`{info.default!r}`"
        type_text = _source_annotation(model, name).replace("|", "\\|")
        lines.append(f"| `{label}` | `{type_text}` | {default} |")
    return [*lines, ""]


def _error_section(error: type[BaseException]) -> list[str]:
    parent = error.__mro__[1].__name__
    return [f"### {error.__name__}({parent})", "", _doc(error), ""]


def _command_lines() -> list[str]:
    group = typer.main.get_command(cli.app)
    lines = ["## Command line", "", _doc(cli), ""]
    global_options = [param for param in group.params if param.name != "help"]
    lines += ["Global options, before the command:", ""]
    lines += _parameter_table(global_options)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        lines += [
            f"### maizeplus-client {name}",
            "",
            inspect.cleandoc(command.help or ""),
            "",
        ]
        params = [param for param in command.params if param.name != "help"]
        if params:
            lines += _parameter_table(params)
    return lines


def _parameter_table(params: list[Any]) -> list[str]:
    lines = ["| argument or option | default | what it sets |", "| --- | --- | --- |"]
    for param in params:
        if param.param_type_name == "argument":
            label = param.name.upper()
            if getattr(param, "nargs", 1) == -1:
                label += "..."
        else:
            label = ", ".join([*param.opts, *param.secondary_opts])
        default = param.default
        if param.required:
            default_text = "required"
        elif default is None or default is False or default == []:
            default_text = ""
        else:
            default_text = f"`{_default(default)}`"
        help_text = (getattr(param, "help", None) or "").replace("|", "\\|")
        lines.append(f"| `{label}` | {default_text} | {help_text} |")
    return [*lines, ""]


def render() -> str:
    """Render the whole reference page as Markdown."""
    lines = [HEADER, "## Clients", ""]
    for cls in CLIENT_CLASSES:
        lines += _class_section(cls)
    lines += ["## Credentials, tokens and retries", ""]
    for cls in AUTH_CLASSES:
        lines += _class_section(cls)
    lines += ["## Models", "", _doc(models), ""]
    for model in MODEL_CLASSES:
        lines += _model_section(model)
    lines += ["## Errors", "", _doc(errors), ""]
    for error in ERROR_CLASSES:
        lines += _error_section(error)
    lines += _command_lines()
    return "\n".join(lines).rstrip() + "\n"


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render docs/client-reference.md.")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, help="Write the page to this file.")
    action.add_argument("--check", type=Path, help="Exit with 1 if this file is stale.")
    options = parser.parse_args(arguments)
    text = render()
    if options.write is not None:
        options.write.write_text(text, encoding="utf-8")
        return 0
    if options.check is not None:
        if options.check.read_text(encoding="utf-8") != text:
            print(
                f"{options.check} is stale; run python -m maizeplus.client.reference "
                f"--write {options.check}",
                file=sys.stderr,
            )
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
