"""Errors of the import pipeline.

``UploadRejected`` is raised while the request is still open and becomes a 422
on ``file``; ``FileUnreadable`` (and its ``LimitExceeded``) is raised while a job
reads the stored file and fails the job with its message.
"""

from __future__ import annotations

from maizeplus.kit.errors import NotFound, ValidationFailed


class UploadRejected(ValidationFailed):
    """The upload is missing, empty, or not a CSV or XLSX file; no job is created."""

    def __init__(self, message: str) -> None:
        super().__init__({"file": [message]})


class FileUnreadable(Exception):
    """The stored file cannot be read as a whole: the job fails with this message."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class LimitExceeded(FileUnreadable):
    """The file is over one of the configured limits; the message names the limit."""


class ImportJobNotFound(NotFound):
    """No import job of this tenant has that uuid (or the tenant has none yet)."""

    default_message = "Import job not found."
