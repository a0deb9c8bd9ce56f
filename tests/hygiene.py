"""Checks that run on every response and log line of the suite.

``ResponseRecorder`` wraps the application of every ``LiveServer`` and checks
each response it sends:

- an error (4xx or 5xx) is a JSON object with no stack trace, SQL or file
  path in it;
- no response but the token endpoint's success carries a known secret;
- every key of a JSON body, at any depth, is one that the OpenAPI document
  of the application describes for that route and status, and the status
  itself is documented.

``SecretWatch`` is a logging handler that keeps the log lines of the current
test; ``leaked_secrets`` finds the known secrets in them. Secrets become
known when the fixtures create them (``remember_secret``) and when the token
endpoint issues or receives them.

The conftest runs both after each test, so the test that caused a problem
fails with its list.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import maizeplus
from maizeplus.kit.routes import route_template

# Shorter values are too common to distinguish from other text.
MIN_SECRET_CHARS = 8
# The recorder keeps at most this much of a body. A longer body is checked for
# leaks in that part only, and its keys are not checked.
MAX_RECORDED_BODY_BYTES = 4 * 1024 * 1024
TOKEN_PATHS = ("/oauth/token", "/oauth/token/revoke")
SECRET_FIELDS = ("password", "client_secret", "refresh_token", "token")
TOKEN_RESPONSE_FIELDS = ("access_token", "refresh_token")

_SOURCE_ROOT = str(Path(maizeplus.__file__).resolve().parents[2])
# Signs of an internal detail in an error body: a traceback, SQL, or a path
# of the installation or the source tree.
LEAK_PATTERNS = (
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r'File "[^"]+", line \d+'),
    re.compile(r"\b(SELECT\s.+\sFROM|INSERT INTO|UPDATE\s+\w+\s+SET|DELETE FROM)\b"),
    re.compile(r"sqlalchemy|psycopg|sqlite3\."),
    re.compile(re.escape(_SOURCE_ROOT)),
    re.compile(re.escape(sys.prefix)),
    re.compile(r"site-packages"),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_problems: list[str] = []
_process_logs: list[Path] = []


def remember_secret(value: object) -> None:
    """Add a password, secret or token to those that no log or error may show."""
    if isinstance(value, str) and len(value) >= MIN_SECRET_CHARS:
        with _lock:
            _secrets.add(value)


def known_secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


_pattern_cache: tuple[int, re.Pattern[str] | None] = (0, None)


def secret_pattern() -> re.Pattern[str] | None:
    """Return one pattern that matches any known secret, or None before the first."""
    global _pattern_cache
    with _lock:
        count, pattern = _pattern_cache
        if count != len(_secrets):
            alternatives = sorted(_secrets, key=len, reverse=True)
            pattern = re.compile("|".join(map(re.escape, alternatives)))
            _pattern_cache = (len(_secrets), pattern)
    return pattern


def take_problems() -> list[str]:
    """Return the problems recorded since the last call, and forget them."""
    with _lock:
        problems = list(_problems)
        _problems.clear()
    return problems


def _record_problem(problem: str) -> None:
    with _lock:
        _problems.append(problem)


# --- Responses ---------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as the recorder saw them."""

    method: str
    path: str
    template: str | None
    status: int
    content_type: str
    body: bytes
    complete: bool
    request_body: bytes


