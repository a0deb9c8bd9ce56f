"""The import job, step by step: fetch the upload, read, scan, validate, apply, finish.

A job reads its file twice. The scan counts the rows, collects the units the
file defines and finds emails that occur more than once; the apply pass
validates each row and applies the rows a chunk at a time, each chunk in one
transaction together with its row errors and the job's checkpoint. A job that
is stopped or crashes resumes after its checkpoint and ends in the same state.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from maizeplus.imports import messages, store
from maizeplus.imports.apply import ChunkContext, ChunkOutcome, ChunkWriter
from maizeplus.imports.attempts import (
    MAX_JOB_ATTEMPTS,
    attempts_without_progress,
    give_up,
)
from maizeplus.imports.cells import SheetRow
from maizeplus.imports.chunk_rules import validate_chunk
from maizeplus.imports.columns import (
    ColumnMap,
    HeaderInvalid,
    TenantImportOptions,
    validate_header,
)
from maizeplus.imports.email_check import EmailChecker
from maizeplus.imports.errors import FileUnreadable
from maizeplus.imports.models import ImportJob, JobStatus, ReportStatus
from maizeplus.imports.readers import ReadLimits, open_sheet
from maizeplus.imports.rules import TRIMMED, RowValidator, ValidatedRow
from maizeplus.imports.units import UnitDefinition, plan_units
from maizeplus.imports.units_store import PlannedUnit, UnitStore
from maizeplus.kit import metrics
from maizeplus.kit.clock import utcnow
from maizeplus.reference.models import Country, Language
from maizeplus.settings import Settings
from maizeplus.tenants.models import Tenant

logger = logging.getLogger(__name__)

FILE_ERROR_ROW = 1


class JobInterrupted(Exception):
    """The runner is stopping: the job stays running and resumes from its checkpoint."""


class AttemptSuperseded(Exception):
    """A newer attempt took the job over; this one stopped without writing."""


@dataclass
class FileScan:
    """The findings of the first pass over the file."""

    total_rows: int = 0
    # The first definition of each unit, plus every later row that defines it
    # differently. Rows that repeat a definition word for word are left out,
    # so a million users of forty units cost forty entries.
    unit_definitions: list[UnitDefinition] = field(default_factory=list)
    first_unit_rows: dict[str, int] = field(default_factory=dict)
    repeated_email_hashes: frozenset[int] = frozenset()

    def unit_errors_of(
        self,
        errors: dict[int, dict[str, list[str]]],
        row_number: int,
        unit_code: str,
    ) -> dict[str, list[str]]:
        """Return the planner's errors for a row, sharing those of its unit's first row.

        A row that repeats its unit's first definition was not given to the
        planner, so it gets the errors of that first row, such as an unknown
        parent or a cycle. A row that defined the unit differently has its own
        entry.
        """
        if row_number in errors:
            return errors[row_number]
        first_row = self.first_unit_rows.get(unit_code)
        if first_row is None or first_row == row_number:
            return {}
        return errors.get(first_row, {})


def cell_texts(rows: Sequence[SheetRow], index: int | None) -> list[str]:
    """Return one column of the rows trimmed; a missing cell or a date is ``""``."""
    if index is None:
        return [""] * len(rows)
    cells = [row.cells[index] if index < len(row.cells) else "" for row in rows]
    if set(map(type, cells)) != {str}:
        cells = [cell if type(cell) is str else "" for cell in cells]
    return list(map(str.strip, cells, repeat(TRIMMED)))  # type: ignore[arg-type]


def email_keys(rows: Sequence[SheetRow], columns: ColumnMap) -> list[str]:
    """Return the rows' emails as duplicates are compared: trimmed and in lower case.

    NOTE: this is the text of the cell, not email-validator's normalised form,
    so two spellings of one internationalised address are not caught as one.
    """
    return list(map(str.lower, cell_texts(rows, columns.index("email"))))


def scan_rows(
    chunks: Iterable[list[SheetRow]],
    columns: ColumnMap,
    options: TenantImportOptions,
    should_stop: Callable[[], bool] = lambda: False,
) -> FileScan:
    """Count the rows, collect unit definitions and find repeated emails.

    Raises ``JobInterrupted`` when ``should_stop`` turns true, which it is
    asked after each chunk: the scan writes nothing, so a stop during it
    costs only the rows read so far.
    """
    scan = FileScan()
    # 8 bytes a row, where a set of a million email strings would cost well
    # over 100 MB.
    hashes = array("q")
    collect_units = (
        options.organizational_units
        and columns.index("organizational_unit_code") is not None
    )
    first_definitions: dict[str, tuple[str, str | None]] = {}
    for chunk in chunks:
        scan.total_rows += len(chunk)
        if should_stop():
            raise JobInterrupted()
        hashes.extend(map(hash, filter(None, email_keys(chunk, columns))))
        if collect_units:
            _collect_unit_definitions(chunk, columns, scan, first_definitions)
    if hashes:
        values, counts = np.unique(
            np.frombuffer(hashes, dtype=np.int64), return_counts=True
        )
        scan.repeated_email_hashes = frozenset(
            int(value) for value in values[counts > 1]
        )
    return scan


def _collect_unit_definitions(
    chunk: list[SheetRow],
    columns: ColumnMap,
    scan: FileScan,
    first_definitions: dict[str, tuple[str, str | None]],
) -> None:
    """Add the chunk's first definition of each unit and every row that differs from it.

    A chunk of a staff list names few distinct units, so the rows are
    grouped by definition first, and only definitions that differ from
    their unit's first one send the rows that give them to the planner.
    """
    definitions = list(
        zip(
            cell_texts(chunk, columns.index("organizational_unit_code")),
            cell_texts(chunk, columns.index("organizational_unit_name")),
            cell_texts(chunk, columns.index("parent_organizational_unit_code")),
            strict=True,
        )
    )
    first_index: dict[tuple[str, str, str], int] = {}
    for index, definition in enumerate(definitions):
        first_index.setdefault(definition, index)

    chosen: list[int] = []
    differing: set[tuple[str, str, str]] = set()
    for (code, name, parent), index in first_index.items():
        if not code:
            continue
        unit_definition = (name, parent or None)
        first = first_definitions.get(code)
        if first is None:
            first_definitions[code] = unit_definition
            scan.first_unit_rows[code] = chunk[index].number
            chosen.append(index)
        elif first != unit_definition:
            differing.add((code, name, parent))
    if differing:
        chosen += [
            index
            for index, definition in enumerate(definitions)
            if definition in differing
        ]
    for index in sorted(chosen):
        code, name, parent = definitions[index]
        scan.unit_definitions.append(
            UnitDefinition(
                row=chunk[index].number,
                code=code,
                name=name,
                parent_code=parent or None,
            )
        )


@dataclass
class _JobSetup:
    tenant: Tenant
    options: TenantImportOptions
    languages: frozenset[str]
    countries: frozenset[str]
    checkpoint_row: int


def _load_setup(session: Session, job: ImportJob) -> _JobSetup:
    tenant = session.get(Tenant, job.tenant_id)
    assert tenant is not None
    return _JobSetup(
        tenant=tenant,
        options=TenantImportOptions(
            external_ids=tenant.external_ids,
            business_units=tenant.business_units,
            organizational_units=tenant.organizational_units,
        ),
        languages=frozenset(session.execute(select(Language.code)).scalars()),
        countries=frozenset(session.execute(select(Country.code)).scalars()),
        checkpoint_row=job.checkpoint_row,
    )


class ImportJobProcessor:
    """Runs one attempt at one import job on a synchronous engine."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._should_stop = should_stop
        self._limits = ReadLimits.from_settings(settings)

    def run(self, tenant_id: int, job_id: int) -> JobStatus | None:
        """Process the job until it ends; return its final status (None if it had ended)."""
        # Objects stay loaded after a commit: reloading the job would begin a
        # transaction that lasts while the next chunk is validated, and on
        # SQLite it would hold the write lock (BEGIN IMMEDIATE) all that time.
        with Session(self._engine, expire_on_commit=False) as session:
            job = store.lock_job(session, tenant_id, job_id)
            if job is None or job.status != JobStatus.RUNNING:
                return None
            if attempts_without_progress(job) >= MAX_JOB_ATTEMPTS:
                # The last attempt died with its process, before it could
                # record anything.
                give_up(session, job)
                session.commit()
                logger.error(
                    "import.crashed",
                    extra={
                        "tenant_id": tenant_id,
                        "job_id": job_id,
                        "attempt": job.attempts,
                    },
                )
                return JobStatus.FAILED
            setup = _load_setup(session, job)
            job.attempts += 1
            job.heartbeat_at = utcnow()
            session.commit()
            log_fields = {
                "tenant_id": tenant_id,
                "job_id": job_id,
                "attempt": job.attempts,
            }
            logger.info(
                "import.started",
                extra={**log_fields, "checkpoint_row": job.checkpoint_row},
            )

            work_dir = Path(
                tempfile.mkdtemp(
                    prefix=f"import-{tenant_id}-{job_id}-", dir=self._work_root()
                )
            )
            try:
                return self._process(session, job, setup, work_dir)
            except JobInterrupted:
                # A stop between chunks is no failed attempt.
                self._hold(session, job)
                job.attempts -= 1
                # A chunk of this attempt may have marked it as the one with
                # progress; that mark moves back with the count.
                job.progress_attempt = min(job.progress_attempt, job.attempts)
                session.commit()
                raise
            except HeaderInvalid as error:
                return self._fail(session, job, error.message, error.errors)
            except FileUnreadable as error:
                return self._fail(
                    session, job, error.message, {"file": [error.message]}
                )
            finally:
                shutil.rmtree(work_dir, ignore_errors=True)

    @staticmethod
    def _hold(session: Session, job: ImportJob, attempt: int | None = None) -> None:
        """Begin a write of this attempt, or stop if a newer attempt has the job.

        ``attempt`` defaults to the job's loaded count; after a rollback, which
        reloads the job, the caller passes the number it kept.
        """
        attempt = job.attempts if attempt is None else attempt
        if not store.hold_attempt(session, job.tenant_id, job.id, attempt):
            session.rollback()
            logger.warning(
                "import.superseded",
                extra={
                    "tenant_id": job.tenant_id,
                    "job_id": job.id,
                    "attempt": attempt,
                },
            )
            raise AttemptSuperseded()

    def _work_root(self) -> str | None:
        root = self._settings.import_work_dir
        if root is None:
            return None
        root.mkdir(parents=True, exist_ok=True)
        return str(root)

    def _process(
        self, session: Session, job: ImportJob, setup: _JobSetup, work_dir: Path
    ) -> JobStatus:
        started = time.monotonic()
        upload = work_dir / "upload"
        store.write_upload_to(session, job.tenant_id, job.id, upload)
        session.commit()

        with open_sheet(upload, self._limits, work_dir) as sheet:
            columns = validate_header(sheet.header, setup.options)
            scan = scan_rows(sheet.chunks, columns, setup.options, self._should_stop)
            encoding, separator = sheet.encoding, sheet.separator
        if scan.total_rows == 0:
            raise FileUnreadable(messages.NO_DATA_ROWS)

        units = UnitStore(session, job.tenant_id)
        plan = plan_units(
            units.existing_organizational_units(),
            scan.unit_definitions,
            parents_given=columns.has("parent_organizational_unit_code"),
        )
        units.use_plan(
            {
                code: PlannedUnit(unit.name, unit.parent_code)
                for code, unit in plan.units.items()
            }
        )
        self._hold(session, job)
        store.update_job(
            session,
            job.tenant_id,
            job.id,
            total_rows=scan.total_rows,
            encoding=encoding,
            separator=separator,
        )
        session.commit()

        writer = ChunkWriter(
            session,
            ChunkContext(
                tenant_id=job.tenant_id,
                present_columns=frozenset(columns.present),
                business_units=setup.options.business_units,
                organizational_units=setup.options.organizational_units,
                user_limit=setup.tenant.user_limit,
            ),
            units,
        )
        validator = RowValidator(
            columns,
            setup.options,
            languages=setup.languages,
            countries=setup.countries,
            email_checker=EmailChecker(check_dns=self._settings.import_check_email_dns),
        )
        with open_sheet(
            upload, self._limits, work_dir, self._settings.import_chunk_rows
        ) as sheet:
            self._apply_rows(
                session,
                job,
                sheet.chunks,
                columns,
                scan,
                plan.errors,
                validator,
                writer,
                setup,
            )

        return self._finish(session, job, time.monotonic() - started)

    def _apply_rows(
        self,
        session: Session,
        job: ImportJob,
        chunks: Iterable[list[SheetRow]],
        columns: ColumnMap,
        scan: FileScan,
        unit_errors: dict[int, dict[str, list[str]]],
        validator: RowValidator,
        writer: ChunkWriter,
        setup: _JobSetup,
    ) -> None:
        first_rows: dict[str, int] = {}
        unit_column = (
            columns.index("organizational_unit_code")
            if setup.options.organizational_units
            else None
        )
        for read in chunks:
            # Repeated emails are counted from the top of the file, so that a
            # resumed job names the same first rows.
            duplicates = _repeated_email_rows(read, columns, scan, first_rows)
            if read[-1].number <= setup.checkpoint_row:
                # A resumed job reads past the rows it applied before; a stop
                # is honoured there too, as in the scan.
                if self._should_stop():
                    raise JobInterrupted()
                continue
            skipped = _rows_up_to(read, setup.checkpoint_row)
            pending = read[skipped:]

            chunk = _Chunk(size=len(pending), last_row=pending[-1].number)
            row_unit_codes = cell_texts(pending, unit_column) if unit_errors else []
            for index, validated in enumerate(validate_chunk(validator, pending)):
                duplicate_of = duplicates.get(skipped + index)
                row_unit_errors = (
                    scan.unit_errors_of(
                        unit_errors, validated.number, row_unit_codes[index]
                    )
                    if row_unit_codes and unit_column is not None
                    else {}
                )
                if not (validated.errors or duplicate_of or row_unit_errors):
                    chunk.valid.append(validated)
                    continue
                errors = {
                    column: list(found) for column, found in validated.errors.items()
                }
                if duplicate_of is not None:
                    errors.setdefault("email", []).append(
                        messages.email_used_on_row(duplicate_of)
                    )
                for column, found in row_unit_errors.items():
                    errors.setdefault(column, []).extend(found)
                chunk.errors.append((validated.number, errors))
            self._commit_chunk(session, job, chunk, writer)

    def _commit_chunk(
        self, session: Session, job: ImportJob, chunk: _Chunk, writer: ChunkWriter
    ) -> None:
        self._hold(session, job)
        now = utcnow()
        outcome: ChunkOutcome = writer.apply(chunk.valid, now)
        errors = sorted(chunk.errors + outcome.errors, key=lambda entry: entry[0])
        store.add_row_errors(session, job.tenant_id, job.id, errors, now)
        job.processed_rows += chunk.size
        job.created_rows += outcome.created
        job.updated_rows += outcome.updated
        job.unchanged_rows += outcome.unchanged
        job.failed_rows += len(errors)
        job.created_disabled_rows += outcome.created_disabled
        job.checkpoint_row = chunk.last_row
        job.progress_attempt = job.attempts
        job.heartbeat_at = now
        session.commit()
        metrics.record_import_rows(
            outcome.created, outcome.updated, outcome.unchanged, len(errors)
        )
        logger.debug(
            "import.chunk_applied",
            extra={
                "tenant_id": job.tenant_id,
                "job_id": job.id,
                "checkpoint_row": chunk.last_row,
                "rows": chunk.size,
            },
        )
        if self._should_stop():
            raise JobInterrupted()

    def _finish(self, session: Session, job: ImportJob, seconds: float) -> JobStatus:
        self._hold(session, job)
        status = (
            JobStatus.COMPLETED
            if job.failed_rows == 0
            else JobStatus.COMPLETED_WITH_ERRORS
        )
        job.status = status
        job.finished_at = utcnow()
        job.report_status = ReportStatus.PENDING
        job.report_next_attempt_at = job.finished_at
        session.commit()
        logger.info(
            "import.finished",
            extra={
                "tenant_id": job.tenant_id,
                "job_id": job.id,
                "status": status.value,
                "rows": job.processed_rows,
                # "created" is an attribute of every LogRecord, which logging
                # refuses to overwrite, hence the suffix.
                "created_rows": job.created_rows,
                "updated_rows": job.updated_rows,
                "unchanged_rows": job.unchanged_rows,
                "failed_rows": job.failed_rows,
                "seconds": round(seconds, 3),
            },
        )
        return status

    def _fail(
        self,
        session: Session,
        job: ImportJob,
        message: str,
        errors: dict[str, list[str]],
    ) -> JobStatus:
        attempt = job.attempts
        session.rollback()
        self._hold(session, job, attempt)
        now = utcnow()
        store.add_row_errors(
            session, job.tenant_id, job.id, [(FILE_ERROR_ROW, errors)], now
        )
        store.update_job(
            session,
            job.tenant_id,
            job.id,
            status=JobStatus.FAILED,
            message=message,
            finished_at=now,
            report_status=ReportStatus.PENDING,
            report_next_attempt_at=now,
        )
        session.commit()
        logger.info(
            "import.failed",
            extra={"tenant_id": job.tenant_id, "job_id": job.id, "reason": message},
        )
        return JobStatus.FAILED


@dataclass
class _Chunk:
    """Rows read since the last commit: the valid ones and the reported ones."""

    valid: list[ValidatedRow] = field(default_factory=list)
    errors: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)
    size: int = 0
    last_row: int = 0


def _rows_up_to(rows: list[SheetRow], last_number: int) -> int:
    """Return how many of the rows, which are in file order, are numbered up to ``last_number``."""
    return bisect_right([row.number for row in rows], last_number)


def _repeated_email_rows(
    rows: list[SheetRow],
    columns: ColumnMap,
    scan: FileScan,
    first_rows: dict[str, int],
) -> dict[int, int]:
    """Map the index of each row whose email came before to that first row's number.

    ``first_rows`` keeps the first row of every repeated email between calls.
    """
    repeated = scan.repeated_email_hashes
    if not repeated:
        return {}
    keys = email_keys(rows, columns)
    hashes = list(map(hash, keys))
    if repeated.isdisjoint(hashes):
        return {}
    duplicates: dict[int, int] = {}
    for index, (key, key_hash) in enumerate(zip(keys, hashes, strict=True)):
        if key and key_hash in repeated:
            number = rows[index].number
            first = first_rows.setdefault(key, number)
            if first != number:
                duplicates[index] = first
    return duplicates
