"""The data of the load test: preloaded users, catalogue, progress and upload files.

Everything here is deterministic, so the load test's checker can work out
what each tenant must contain from the preloaded row count and the stored
upload files alone. The simulated users (``bench/locustfile.py``) build
their upload files with ``upload_rows``.

A simulated user changes only preloaded users of its own share of each
tenant (the rows whose index modulo the number of shares is its share), and
its new users' emails carry its number and the upload's sequence number. So
no two simulated users write the same user, and the order of one simulated
user's uploads decides each user's final state.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.generate import HEADER, user_rows
from maizeplus.kit.spreadsheet_safety import SafeCsvWriter

# The columns of a generated row (bench.generate.HEADER), by position.
EMAIL, CID, LAST_NAME = 0, 1, 3
INVALID_EMAIL = "not-an-email"
INVALID_EMAIL_ERRORS = {"email": ["The email field must be a valid email address."]}
# Every third upload of a simulated user ends with a row of an invalid email.
INVALID_ROW_EVERY = 3
PRELOAD_SEED = 7
TOPICS = 5
COURSES = 40
CERTIFICATIONS = 6
UPLOAD_NAME = re.compile(r"^t(?P<tenant>\d+)-u(?P<user>\d+)-f(?P<sequence>\d+)\.csv$")
PRELOAD_UPLOAD_NAME = re.compile(r"^t(?P<tenant>\d+)-preload\.csv$")


def email_prefix(tenant_index: int) -> str:
    """Return the part that the emails of one tenant's preloaded users share."""
    return f"t{tenant_index}-"


def preloaded_rows(tenant_index: int, count: int) -> list[list[str]]:
    """Return the rows of the file that preloads a tenant's users."""
    return list(user_rows(count, PRELOAD_SEED, email_prefix(tenant_index)))


def preload_file_name(tenant_index: int) -> str:
    return f"t{tenant_index}-preload.csv"


def write_catalogue(path: Path) -> Path:
    """Write a catalogue file of ``maizeplus catalog load``."""
    catalogue = {
        "topics": [
            {"id": topic, "name": f"Topic {topic}"} for topic in range(1, TOPICS + 1)
        ],
        "courses": [
            {
                "id": course,
                "topic_id": course % TOPICS + 1,
                "name": f"Course {course}",
                "description": f"The description of course {course}.",
                "short_description": f"Course {course} in brief.",
                "duration": 15 * (course % 8 + 1),
                "level": "basic" if course % 2 else "advanced",
            }
            for course in range(1, COURSES + 1)
        ],
        "certifications": [
            {"id": certification, "name": f"Certification {certification}"}
            for certification in range(1, CERTIFICATIONS + 1)
        ],
    }
    path.write_text(json.dumps(catalogue), encoding="utf-8")
    return path


def write_progress(path: Path, rows: list[list[str]]) -> int:
    """Write a progress file of ``maizeplus progress load``; return its records.

    Every user gets two courses, started and half of them finished, and every
    third user a certification.
    """
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    records = 0
    with path.open("w", encoding="utf-8", newline="") as output:
        writer = SafeCsvWriter(output, delimiter=";")
        writer.writerow(
            [
                "email",
                "course_id",
                "certification_id",
                "started_at",
                "finished_at",
                "progress",
                "score",
                "score_avg",
                "attempts",
            ]
        )
        for index, row in enumerate(rows):
            started = start + timedelta(minutes=index)
            finished = started + timedelta(hours=2)
            for course in (index % COURSES + 1, (index + COURSES // 2) % COURSES + 1):
                done = (index + course) % 2 == 0
                writer.writerow(
                    [
                        row[EMAIL],
                        course,
                        "",
                        _iso(started),
                        _iso(finished) if done else "",
                        "completed" if done else "started",
                        "",
                        "",
                        "",
                    ]
                )
                records += 1
            if index % 3 == 0:
                writer.writerow(
                    [
                        row[EMAIL],
                        "",
                        index % CERTIFICATIONS + 1,
                        _iso(started),
                        _iso(finished),
                        "completed",
                        index % 101,
                        f"{(index % 1000) / 10:.1f}",
                        index % 4 + 1,
                    ]
                )
                records += 1
    return records


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class UploadPlan:
    """The content of one upload of a simulated user.

    ``share`` is the simulated user's share of the tenant's preloaded users,
    out of ``shares``, and ``sequence`` counts its uploads from 1.
    """

    tenant_index: int
    user_number: int
    share: int
    shares: int
    sequence: int
    preloaded: int
    new_rows: int
    changed_rows: int

    @property
    def file_name(self) -> str:
        return f"t{self.tenant_index}-u{self.user_number:03d}-f{self.sequence:04d}.csv"

    @property
    def has_invalid_row(self) -> bool:
        return self.sequence % INVALID_ROW_EVERY == 0


def upload_rows(
    plan: UploadPlan, preloaded: list[list[str]] | None = None
) -> list[list[str]]:
    """Return the data rows of one upload: changed users, new users, maybe an invalid row.

    Each changed user keeps every field but ``last_name``, which gets the
    upload's mark, so that every changed row updates its user. Successive
    uploads change successive users of the share. ``preloaded`` spares
    generating the tenant's preloaded rows again.
    """
    if preloaded is None:
        preloaded = preloaded_rows(plan.tenant_index, plan.preloaded)
    own = preloaded[plan.share :: plan.shares]
    rows: list[list[str]] = []
    if own:
        count = min(plan.changed_rows, len(own))
        start = (plan.sequence - 1) * count
        for offset in range(count):
            changed = list(own[(start + offset) % len(own)])
            changed[LAST_NAME] = (
                f"{changed[LAST_NAME]} L{plan.user_number}.{plan.sequence}"
            )
            rows.append(changed)
    prefix = f"t{plan.tenant_index}u{plan.user_number}f{plan.sequence}-"
    for index, new in enumerate(user_rows(plan.new_rows, plan.sequence, prefix)):
        new[CID] = f"N{plan.user_number}-{plan.sequence}-{index}"
        rows.append(new)
    if plan.has_invalid_row:
        # A copy of the last row, so its unit columns agree with the file's.
        invalid = list(rows[-1] if rows else preloaded[0])
        invalid[EMAIL] = INVALID_EMAIL
        invalid[CID] = ""
        rows.append(invalid)
    return rows


def csv_bytes(rows: Iterable[list[str]]) -> bytes:
    """Return rows as the semicolon-separated CSV file that ``bench.generate`` writes."""
    text = io.StringIO()
    text.write(";".join(HEADER) + "\r\n")
    for row in rows:
        text.write(";".join(row) + "\r\n")
    return text.getvalue().encode("utf-8")


def read_upload(path: Path) -> list[list[str]]:
    """Return the data rows of a stored upload file."""
    with path.open(encoding="utf-8", newline="") as content:
        reader = csv.reader(content, delimiter=";")
        next(reader)
        return list(reader)


def expected_errors(rows: list[list[str]]) -> dict[int, dict[str, Any]]:
    """Return the row errors that the service must report for an upload's rows.

    Row numbers count the header as row 1, and every row here is one line.
    """
    return {
        number: INVALID_EMAIL_ERRORS
        for number, row in enumerate(rows, start=2)
        if row[EMAIL] == INVALID_EMAIL
    }
