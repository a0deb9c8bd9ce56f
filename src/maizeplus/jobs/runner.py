"""The interface between the API and whatever runs import jobs."""

from __future__ import annotations

from typing import Protocol


class JobRunner(Protocol):
    """Runs import jobs whose rows the API has committed.

    The job row itself is the unit of work: ``submit`` only signals that one is
    waiting, so a runner that misses the call still finds the job when it next
    looks at the database.
    """

    def start(self) -> None:
        """Begin processing, resuming every job that was left running."""

    def submit(self, tenant_id: int, job_id: int) -> None:
        """Signal that a newly committed job is waiting."""

    def stop(self) -> None:
        """Stop after the current chunk; unfinished jobs resume at the next start."""


class NoRunner:
    """For API-only processes: jobs wait for a worker elsewhere."""

    def start(self) -> None:
        pass

    def submit(self, tenant_id: int, job_id: int) -> None:
        pass

    def stop(self) -> None:
        pass
