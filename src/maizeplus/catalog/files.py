"""Reading and checking the catalogue and progress files of the operator CLI.

Each reader collects every problem of a file, each with its place (a JSON path
such as ``courses[2].topic_id``, or ``row 7, started_at`` in a CSV file),
before anything is written. ``docs/catalog-and-progress-files.md`` describes
both formats.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from maizeplus.kit.errors import DomainError

# One below the largest BIGINT, so that the id counter can move past any id.
MAX_ID = 2**63 - 2
CSV_SEPARATOR = ";"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, and where it is."""

    place: str
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"


class InvalidFileError(DomainError):
    """A file to load has problems; nothing of it was applied."""

    status_code = 422

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"The file has {count} {noun}; nothing was changed.")


def _json_place(location: tuple[int | str, ...]) -> str:
    place = ""
    for part in location:
        if isinstance(part, int):
            place += f"[{part}]"
        elif place:
            place += f".{part}"
        else:
            place = part
    return place or "file"


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidFileError(
            [
                Problem(
                    "file", f"is not valid UTF-8 (byte {error.start}); save it as UTF-8"
                )
            ]
        ) from error


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        place = f"line {error.lineno}, column {error.colno}"
        raise InvalidFileError(
            [Problem(place, f"invalid JSON: {error.msg}")]
        ) from error


# --- catalogue ----------------------------------------------------------------

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)
]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TopicEntry(_Entry):
    """A topic of the catalogue file."""

    id: Id
    name: Name


class CourseEntry(_Entry):
    """A course of the catalogue file; ``duration`` is in minutes."""

    id: Id
    topic_id: Id | None = None
    name: Name
    description: str | None = None
    short_description: str | None = None
    duration: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    level: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None
    ) = None


class CertificationEntry(_Entry):
    """A certification of the catalogue file."""

    id: Id
    name: Name


class CatalogueFile(_Entry):
    """The whole catalogue file; a section that is absent is left unchanged."""

    topics: list[TopicEntry] = []
    courses: list[CourseEntry] = []
    certifications: list[CertificationEntry] = []


def _repeated_ids(document: Any) -> list[Problem]:
    """Report every id that repeats an earlier one of its section.

    It reads the raw document, so that repeats are reported together with the
    other problems of entries that are invalid.
    """
    problems = []
    sections = document if isinstance(document, dict) else {}
    for section in ("topics", "courses", "certifications"):
        entries = sections.get(section)
        if not isinstance(entries, list):
            continue
        first_index: dict[int, int] = {}
        for index, entry in enumerate(entries):
            item_id = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(item_id, int) or isinstance(item_id, bool):
                continue
            if item_id in first_index:
                problems.append(
                    Problem(
                        f"{section}[{index}].id",
                        f"id {item_id} repeats {section}[{first_index[item_id]}]",
                    )
                )
            else:
                first_index[item_id] = index
    return problems


def read_catalogue_file(content: bytes) -> CatalogueFile:
    """Parse and check a catalogue file; raise ``InvalidFileError`` with every problem.

    Whether each ``topic_id`` exists is checked against the database when the
    file is loaded, since the topic may be there already.
    """
    document = _load_json(_decode(content))
    problems: list[Problem] = []
    catalogue = None
    try:
        catalogue = CatalogueFile.model_validate(document)
    except ValidationError as error:
        problems += [
            Problem(_json_place(item["loc"]), item["msg"]) for item in error.errors()
        ]
    problems += _repeated_ids(document)
    if problems or catalogue is None:
        raise InvalidFileError(problems)
    return catalogue


# --- progress -----------------------------------------------------------------

ProgressKind = Literal["course", "certification"]
PROGRESS_STATES = ("started", "completed")
CSV_COLUMNS = (
    "email",
    "course_id",
    "certification_id",
    "started_at",
    "finished_at",
    "progress",
    "score",
    "score_avg",
    "attempts",
)
CERTIFICATION_ONLY = ("score", "score_avg", "attempts")
JSON_SECTIONS: dict[str, ProgressKind] = {
    "course_progress": "course",
    "certification_progress": "certification",
}
JSON_FIELDS: dict[ProgressKind, tuple[str, ...]] = {
    "course": ("email", "course_id", "started_at", "finished_at", "progress"),
    "certification": (
        "email",
        "certification_id",
        "started_at",
        "finished_at",
        "progress",
        *CERTIFICATION_ONLY,
    ),
}


