"""The attempt limit counts only the attempts since the last one that applied rows."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from maizeplus.db.engine import create_sync_engine
from maizeplus.imports.models import ImportJob
from maizeplus.imports.pipeline import ImportJobProcessor
from maizeplus.settings import Settings
from tests.imports.helpers import numbered_users_file, upload_bytes
from tests.support import LiveServer, TenantCredentials


@pytest.fixture
def waiting_job(settings: Settings, tenant: TenantCredentials) -> Iterator[int]:
    """A job accepted by a server without a runner, so nothing applies it yet."""
    server = LiveServer(settings.model_copy(update={"embedded_worker": False})).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            response = upload_bytes(api, tenant, numbered_users_file(30))
            assert response.status_code == 202, response.text
            # The tenant's first job, since job ids count per tenant from 1.
            yield 1
    finally:
        server.stop()


def _set_attempts(
    settings: Settings, tenant_id: int, attempts: int, progress: int
) -> None:
    engine = create_sync_engine(settings.database_url)
    with engine.begin() as connection:
        connection.execute(
            update(ImportJob)
            .where(ImportJob.tenant_id == tenant_id)
            .values(attempts=attempts, progress_attempt=progress)
        )
    engine.dispose()


def _run(settings: Settings, tenant_id: int, job_id: int) -> ImportJob:
    engine = create_sync_engine(settings.database_url)
    ImportJobProcessor(engine, settings).run(tenant_id, job_id)
    with Session(engine) as session:
        job = session.get(ImportJob, (tenant_id, job_id))
        assert job is not None
        session.expunge(job)
    engine.dispose()
    return job


def test_attempts_with_progress_do_not_count(
    settings: Settings, tenant: TenantCredentials, waiting_job: int
) -> None:
    _set_attempts(settings, tenant.tenant_id, attempts=7, progress=6)

    job = _run(settings, tenant.tenant_id, waiting_job)

    assert job.status == "completed_with_errors"
    assert job.progress_attempt == 8


def test_attempts_without_progress_fail_the_job(
    settings: Settings, tenant: TenantCredentials, waiting_job: int
) -> None:
    _set_attempts(settings, tenant.tenant_id, attempts=5, progress=2)

    job = _run(settings, tenant.tenant_id, waiting_job)

    assert job.status == "failed"
    assert job.message is not None
    assert job.message.startswith("The import stopped after 3 attempts in a row")
