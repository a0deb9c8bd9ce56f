"""The checks after a load test: jobs, row counts, each tenant's users, server logs.

The expected state comes from the stored files that were uploaded, each
tenant's preload file included, never from what the service reports.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench.load_data import (
    EMAIL,
    INVALID_EMAIL,
    LAST_NAME,
    PRELOAD_UPLOAD_NAME,
    UPLOAD_NAME,
    expected_errors,
    preload_file_name,
    read_upload,
)

APPLIED = ("completed", "completed_with_errors")
# The end of an access log line: '127.0.0.1:5000 - "GET /path HTTP/1.1" 200'.
ACCESS_STATUS = re.compile(r'" (\d{3})$')
# Problems listed by name in the results; the rest are only counted.
MAX_LISTED_PROBLEMS = 20


@dataclass
class JobCheck:
    """Findings of the checks on the import jobs and the tenants' users."""

    uploads_sent: int = 0
    uploads_accepted: int = 0
    uploads_rejected: dict[str, int] = field(default_factory=dict)
    uploads_unanswered: int = 0
    jobs_checked: int = 0
    jobs_by_status: dict[str, int] = field(default_factory=dict)
    rows_checked: int = 0
    users_checked: int = 0
    lost_users: int = 0
    wrong_last_names: int = 0
    unexpected_users: int = 0
    problem_count: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(text)

    @property
    def lost_rows(self) -> int:
        return self.lost_users + self.wrong_last_names


@dataclass
class LogCheck:
    """Counts and findings from the server and worker logs."""

    files: int = 0
    lines: int = 0
    tracebacks: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    # WARNING and above, by event name.
    warning_events: dict[str, int] = field(default_factory=dict)
    lines_not_json: int = 0
    # The status codes of uvicorn's access log lines, the servers' own count.
    access_statuses: dict[str, int] = field(default_factory=dict)
    # The first lines that are warnings, errors or not JSON.
    samples: list[str] = field(default_factory=list)


def _manifest(path: Path) -> dict[str, dict[str, Any]]:
    """Merge the simulated users' records of each upload file, by file name."""
    uploads: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return uploads
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if "file" in entry:
            uploads.setdefault(entry["file"], {}).update(entry)
    return uploads


def _upload_order(name: str) -> tuple[int, int, int]:
    """Return (tenant, user, sequence); a tenant's preload upload comes first."""
    preload = PRELOAD_UPLOAD_NAME.match(name)
    if preload:
        return int(preload["tenant"]), -1, 0
    match = UPLOAD_NAME.match(name)
    if match is None:
        raise ValueError(f"not an upload file of the load test: {name}")
    return int(match["tenant"]), int(match["user"]), int(match["sequence"])


# Each job's row errors, by (tenant id, job id) and then row number.
RowErrors = dict[tuple[int, int], dict[int, Any]]


def _read_database(
    database_url: str, tenant_ids: list[int]
) -> tuple[list[Any], RowErrors, dict[int, dict[str, str]]]:
    """Return the jobs, their row errors, and each tenant's active users' last names."""
    with psycopg.connect(database_url) as connection:
        jobs = connection.execute(
            "SELECT tenant_id, id, uuid, status, file_name, total_rows, "
            "processed_rows, created_rows, updated_rows, unchanged_rows, "
            "failed_rows, created_disabled_rows, message FROM import_jobs"
        ).fetchall()
        row_errors: RowErrors = {}
        for tenant_id, job_id, row, errors in connection.execute(
            "SELECT tenant_id, job_id, row, errors FROM import_row_errors"
        ):
            row_errors.setdefault((tenant_id, job_id), {})[row] = json.loads(errors)
        users = {
            tenant_id: dict(
                connection.execute(
                    "SELECT email, last_name FROM users "
                    "WHERE tenant_id = %s AND deactivated_at IS NULL",
                    (tenant_id,),
                ).fetchall()
            )
            for tenant_id in tenant_ids
        }
    return jobs, row_errors, users


def check_jobs(
    database_url: str,
    tenant_ids: list[int],
    uploads_dir: Path,
    manifest_path: Path,
) -> JobCheck:
    """Compare every job and every tenant's users with the uploaded files."""
    result = JobCheck()
    uploads = _manifest(manifest_path)
    files = {path.name: path for path in uploads_dir.glob("*.csv")}
    jobs, row_errors, stored_users = _read_database(database_url, tenant_ids)
    _count_uploads(result, uploads)
    # The preload file of a tenant is its first job. Its rows create users,
    # and a later row with one of its emails updates that user.
    preloaded_emails = [
        {row[EMAIL] for row in read_upload(uploads_dir / preload_file_name(index))}
        for index in range(len(tenant_ids))
    ]
    applied_files: dict[int, list[str]] = {
        index: [] for index in range(len(tenant_ids))
    }
    jobs_by_file: dict[str, Any] = {}
    statuses: Counter[str] = Counter()
    for job in jobs:
        (tenant_id, job_id, job_uuid, status, file_name) = job[:5]
        statuses[status] += 1
        if file_name not in files:
            result.problem(f"job {job_uuid} has the unknown file {file_name!r}")
            continue
        jobs_by_file[file_name] = job
        tenant_index = _upload_order(file_name)[0]
        if tenant_ids[tenant_index] != tenant_id:
            result.problem(f"job {job_uuid} of {file_name} is in tenant {tenant_id}")
            continue
        rows = read_upload(files[file_name])
        _check_job(
            result,
            job,
            rows,
            row_errors.get((tenant_id, job_id), {}),
            set()
            if PRELOAD_UPLOAD_NAME.match(file_name)
            else preloaded_emails[tenant_index],
        )
        if status in APPLIED:
            applied_files[tenant_index].append(file_name)
    result.jobs_by_status = dict(statuses)

    for name, upload in uploads.items():
        answered_uuid = upload.get("uuid")
        job = jobs_by_file.get(name)
        if upload.get("status") == 202 and job is None:
            result.problem(f"{name} was accepted as job {answered_uuid}, which is lost")
        elif job is not None and answered_uuid and job[2] != answered_uuid:
            result.problem(
                f"{name} was accepted as {answered_uuid} but is job {job[2]}"
            )

    for tenant_index, tenant_id in enumerate(tenant_ids):
        applied = sorted(applied_files[tenant_index], key=_upload_order)
        expected = _expected_users(files, applied)
        _compare_users(result, tenant_index, expected, stored_users[tenant_id])
    return result


