"""Reading catalogue and progress files: every problem is reported with its place."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from maizeplus.catalog.files import (
    MAX_ID,
    InvalidFileError,
    read_catalogue_file,
    read_progress_file,
)


def problems_of_catalogue(document: Any) -> list[str]:
    content = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(InvalidFileError) as raised:
        read_catalogue_file(content)
    return [str(problem) for problem in raised.value.problems]


def problems_of_progress(content: bytes) -> list[str]:
    with pytest.raises(InvalidFileError) as raised:
        read_progress_file(content)
    return [str(problem) for problem in raised.value.problems]


def test_catalogue_file_reads_every_section() -> None:
    document = {
        "topics": [{"id": 1, "name": " Leadership "}],
        "courses": [{"id": 4, "topic_id": 1, "name": "Feedback", "duration": 45}],
        "certifications": [{"id": 2, "name": "Data Expert"}],
    }

    catalogue = read_catalogue_file(b"\xef\xbb\xbf" + json.dumps(document).encode())

    assert catalogue.topics[0].name == "Leadership"
    assert catalogue.courses[0].duration == 45
    assert catalogue.courses[0].description is None
    assert catalogue.certifications[0].id == 2


def test_catalogue_file_lists_every_problem() -> None:
    document = {
        "topics": [{"id": 0, "name": "Zero"}, {"id": 1}],
        "courses": [{"id": "3", "name": "Text id", "duration": -1, "colour": "red"}],
        "certifications": [{"id": 2, "name": ""}],
        "badges": [],
    }

    problems = problems_of_catalogue(document)

    places = [problem.split(":")[0] for problem in problems]
    assert places == [
        "topics[0].id",
        "topics[1].name",
        "courses[0].id",
        "courses[0].duration",
        "courses[0].colour",
        "certifications[0].name",
        "badges",
    ]


def test_catalogue_file_reports_repeated_ids() -> None:
    document = {"topics": [{"id": 5, "name": "A"}, {"id": 5, "name": "B"}]}

    assert problems_of_catalogue(document) == ["topics[1].id: id 5 repeats topics[0]"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"topics": [', "line 1, column 13: invalid JSON: Expecting value"),
        (b"\xff\xfe", "file: is not valid UTF-8 (byte 0); save it as UTF-8"),
        (
            b"[]",
            "file: Input should be a valid dictionary or instance of CatalogueFile",
        ),
        (
            b'{"topics": [{"id": true, "name": "x"}]}',
            "topics[0].id: Input should be a valid integer",
        ),
    ],
)
def test_catalogue_file_unreadable(content: bytes, expected: str) -> None:
    assert problems_of_catalogue(content) == [expected]


CSV_HEADER = (
    "email;course_id;certification_id;started_at;finished_at;progress;"
    "score;score_avg;attempts\n"
)


def test_progress_csv_reads_both_kinds() -> None:
    content = (
        CSV_HEADER
        + "Anna.Verdi@Example.com ;3;;2022-11-08T18:39:54Z;;;;;\n"
        + "\n"
        + "anna.verdi@example.com;;2;2024-06-13 14:56:29;"
        + "2024-06-14T10:00:00+02:00;;90;80,5;3\n"
    ).encode()

    course, certification = read_progress_file(content)

    assert (course.place, course.kind, course.email) == (
        "row 2",
        "course",
        "anna.verdi@example.com",
    )
    assert course.item_id == 3
    assert course.progress == "started"
    assert course.finished_at is None
    assert certification.place == "row 4"
    assert certification.progress == "completed"
    assert certification.finished_at == datetime(2024, 6, 14, 8, 0, 0)
    assert (certification.score, certification.score_avg, certification.attempts) == (
        90,
        Decimal("80.50"),
        3,
    )


def test_progress_csv_lists_every_problem_by_row() -> None:
    content = (
        CSV_HEADER
        + ";3;;2022-11-08T18:39:54Z;;;;;\n"
        + "a@example.com;3;2;2022-11-08;;;;;\n"
        + "a@example.com;x;;yesterday;;;;;\n"
        + '"b@example.com";4;;2022-11-08;2022-11-01;;;;\n'
        + "b@example.com;5;;2022-11-08;;completed;;;\n"
        + "b@example.com;6;;2022-11-08;;;50;;\n"
        + "b@example.com;;7;2022-11-08;;paused;101;abc;-1\n"
        + "b@example.com;8;;2022-11-08;;;;;\n"
        + "B@example.com;8;;2022-11-09;;;;;\n"
    ).encode()

    problems = problems_of_progress(content)

    assert problems == [
        "row 2, email: is missing",
        "row 3, course_id: set exactly one of course_id and certification_id",
        f"row 4, course_id: must be an integer from 1 to {MAX_ID}",
        "row 4, started_at: must be an ISO 8601 time, e.g. 2022-11-08T18:39:54Z",
        "row 5, finished_at: is before started_at",
        "row 6, finished_at: is required when progress is completed",
        "row 7, score: is only for certification progress",
        "row 8, progress: must be started or completed",
        "row 8, score: must be an integer from 0 to 100",
        "row 8, score_avg: must be a number from 0 to 100",
        "row 8, attempts: must be a whole number from 0",
        "row 10: repeats the course progress of row 9",
    ]


def test_progress_csv_row_counts_lines_of_quoted_field() -> None:
    content = (
        CSV_HEADER
        + '"a@example.com";1;;"2022-11-08\n";;;;;\nb@example.com;x;;2022-11-08;;;;;\n'
    ).encode()

    # The first record spans lines 2 and 3, so the second starts on line 4.
    assert problems_of_progress(content) == [
        f"row 4, course_id: must be an integer from 1 to {MAX_ID}"
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("email;course_id;started_at;colour", ["row 1: unknown column 'colour'"]),
        ("email;course_id", ["row 1: required column 'started_at' is missing"]),
        ("email;started_at", ["row 1: needs a course_id or a certification_id column"]),
        (
            "email;course_id;started_at;Email",
            ["row 1: column 'email' appears more than once"],
        ),
        ("", ["row 1: the file is empty; the header is missing"]),
    ],
)
def test_progress_csv_header_problems(header: str, expected: list[str]) -> None:
    assert problems_of_progress(header.encode()) == expected


def test_progress_json_reads_both_sections() -> None:
    document = {
        "course_progress": [
            {
                "email": "a@example.com",
                "course_id": 1,
                "started_at": "2022-11-08T18:39:54Z",
            }
        ],
        "certification_progress": [
            {
                "email": "a@example.com",
                "certification_id": 1,
                "started_at": "2022-11-08T18:39:54Z",
                "finished_at": "2022-11-08T19:00:00Z",
                "progress": "completed",
                "score": 80,
                "score_avg": 72.255,
                "attempts": 4,
            }
        ],
    }

    course, certification = read_progress_file(json.dumps(document).encode())

    assert course.place == "course_progress[0]"
    assert course.started_at == datetime(2022, 11, 8, 18, 39, 54)
    assert certification.score_avg == Decimal("72.26")


def test_progress_json_lists_every_problem() -> None:
    document = {
        "course_progress": [
            {"email": "a@example.com", "course_id": True, "started_at": "2022-11-08"},
            "not an object",
            {
                "email": "a@example.com",
                "course_id": 2,
                "started_at": "2022-11-08",
                "score": 3,
            },
        ],
        "certification_progress": {"email": "a@example.com"},
        "badges": [],
    }

    problems = problems_of_progress(json.dumps(document).encode())

    assert problems == [
        "badges: unknown section; use course_progress or certification_progress",
        f"course_progress[0].course_id: must be an integer from 1 to {MAX_ID}",
        "course_progress[1]: must be an object",
        "course_progress[2].score: unknown field",
        "course_progress[2].score: is only for certification progress",
        "certification_progress: must be a list",
    ]


def test_progress_json_email_must_be_text() -> None:
    document = {
        "course_progress": [{"email": 5, "course_id": 1, "started_at": "2022-11-08"}]
    }

    assert problems_of_progress(json.dumps(document).encode()) == [
        "course_progress[0].email: must be text"
    ]


def test_catalogue_file_id_range() -> None:
    document = {
        "topics": [{"id": MAX_ID, "name": "Last"}, {"id": MAX_ID + 1, "name": "Over"}]
    }

    assert problems_of_catalogue(document) == [
        f"topics[1].id: Input should be less than or equal to {MAX_ID}"
    ]