class ResponseRecorder:
    """ASGI middleware that checks every response of the application it wraps."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.openapi: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        learns_secrets = scope["path"] in TOKEN_PATHS
        request_body = bytearray()
        status = 0
        content_type = ""
        body = bytearray()
        complete = True

        async def recording_receive() -> Message:
            message = await receive()
            is_body = message["type"] == "http.request"
            if (
                learns_secrets
                and is_body
                and len(request_body) < MAX_RECORDED_BODY_BYTES
            ):
                request_body.extend(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            nonlocal status, content_type, complete
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers", []))
                content_type = headers.get(b"content-type", b"").decode("latin-1")
            elif message["type"] == "http.response.body":
                if len(body) < MAX_RECORDED_BODY_BYTES:
                    body.extend(message.get("body", b""))
                else:
                    complete = False
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            if status:
                exchange = Exchange(
                    method=scope["method"],
                    path=scope["path"],
                    template=route_template(scope),
                    status=status,
                    content_type=content_type,
                    body=bytes(body),
                    complete=complete,
                    request_body=bytes(request_body),
                )
                self._check(scope, exchange)

    def _check(self, scope: Scope, exchange: Exchange) -> None:
        if exchange.path in TOKEN_PATHS:
            learn_token_secrets(exchange)
        for problem in response_problems(exchange, self._document(scope)):
            _record_problem(
                f"{exchange.method} {exchange.path} {exchange.status}: {problem}"
            )

    def _document(self, scope: Scope) -> dict[str, Any]:
        if self.openapi is None:
            self.openapi = openapi_document(scope["app"])
        return self.openapi


_documents: dict[tuple[Any, ...], dict[str, Any]] = {}


def openapi_document(app: Any) -> dict[str, Any]:
    """Return the OpenAPI document of ``app``, built once per set of routes.

    Building it takes about 0.2 s, and every test builds its own application.
    """
    key = tuple(
        (
            context.path_format,
            tuple(sorted(context.methods or ())),
            getattr(context.endpoint, "__qualname__", ""),
        )
        for context in iter_route_contexts(app.routes)
    )
    with _lock:
        document = _documents.get(key)
    if document is None:
        document = app.openapi()
        with _lock:
            _documents[key] = document
    return document


def learn_token_secrets(exchange: Exchange) -> None:
    """Remember the passwords, secrets and tokens that went through the token endpoint."""
    for name, value in _form_fields(exchange.request_body):
        if name in SECRET_FIELDS:
            remember_secret(value)
    if exchange.status == 200 and exchange.content_type.startswith("application/json"):
        try:
            body = json.loads(exchange.body)
        except ValueError:
            return
        if isinstance(body, dict):
            for name in TOKEN_RESPONSE_FIELDS:
                remember_secret(body.get(name))


_MULTIPART_FIELD = re.compile(
    rb'Content-Disposition: form-data; name="([^"]+)"\r\n\r\n(.*?)\r\n--', re.DOTALL
)


def _form_fields(body: bytes) -> Iterator[tuple[str, str]]:
    """Yield the fields of a token request body in any of its three encodings."""
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict):
            for name, value in document.items():
                yield str(name), str(value)
            return
    for match in _MULTIPART_FIELD.finditer(body):
        yield match[1].decode("utf-8", "replace"), match[2].decode("utf-8", "replace")
    if "form-data" not in text:
        yield from parse_qsl(text)


def response_problems(exchange: Exchange, openapi: dict[str, Any]) -> list[str]:
    """List what is wrong with one response; empty when it passes every check."""
    problems: list[str] = []
    text = exchange.body.decode("utf-8", "replace")
    is_error = exchange.status >= 400
    is_token = exchange.path == "/oauth/token" and exchange.status == 200
    pattern = secret_pattern()
    if not is_token and pattern is not None and (found := pattern.search(text)):
        problems.append(f"the body contains the secret {found.group(0)[:4]}...")
    if not is_error and not exchange.content_type.startswith("application/json"):
        return problems
    if is_error:
        problems += _error_envelope_problems(exchange, text)
    if not exchange.complete or not exchange.body or exchange.method == "HEAD":
        return problems
    try:
        body = json.loads(exchange.body)
    except ValueError:
        return problems
    if not is_error:
        message = body.get("data", {}) if isinstance(body, dict) else {}
        message = message.get("message") if isinstance(message, dict) else None
        if isinstance(message, str):
            problems += [f"data.message shows {leak}" for leak in find_leaks(message)]
    problems += documented_key_problems(exchange, body, openapi)
    return problems


def _error_envelope_problems(exchange: Exchange, text: str) -> list[str]:
    problems = [f"the error body shows {leak}" for leak in find_leaks(text)]
    if exchange.method == "HEAD" and not text:
        return problems
    if not exchange.content_type.startswith("application/json"):
        problems.append(
            f"the error is {exchange.content_type or 'no'} content, not JSON"
        )
        return problems
    try:
        body = json.loads(text)
    except ValueError:
        return [*problems, "the error body is not valid JSON"]
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        problems.append("the error body has no message")
    return problems


def find_leaks(text: str) -> list[str]:
    """Return the internal details (trace, SQL, paths) that ``text`` shows."""
    return [
        f"{pattern.pattern!r} at {match.group(0)[:60]!r}"
        for pattern in LEAK_PATTERNS
        if (match := pattern.search(text))
    ]


def documented_key_problems(
    exchange: Exchange, body: Any, openapi: dict[str, Any]
) -> list[str]:
    """Check the body's keys against the OpenAPI document of its route and status."""
    if exchange.template is None:
        if exchange.status < 400:
            # Routes of FastAPI's own, such as /openapi.json.
            return []
        # No route matched (404 or 405): the body is the bare error envelope.
        extra = set(body) - {"message"} if isinstance(body, dict) else set()
        return [f"the undocumented key {key!r}" for key in sorted(extra)]
    operation = (
        openapi.get("paths", {}).get(exchange.template, {}).get(exchange.method.lower())
    )
    if operation is None:
        # A route left out of the document, such as /metrics or the 405 of
        # the token endpoint's other methods.
        return []
    response = operation.get("responses", {}).get(str(exchange.status))
    if response is None:
        return [f"the status {exchange.status} is not documented for this route"]
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        if body in ({}, None):
            return []
        return ["the body is not described in the OpenAPI document"]
    schemas = openapi.get("components", {}).get("schemas", {})
    return [
        f"the undocumented key {path}"
        for path in undocumented_keys(body, schema, schemas, "")
    ]