def _count_uploads(result: JobCheck, uploads: dict[str, dict[str, Any]]) -> None:
    rejected: Counter[str] = Counter()
    for upload in uploads.values():
        result.uploads_sent += 1
        status = upload.get("status")
        if status is None:
            result.uploads_unanswered += 1
        elif status == 202:
            result.uploads_accepted += 1
        else:
            rejected[str(status)] += 1
    result.uploads_rejected = dict(rejected)


def _check_job(
    result: JobCheck,
    job: Any,
    rows: list[list[str]],
    errors: dict[int, Any],
    known_emails: set[str],
) -> None:
    """Compare a job's status, counts and row errors with what its file deserves.

    A row of a known user updates it, since every upload gives it a new last
    name, and a valid row of any other email creates a user.
    """
    (
        _tenant_id,
        _job_id,
        job_uuid,
        status,
        file_name,
        total,
        processed,
        created,
        updated,
        unchanged,
        failed,
        created_disabled,
        message,
    ) = job
    result.jobs_checked += 1
    result.rows_checked += len(rows)
    want_errors = expected_errors(rows)
    want_failed = len(want_errors)
    want_updated = sum(1 for row in rows if row[EMAIL] in known_emails)
    want = {
        "status": "completed_with_errors" if want_failed else "completed",
        "total_rows": len(rows),
        "processed_rows": len(rows),
        "created_rows": len(rows) - want_failed - want_updated,
        "updated_rows": want_updated,
        "unchanged_rows": 0,
        "failed_rows": want_failed,
        "created_disabled_rows": 0,
    }
    got = {
        "status": status,
        "total_rows": total,
        "processed_rows": processed,
        "created_rows": created,
        "updated_rows": updated,
        "unchanged_rows": unchanged,
        "failed_rows": failed,
        "created_disabled_rows": created_disabled,
    }
    differences = {
        key: f"{got[key]} instead of {value}"
        for key, value in want.items()
        if got[key] != value
    }
    if differences:
        result.problem(
            f"job {job_uuid} of {file_name}: {differences}"
            + (f", message {message!r}" if message else "")
        )
    if (total or 0) != created + updated + unchanged + failed:
        result.problem(
            f"job {job_uuid} of {file_name}: its counts do not add up to {total}"
        )
    if {int(row): value for row, value in errors.items()} != want_errors:
        result.problem(
            f"job {job_uuid} of {file_name}: row errors {errors} instead of {want_errors}"
        )


def _expected_users(files: dict[str, Path], applied: list[str]) -> dict[str, str]:
    """Return each user's email and last name once the applied files are replayed in order."""
    users: dict[str, str] = {}
    for name in applied:
        for row in read_upload(files[name]):
            if row[EMAIL] != INVALID_EMAIL:
                users[row[EMAIL].lower()] = row[LAST_NAME]
    return users


def _compare_users(
    result: JobCheck,
    tenant_index: int,
    expected: dict[str, str],
    stored: dict[str, str],
) -> None:
    result.users_checked += len(expected)
    missing = expected.keys() - stored.keys()
    extra = stored.keys() - expected.keys()
    wrong = [
        email
        for email in expected.keys() & stored.keys()
        if expected[email] != stored[email]
    ]
    result.lost_users += len(missing)
    result.unexpected_users += len(extra)
    result.wrong_last_names += len(wrong)
    for kind, emails in (
        ("users missing", missing),
        ("users that no file names", extra),
        ("users with another last name than the last file gave", wrong),
    ):
        if emails:
            sample = ", ".join(sorted(emails)[:3])
            result.problem(
                f"tenant t{tenant_index}: {len(emails)} {kind}, such as {sample}"
            )


def check_logs(paths: list[Path]) -> LogCheck:
    """Count the log lines by level and find tracebacks and lines that are not JSON."""
    result = LogCheck()
    levels: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    access: Counter[str] = Counter()
    for path in paths:
        result.files += 1
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            result.lines += 1
            if "Traceback" in line:
                result.tracebacks += 1
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                result.lines_not_json += 1
                if len(result.samples) < 5:
                    result.samples.append(f"{path.name}: {line[:200]}")
                continue
            level = str(record.get("level", "?"))
            levels[level] += 1
            if record.get("logger") == "uvicorn.access":
                status = ACCESS_STATUS.search(str(record.get("event", "")))
                access[status[1] if status else "?"] += 1
            if level in ("WARNING", "ERROR", "CRITICAL"):
                warnings[str(record.get("event", "?"))] += 1
                if len(result.samples) < 5:
                    result.samples.append(f"{path.name}: {line[:200]}")
    result.by_level = dict(levels)
    result.warning_events = dict(warnings.most_common())
    result.access_statuses = dict(sorted(access.items()))
    return result