@dataclass(frozen=True)
class ProgressEntry:
    """One checked progress record; ``item_id`` is the course or certification id."""

    place: str
    kind: ProgressKind
    email: str
    item_id: int
    started_at: datetime
    finished_at: datetime | None
    progress: str
    score: int | None
    score_avg: Decimal | None
    attempts: int


class _FieldProblems:
    """The problems of one record, each placed by its field."""

    def __init__(self, place: str, field_place: str) -> None:
        self.place = place
        self.field_place = field_place
        self.problems: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.field_place.format(field=field), message))


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(value: object, minimum: int, maximum: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        if len(value.strip()) > len(str(maximum)):
            return None
        number = int(value.strip())
    else:
        return None
    return number if minimum <= number <= maximum else None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    # Stored to the second, as the rest of the service stores time.
    return parsed.replace(microsecond=0)


def _score_average(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", ".")
    else:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or not 0 <= number <= 100:
        return None
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _check_record(
    values: Mapping[str, object],
    kind: ProgressKind,
    item_field: str,
    found: _FieldProblems,
) -> ProgressEntry | None:
    email = values.get("email")
    if _blank(email):
        found.add("email", "is missing")
    elif not isinstance(email, str):
        found.add("email", "must be text")
    item_id = _integer(values.get(item_field), 1, MAX_ID)
    if item_id is None:
        found.add(item_field, f"must be an integer from 1 to {MAX_ID}")

    started_at = _timestamp(values.get("started_at"))
    if started_at is None:
        found.add("started_at", "must be an ISO 8601 time, e.g. 2022-11-08T18:39:54Z")
    finished_at = None
    if not _blank(values.get("finished_at")):
        finished_at = _timestamp(values.get("finished_at"))
        if finished_at is None:
            found.add(
                "finished_at", "must be an ISO 8601 time, e.g. 2022-11-08T18:39:54Z"
            )
        elif started_at is not None and finished_at < started_at:
            found.add("finished_at", "is before started_at")

    progress = "completed" if finished_at is not None else "started"
    given_progress = values.get("progress")
    if not _blank(given_progress):
        text = str(given_progress).strip().lower()
        if text not in PROGRESS_STATES:
            found.add("progress", "must be started or completed")
        elif text == "completed" and _blank(values.get("finished_at")):
            found.add("finished_at", "is required when progress is completed")
        elif text == "started" and not _blank(values.get("finished_at")):
            found.add("finished_at", "must be empty while progress is started")
        else:
            progress = text

    score = score_avg = None
    attempts = 0
    if kind == "course":
        for field in CERTIFICATION_ONLY:
            if not _blank(values.get(field)):
                found.add(field, "is only for certification progress")
    else:
        if not _blank(values.get("score")):
            score = _integer(values.get("score"), 0, 100)
            if score is None:
                found.add("score", "must be an integer from 0 to 100")
        if not _blank(values.get("score_avg")):
            score_avg = _score_average(values.get("score_avg"))
            if score_avg is None:
                found.add("score_avg", "must be a number from 0 to 100")
        if not _blank(values.get("attempts")):
            counted = _integer(values.get("attempts"), 0, 2**31 - 1)
            if counted is None:
                found.add("attempts", "must be a whole number from 0")
            attempts = counted or 0

    if found.problems:
        return None
    # No problem was found, so every required value was parsed.
    assert isinstance(email, str)
    assert item_id is not None
    assert started_at is not None
    return ProgressEntry(
        place=found.place,
        kind=kind,
        email=email.strip().lower(),
        item_id=item_id,
        started_at=started_at,
        finished_at=finished_at,
        progress=progress,
        score=score,
        score_avg=score_avg,
        attempts=attempts,
    )


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield each record with the line on which it starts, the header being line 1."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=CSV_SEPARATOR)
    start_line = 1
    for record in reader:
        yield start_line, record
        start_line = reader.line_num + 1


def _read_progress_csv(text: str) -> tuple[list[ProgressEntry], list[Problem]]:
    records = _csv_records(text)
    try:
        _, header = next(records)
    except StopIteration:
        return [], [Problem("row 1", "the file is empty; the header is missing")]
    except csv.Error as error:
        return [], [Problem("row 1", f"unreadable CSV: {error}")]
    names = [name.strip().lower() for name in header]
    problems: list[Problem] = []
    for name in names:
        if name and name not in CSV_COLUMNS:
            problems.append(Problem("row 1", f"unknown column {name!r}"))
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    problems += [
        Problem("row 1", f"column {name!r} appears more than once") for name in repeated
    ]
    missing = [name for name in ("email", "started_at") if name not in names]
    problems += [
        Problem("row 1", f"required column {name!r} is missing") for name in missing
    ]
    if "course_id" not in names and "certification_id" not in names:
        problems.append(
            Problem("row 1", "needs a course_id or a certification_id column")
        )
    if problems:
        return [], problems

    entries: list[ProgressEntry] = []
    try:
        for line, record in records:
            if not any(cell.strip() for cell in record):
                continue
            values = dict(zip(names, record, strict=False))
            place = f"row {line}"
            found = _FieldProblems(place, place + ", {field}")
            has_course = not _blank(values.get("course_id"))
            has_certification = not _blank(values.get("certification_id"))
            if has_course == has_certification:
                found.add(
                    "course_id", "set exactly one of course_id and certification_id"
                )
                problems += found.problems
                continue
            kind: ProgressKind = "course" if has_course else "certification"
            item_field = "course_id" if has_course else "certification_id"
            entry = _check_record(values, kind, item_field, found)
            problems += found.problems
            if entry is not None:
                entries.append(entry)
    except csv.Error as error:
        problems.append(Problem("file", f"unreadable CSV: {error}"))
    return entries, problems


def _read_progress_json(document: Any) -> tuple[list[ProgressEntry], list[Problem]]:
    if not isinstance(document, dict):
        return [], [
            Problem(
                "file",
                "must be a JSON object with course_progress and "
                "certification_progress lists",
            )
        ]
    problems = [
        Problem(
            str(key), "unknown section; use course_progress or certification_progress"
        )
        for key in document
        if key not in JSON_SECTIONS
    ]
    entries: list[ProgressEntry] = []
    for section, kind in JSON_SECTIONS.items():
        items = document.get(section, [])
        if not isinstance(items, list):
            problems.append(Problem(section, "must be a list"))
            continue
        item_field = JSON_FIELDS[kind][1]
        for index, item in enumerate(items):
            place = f"{section}[{index}]"
            if not isinstance(item, dict):
                problems.append(Problem(place, "must be an object"))
                continue
            found = _FieldProblems(place, place + ".{field}")
            for key in item:
                if key not in JSON_FIELDS[kind]:
                    found.add(str(key), "unknown field")
            entry = _check_record(item, kind, item_field, found)
            problems += found.problems
            if entry is not None:
                entries.append(entry)
    return entries, problems


def _repeated_progress(entries: list[ProgressEntry]) -> list[Problem]:
    first: dict[tuple[str, str, int], str] = {}
    problems = []
    for entry in entries:
        key = (entry.kind, entry.email, entry.item_id)
        if key in first:
            problems.append(
                Problem(
                    entry.place, f"repeats the {entry.kind} progress of {first[key]}"
                )
            )
        else:
            first[key] = entry.place
    return problems


def read_progress_file(content: bytes) -> list[ProgressEntry]:
    """Parse and check a progress file, CSV or JSON, or raise ``InvalidFileError``.

    A file whose first character (after a byte-order mark and spaces) is ``{``
    is read as JSON, any other as ``;``-separated CSV. Whether the emails and
    ids exist is checked against the database when the file is loaded.
    """
    text = _decode(content)
    if text.lstrip().startswith("{"):
        entries, problems = _read_progress_json(_load_json(text))
    else:
        entries, problems = _read_progress_csv(text)
    problems += _repeated_progress(entries)
    if problems:
        raise InvalidFileError(problems)
    return entries
