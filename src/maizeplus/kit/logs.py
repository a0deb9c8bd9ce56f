"""Logging as one event per line with its fields: ``event key=value ...``.

Code logs a stable event name and passes its ids and counts in ``extra``:
``logger.info("import.finished", extra={"tenant_id": 3, "job_id": 7})``.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from maizeplus.kit.client_address import ClientAddressLogFilter

# Attributes that every LogRecord has; anything else came in through ``extra``.
# uvicorn adds ``color_message``, a copy of the message with terminal colours.
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return the fields that the caller passed in ``extra``."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES
    }


def _format_value(value: Any) -> str:
    text = str(value)
    if not text or any(char in text for char in ' "=\n'):
        return json.dumps(text, ensure_ascii=False)
    return text


class KeyValueFormatter(logging.Formatter):
    """Render ``time level logger event key=value ...``, one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(
            f"{key}={_format_value(value)}"
            for key, value in record_fields(record).items()
        )
        line = (
            f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {record.levelname} "
            f"{record.name} {record.getMessage()}"
        )
        if fields:
            line = f"{line} {fields}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


class JsonFormatter(logging.Formatter):
    """Render each record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            **record_fields(record),
        }
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Send the service's logs to standard error in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else KeyValueFormatter())
    handler.addFilter(ClientAddressLogFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if level.upper() != "DEBUG":
        # Alembic reports every migration context at INFO; the outcome is enough.
        logging.getLogger("alembic").setLevel(logging.WARNING)
