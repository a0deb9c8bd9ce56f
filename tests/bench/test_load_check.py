"""The load test's upload files and the checks that find lost rows, on made-up data."""

from __future__ import annotations

import json
from pathlib import Path

from bench.load_check import (
    JobCheck,
    _check_job,
    _compare_users,
    _expected_users,
    check_logs,
)
from bench.load_data import (
    EMAIL,
    INVALID_EMAIL,
    INVALID_EMAIL_ERRORS,
    LAST_NAME,
    UploadPlan,
    csv_bytes,
    expected_errors,
    preloaded_rows,
    read_upload,
    upload_rows,
)

PRELOADED = 60


def _plan(user_number: int, sequence: int, shares: int = 3) -> UploadPlan:
    return UploadPlan(
        tenant_index=0,
        user_number=user_number,
        share=user_number // 3,
        shares=shares,
        sequence=sequence,
        preloaded=PRELOADED,
        new_rows=5,
        changed_rows=4,
    )


def _job(rows: list[list[str]], **counts: object) -> tuple[object, ...]:
    """Return an ``import_jobs`` row as ``check_jobs`` reads it, with the right counts."""
    failed = sum(1 for row in rows if row[EMAIL] == INVALID_EMAIL)
    values: dict[str, object] = {
        "status": "completed_with_errors" if failed else "completed",
        "total": len(rows),
        "processed": len(rows),
        "created": len(rows) - failed - 4,
        "updated": 4,
        "unchanged": 0,
        "failed": failed,
        "created_disabled": 0,
        **counts,
    }
    return (
        1,
        7,
        "job-uuid",
        values["status"],
        "t0-u000-f0001.csv",
        values["total"],
        values["processed"],
        values["created"],
        values["updated"],
        values["unchanged"],
        values["failed"],
        values["created_disabled"],
        None,
    )


def test_upload_rows_of_two_users_share_no_email() -> None:
    preloaded = preloaded_rows(0, PRELOADED)
    first = {row[EMAIL] for row in upload_rows(_plan(0, 1), preloaded)}
    second = {row[EMAIL] for row in upload_rows(_plan(3, 1), preloaded)}

    assert len(first) == 5 + 4
    assert first.isdisjoint(second)


def test_upload_rows_change_last_names() -> None:
    preloaded = preloaded_rows(0, PRELOADED)
    by_email = {row[EMAIL]: row for row in preloaded}
    rows = upload_rows(_plan(3, 2), preloaded)
    changed = [row for row in rows if row[EMAIL] in by_email]

    assert len(changed) == 4
    for row in changed:
        assert row[LAST_NAME] == f"{by_email[row[EMAIL]][LAST_NAME]} L3.2"


def test_upload_rows_invalid_row_every_third() -> None:
    preloaded = preloaded_rows(0, PRELOADED)
    third = upload_rows(_plan(0, 3), preloaded)

    assert [row[EMAIL] for row in upload_rows(_plan(0, 2), preloaded)].count(
        INVALID_EMAIL
    ) == 0
    assert third[-1][EMAIL] == INVALID_EMAIL
    assert expected_errors(third) == {len(third) + 1: INVALID_EMAIL_ERRORS}


def test_upload_file_reads_back(tmp_path: Path) -> None:
    rows = upload_rows(_plan(0, 3), preloaded_rows(0, PRELOADED))
    path = tmp_path / "upload.csv"
    path.write_bytes(csv_bytes(rows))

    assert read_upload(path) == rows


def test_check_job_accepts_right_counts() -> None:
    preloaded = preloaded_rows(0, PRELOADED)
    rows = upload_rows(_plan(0, 3), preloaded)
    result = JobCheck()

    _check_job(
        result,
        _job(rows),
        rows,
        {str(number): errors for number, errors in expected_errors(rows).items()},
        {row[EMAIL] for row in preloaded},
    )

    assert result.problems == []
    assert result.jobs_checked == 1
    assert result.rows_checked == len(rows)


def test_check_job_reports_wrong_counts_and_errors() -> None:
    preloaded = preloaded_rows(0, PRELOADED)
    rows = upload_rows(_plan(0, 3), preloaded)
    result = JobCheck()

    _check_job(
        result,
        _job(rows, created=1, status="completed"),
        rows,
        {},
        {row[EMAIL] for row in preloaded},
    )

    assert result.problem_count == 3
    assert "created_rows" in result.problems[0]
    assert "status" in result.problems[0]
    assert "do not add up" in result.problems[1]
    assert "row errors" in result.problems[2]


def test_compare_users_counts_lost_rows(tmp_path: Path) -> None:
    preloaded = preloaded_rows(0, PRELOADED)
    rows = upload_rows(_plan(0, 1), preloaded)
    (tmp_path / "t0-preload.csv").write_bytes(csv_bytes(preloaded))
    (tmp_path / "t0-u000-f0001.csv").write_bytes(csv_bytes(rows))
    files = {path.name: path for path in tmp_path.iterdir()}
    expected = _expected_users(files, ["t0-preload.csv", "t0-u000-f0001.csv"])
    stored = dict(expected)
    lost = rows[-1][EMAIL]
    changed = rows[0][EMAIL]
    del stored[lost]
    stored[changed] = preloaded[0][LAST_NAME] + " old"
    stored["stranger@example.com"] = "Stranger"
    result = JobCheck()

    _compare_users(result, 0, expected, stored)

    assert len(expected) == PRELOADED + 5
    assert result.lost_users == 1
    assert result.wrong_last_names == 1
    assert result.unexpected_users == 1
    assert result.lost_rows == 2


def test_check_logs_finds_tracebacks_and_5xx(tmp_path: Path) -> None:
    log = tmp_path / "api-1.log"
    lines = [
        {
            "level": "INFO",
            "logger": "uvicorn.access",
            "event": '1 - "GET / HTTP/1.1" 200',
        },
        {
            "level": "INFO",
            "logger": "uvicorn.access",
            "event": '1 - "GET / HTTP/1.1" 500',
        },
        {
            "level": "ERROR",
            "logger": "maizeplus",
            "event": "request failed",
            "exception": "Traceback (most recent call last):\n  ...",
        },
    ]
    log.write_text(
        "\n".join(json.dumps(line) for line in lines) + "\nplain text\n",
        encoding="utf-8",
    )

    result = check_logs([log])

    assert result.lines == 4
    assert result.tracebacks == 1
    assert result.access_statuses == {"200": 1, "500": 1}
    assert result.warning_events == {"request failed": 1}
    assert result.lines_not_json == 1
