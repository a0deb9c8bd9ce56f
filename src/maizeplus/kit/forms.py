"""Reading a form body, with a body that the parser rejects reported as a 422."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from maizeplus.kit.errors import ValidationFailed


@asynccontextmanager
async def read_form(
    request: Request, field: str, *, max_files: int, max_fields: int
) -> AsyncIterator[FormData]:
    """Parse a multipart or urlencoded body; close its uploaded files afterwards.

    Starlette rejects a body that its parser cannot read (no boundary, broken
    multipart, more parts than ``max_files`` or ``max_fields``) with a bare 400.
    Here that becomes a 422 on ``field``, the field that the route reads, with
    the parser's reason.
    """
    try:
        form = await request.form(max_files=max_files, max_fields=max_fields)
    except StarletteHTTPException as error:
        if error.status_code != 400:
            raise
        reason = str(error.detail).rstrip(".")
        raise ValidationFailed(
            {field: [f"The {field} field cannot be read: {reason}."]}
        ) from None
    try:
        yield form
    finally:
        await form.close()
