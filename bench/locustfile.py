"""The simulated users of ``python -m bench.load``, for locust.

``bench.load`` runs locust with this file and sets the environment variable
``MAIZEPLUS_LOAD_CONFIG`` to the path of a JSON file. That file names the API
servers and the tenants with their OAuth clients and accounts, and where to
write the uploads, their outcome and every request. Simulated user
number N (from 0) works for tenant N modulo the tenant count and sends
every request to server N modulo the server count. Its tasks, by weight:

- a page of the users export with every include, at a random page;
- a random page of one of the other five exports;
- the status of the tenant's latest import job;
- an upload of a small CSV file (changed and new users, and on every third
  upload a row with an invalid email), then its status every
  ``poll_seconds`` until the job ends, then its row errors if it has any;
- a password grant, which replaces the user's token (rare: each costs two
  Argon2 verifications on the server).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task

from bench.load_data import (
    UploadPlan,
    csv_bytes,
    expected_errors,
    preloaded_rows,
    upload_rows,
)

CONFIG: dict[str, Any] = json.loads(
    Path(os.environ["MAIZEPLUS_LOAD_CONFIG"]).read_text(encoding="utf-8")
)
PAGE_LIMIT = 100
USERS_INCLUDE = "language,country,organizationalUnit.businessUnit"
OTHER_EXPORTS = (
    "topics",
    "courses",
    "certifications",
    "progress-courses",
    "progress-certifications",
)
# Each tenant's preloaded rows, generated once for all its simulated users.
PRELOADED = [
    preloaded_rows(index, tenant["preloaded_users"])
    for index, tenant in enumerate(CONFIG["tenants"])
]

_user_numbers = itertools.count()
# Every request as (name, status, milliseconds, failure message or None, end
# time). Status 0 means no response.
_samples: list[tuple[str, int, float, str | None, float]] = []
_test_started: list[float] = []


@events.test_start.add_listener
def _mark_test_start(**_: Any) -> None:
    _test_started.append(time.time())


@events.request.add_listener
def _record_request(
    name: str, response: Any, response_time: float, exception: Any, **_: Any
) -> None:
    status = getattr(response, "status_code", None) or 0
    failure = None if exception is None else str(exception)[:300]
    _samples.append((name, status, response_time, failure, time.time()))


@events.quit.add_listener
def _write_samples(**_: Any) -> None:
    """Write every request once locust has stopped its users, so none is missed."""
    samples = {"test_started": _test_started[0], "requests": _samples}
    Path(CONFIG["samples_path"]).write_text(json.dumps(samples))


def _record(entry: dict[str, Any]) -> None:
    with Path(CONFIG["manifest_path"]).open("a", encoding="utf-8") as manifest:
        manifest.write(json.dumps(entry) + "\n")


class TenantUser(FastHttpUser):
    """An API client of one tenant that sends all its requests to one server."""

    wait_time = between(*CONFIG["wait_seconds"])

    def __init__(self, environment: Any) -> None:
        self.number = next(_user_numbers)
        tenants = CONFIG["tenants"]
        self.tenant_index = self.number % len(tenants)
        self.tenant: dict[str, Any] = tenants[self.tenant_index]
        # FastHttpUser reads the base URL from ``host`` when it starts.
        self.host = CONFIG["servers"][self.number % len(CONFIG["servers"])]
        super().__init__(environment)
        self.share = self.number // len(tenants)
        self.uploads = 0
        self.access_token = ""
        self.last_pages: dict[str, int] = {}

    def on_start(self) -> None:
        self.take_token()

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.access_token}",
            "Accept": "application/json",
        }

    @task(1)
    def take_token(self) -> None:
        body = urlencode(
            {
                "grant_type": "password",
                "client_id": str(self.tenant["client_id"]),
                "client_secret": self.tenant["client_secret"],
                "username": self.tenant["username"],
                "password": self.tenant["password"],
                "scope": "*",
            }
        )
        with self.client.post(
            "/oauth/token",
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            name="POST /oauth/token",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                self.access_token = response.json()["access_token"]

    @task(80)
    def users_page(self) -> None:
        self._export_page("users", f"&include={USERS_INCLUDE}")

    @task(60)
    def other_export_page(self) -> None:
        self._export_page(random.choice(OTHER_EXPORTS), "")

    def _export_page(self, export: str, extra: str) -> None:
        page = random.randint(1, self.last_pages.get(export, 1))
        with self.client.get(
            f"/api/v1/{export}?page={page}&limit={PAGE_LIMIT}{extra}",
            headers=self._headers(),
            name=f"GET /api/v1/{export}",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                return
            body = response.json()
            meta = body["meta"]
            self.last_pages[export] = max(1, int(meta["last_page"]))
            # Rows are only added during the run, so no page up to the last
            # one seen may be empty.
            if not body["data"] and meta["total"] > 0:
                response.failure(f"page {page} of {export} is empty")

    @task(30)
    def latest_status(self) -> None:
        self.client.get(
            "/api/v1/import/latest/status",
            headers=self._headers(),
            name="GET /api/v1/import/latest/status",
        )

    @task(6)
    def upload(self) -> None:
        self.uploads += 1
        plan = UploadPlan(
            tenant_index=self.tenant_index,
            user_number=self.number,
            share=self.share,
            shares=CONFIG["shares"],
            sequence=self.uploads,
            preloaded=self.tenant["preloaded_users"],
            new_rows=CONFIG["new_rows"],
            changed_rows=CONFIG["changed_rows"],
        )
        rows = upload_rows(plan, PRELOADED[self.tenant_index])
        content = csv_bytes(rows)
        (Path(CONFIG["uploads_dir"]) / plan.file_name).write_bytes(content)
        _record({"file": plan.file_name, "event": "sent"})
        boundary = uuid.uuid4().hex
        body = (
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="file"; filename="{plan.file_name}"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {
            **self._headers(),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        with self.client.post(
            "/api/v1/import",
            data=body,
            headers=headers,
            name="POST /api/v1/import",
            catch_response=True,
        ) as response:
            job_uuid = response.json()["data"]["uuid"] if response.ok else None
            _record(
                {
                    "file": plan.file_name,
                    "event": "answered",
                    "status": response.status_code or 0,
                    "uuid": job_uuid,
                }
            )
        if job_uuid is not None:
            self._follow_job(job_uuid, expected_errors(rows))

    def _follow_job(self, job_uuid: str, errors: dict[int, Any]) -> None:
        """Poll the job's status until it ends, then check its row errors."""
        deadline = time.monotonic() + CONFIG["poll_timeout_seconds"]
        status = "running"
        while status == "running" and time.monotonic() < deadline:
            time.sleep(CONFIG["poll_seconds"])
            response = self.client.get(
                f"/api/v1/import/{job_uuid}/status",
                headers=self._headers(),
                name="GET /api/v1/import/{uuid}/status",
            )
            if response.status_code == 200:
                status = response.json()["data"]["status"]
        _record({"uuid": job_uuid, "event": "polled", "job_status": status})
        if status != "completed_with_errors":
            return
        with self.client.get(
            f"/api/v1/import/{job_uuid}/errors?page=1&limit={PAGE_LIMIT}",
            headers=self._headers(),
            name="GET /api/v1/import/{uuid}/errors",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                return
            reported = {
                error["row"]: error["errors"]
                for error in response.json()["data"]["errors"]
            }
            if reported != errors:
                response.failure(f"row errors {reported} instead of {errors}")
