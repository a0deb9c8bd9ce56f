"""Read the parameters of a token or revocation request from its HTTP form.

The body may be ``multipart/form-data`` (what the Postman collection sends),
``application/x-www-form-urlencoded`` (what RFC 6749 specifies) or JSON. The
client may authenticate with HTTP Basic instead of body fields. Every problem
is raised as an ``OAuthError``, so the caller can render it like any other.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncGenerator, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from maizeplus.auth.errors import InvalidClientError, InvalidRequestError
from maizeplus.auth.grants import TokenRequest

# A token request is a few hundred bytes. The limit keeps an unauthenticated
# client from making the server buffer and parse a large body.
MAX_BODY_BYTES = 64 * 1024
MAX_FORM_FIELDS = 32
MAX_FORM_FILES = 4

TOKEN_PARAMETERS = frozenset(
    {
        "grant_type",
        "client_id",
        "client_secret",
        "username",
        "password",
        "refresh_token",
        "scope",
    }
)
REVOCATION_PARAMETERS = frozenset(
    {"token", "token_type_hint", "client_id", "client_secret"}
)

BAD_BASIC_HINT = (
    "The Authorization header must be Basic base64(client_id:client_secret)"
)


@dataclass(frozen=True)
class RequestParameters:
    """The non-empty parameters of a request and the client credentials it carries."""

    values: Mapping[str, str]
    client_id: str | None
    client_secret: str | None

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def token_request(self) -> TokenRequest:
        return TokenRequest(
            grant_type=self.get("grant_type"),
            client_id=self.client_id,
            client_secret=self.client_secret,
            username=self.get("username"),
            password=self.get("password"),
            refresh_token=self.get("refresh_token"),
            scope=self.get("scope"),
        )


def uses_basic_auth(headers: Headers) -> bool:
    """Tell whether the request carries an ``Authorization: Basic`` header."""
    scheme, _, _ = headers.get("authorization", "").strip().partition(" ")
    return scheme.lower() == "basic"


async def read_parameters(
    request: Request, names: Collection[str]
) -> RequestParameters:
    """Read the parameters in ``names`` and the client credentials of a request.

    Other parameters are ignored (RFC 6749 section 3.1). A parameter sent with
    an empty value is treated as omitted (section 3.1), and one sent twice is
    rejected (section 3.2).
    """
    body = await _read_body(request)
    pairs = await _parse_body(request.headers, body, names)
    values: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name not in names:
            continue
        if name in seen:
            raise InvalidRequestError(
                f"The request includes the parameter {name} more than once.",
                hint=f"Check the `{name}` parameter",
            )
        seen.add(name)
        if value:
            values[name] = value

    client_id = values.pop("client_id", None)
    client_secret = values.pop("client_secret", None)
    if uses_basic_auth(request.headers):
        basic_id, basic_secret = _parse_basic_credentials(
            request.headers["authorization"]
        )
        if client_secret is not None or (
            client_id is not None and client_id != basic_id
        ):
            raise InvalidRequestError(
                "The request uses more than one client authentication method.",
                hint="Send the client credentials in the Authorization header "
                "or in the body, not in both",
            )
        client_id, client_secret = basic_id or None, basic_secret or None
    return RequestParameters(values, client_id, client_secret)


async def _read_body(request: Request) -> bytes:
    too_large = InvalidRequestError(
        f"The request body is larger than {MAX_BODY_BYTES} bytes."
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _parse_body(
    headers: Headers, body: bytes, names: Collection[str]
) -> list[tuple[str, str]]:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        return _parse_urlencoded(body)
    if media_type == "multipart/form-data":
        return await _parse_multipart(headers, body)
    if media_type == "application/json" or media_type.endswith("+json"):
        return _parse_json(body, names)
    if not body.strip():
        return []
    raise InvalidRequestError(
        f"The request body has the unsupported content type {media_type or 'none'!r}.",
        hint="Send multipart/form-data, application/x-www-form-urlencoded "
        "or application/json",
    )


def _parse_urlencoded(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError as error:
        raise InvalidRequestError("The form body is not valid UTF-8.") from error
    except ValueError as error:
        raise InvalidRequestError(
            f"The form body has more than {MAX_FORM_FIELDS} fields."
        ) from error


async def _parse_multipart(headers: Headers, body: bytes) -> list[tuple[str, str]]:
    async def replay() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        headers,
        replay(),
        max_files=MAX_FORM_FILES,
        max_fields=MAX_FORM_FIELDS,
        max_part_size=MAX_BODY_BYTES,
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise InvalidRequestError(
            f"The multipart body is malformed: {error.message}"
        ) from error
    try:
        pairs: list[tuple[str, str]] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                raise InvalidRequestError(
                    f"The parameter {name} must be a text field, not a file.",
                    hint=f"Check the `{name}` parameter",
                )
            pairs.append((name, value))
        return pairs
    finally:
        await form.close()


def _parse_json(body: bytes, names: Collection[str]) -> list[tuple[str, str]]:
    try:
        document = json.loads(body, object_pairs_hook=_keep_pairs)
    # RecursionError comes from nesting deeper than the decoder's limit.
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InvalidRequestError("The request body is not valid JSON.") from error
    if not isinstance(document, _JsonObject):
        raise InvalidRequestError("The JSON body must be an object of parameters.")
    return [
        (name, _json_parameter(name, value))
        for name, value in document
        if name in names
    ]


class _JsonObject(list[tuple[str, Any]]):
    """A JSON object kept as its list of pairs, so a repeated key stays visible."""


def _keep_pairs(pairs: Iterable[tuple[str, Any]]) -> _JsonObject:
    return _JsonObject(pairs)


def _json_parameter(name: str, value: Any) -> str:
    """Return a JSON parameter as text: strings as they are, integers in decimal."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    # bool is an int subclass, but ``true`` is no client_id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidRequestError(
        f"The parameter {name} must be a string.", hint=f"Check the `{name}` parameter"
    )


def _parse_basic_credentials(header: str) -> tuple[str, str]:
    """Decode ``Basic base64(id:secret)``; both parts are form-urlencoded (RFC 6749)."""
    _, _, encoded = header.strip().partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise InvalidClientError(hint=BAD_BASIC_HINT) from error
    client_id, separator, client_secret = decoded.partition(":")
    if not separator:
        raise InvalidClientError(hint=BAD_BASIC_HINT)
    return unquote_plus(client_id), unquote_plus(client_secret)