def undocumented_keys(
    value: Any, schema: dict[str, Any], schemas: dict[str, Any], path: str
) -> list[str]:
    """Return the paths of the keys in ``value`` that ``schema`` does not describe.

    An object schema without ``properties`` takes any key; one with them takes
    only those, unless ``additionalProperties`` gives a schema for the rest.
    Of the alternatives of ``anyOf`` or ``oneOf``, the one that leaves the
    fewest keys undocumented counts.
    """
    schema = _resolve(schema, schemas)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        fitting = [
            item
            for item in alternatives
            if _has_type_of(value, _resolve(item, schemas))
        ]
        results = [undocumented_keys(value, item, schemas, path) for item in fitting]
        return min(results, key=len) if results else []
    if schema.get("allOf"):
        merged: dict[str, Any] = {"properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(_resolve(part, schemas).get("properties", {}))
        schema = merged
    if isinstance(value, list):
        items = schema.get("items", {})
        found: list[str] = []
        for index, item in enumerate(value):
            found += undocumented_keys(item, items, schemas, f"{path}[{index}]")
        return found
    if not isinstance(value, dict):
        return []
    properties: dict[str, Any] = schema.get("properties", {})
    additional = schema.get("additionalProperties")
    found = []
    for key, item in value.items():
        key_path = f"{path}.{key}" if path else key
        if key in properties:
            found += undocumented_keys(item, properties[key], schemas, key_path)
        elif isinstance(additional, dict):
            found += undocumented_keys(item, additional, schemas, key_path)
        elif properties and additional is not True:
            found.append(key_path)
    return found


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean"}


def _has_type_of(value: Any, schema: dict[str, Any]) -> bool:
    """Tell whether a schema without a type, or with the value's type, fits it."""
    declared = schema.get("type")
    if declared is None:
        return True
    declared_types = declared if isinstance(declared, list) else [declared]
    if value is None:
        return "null" in declared_types
    if isinstance(value, bool):
        return "boolean" in declared_types
    if isinstance(value, int | float):
        return bool({"integer", "number"} & set(declared_types))
    return _JSON_TYPES.get(type(value)) in declared_types


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


# --- Logs ----------------------------------------------------------------------


def watch_process_log(path: Path) -> None:
    """Have the log file of a service process scanned after the current test."""
    with _lock:
        _process_logs.append(path)


def take_process_log_lines() -> list[str]:
    """Return the lines of the process logs watched since the last call."""
    with _lock:
        paths = list(dict.fromkeys(_process_logs))
        _process_logs.clear()
    lines: list[str] = []
    for path in paths:
        if path.exists():
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines


class SecretWatch(logging.Handler):
    """A logging handler that keeps the formatted lines of the current test."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - a broken record must not break a test
            line = repr(vars(record))
        else:
            # The fields passed in ``extra`` are part of the line in both formats.
            line = f"{line} {vars(record)}"
        with _lock:
            self.lines.append(line)

    def take_lines(self) -> list[str]:
        with _lock:
            lines = self.lines
            self.lines = []
        return lines


# The one watch of this process, which tests/conftest.py attaches to the loggers.
SECRET_WATCH = SecretWatch()


def leaked_secrets(lines: Iterable[str]) -> list[str]:
    """Return each log line that contains a known secret, cut to 200 characters."""
    pattern = secret_pattern()
    if pattern is None:
        return []
    return [line[:200] for line in lines if pattern.search(line)]
