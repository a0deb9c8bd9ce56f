"""Properties of the whole import, through the real server.

Rows written by a real writer (the csv module in several encodings, or
openpyxl) come back from the users export as the row rules define, and importing
the same file a second time changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
import openpyxl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from maizeplus.imports.rules import TRIMMED
from tests.imports.helpers import upload_bytes, users_table, wait_for_job
from tests.support import make_tenant

HEADER = ["email", "first_name", "last_name", "enabled", "language_id", "country_id"]
TENANT_LANGUAGE = "it"

LOCAL_PARTS = st.from_regex(r"[a-z0-9]{1,8}(\.[a-z0-9]{1,8})?", fullmatch=True)
DOMAINS = st.sampled_from(["example.com", "example.org", "example.net"])
EMAILS = st.builds("{}@{}".format, LOCAL_PARTS, DOMAINS)
# Names with accents, separators, quotes, formula signs and inner line breaks.
NAME_CHARACTERS = st.one_of(
    st.characters(categories=["L", "M", "Nd"]),
    st.sampled_from(" ;,\"'=+-@\u00a0\u2019\n"),
)
NAMES = st.text(NAME_CHARACTERS, min_size=1, max_size=20).filter(
    lambda name: name.strip(TRIMMED) and "\n" not in name.strip(TRIMMED)[:1]
)
USERS = st.lists(
    st.tuples(
        EMAILS,
        NAMES,
        NAMES,
        st.sampled_from([None, True, False]),
        st.sampled_from(["", "it", "en", "FR"]),
        st.sampled_from(["", "IT", "de"]),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda user: user[0],
)
FORMATS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "xlsx"])


def write_file(users: list[tuple[Any, ...]], file_format: str) -> bytes:
    if file_format == "xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.append(HEADER)
        for email, first, last, enabled, language, country in users:
            sheet.append(
                [email, first, last, enabled, language or None, country or None]
            )
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for email, first, last, enabled, language, country in users:
        flag = "" if enabled is None else str(enabled).lower()
        writer.writerow([email, first, last, flag, language, country])
    return text.getvalue().encode(file_format, errors="replace")


def expected_table(
    users: list[tuple[Any, ...]], file_format: str
) -> dict[str, tuple[Any, ...]]:
    table = {}
    for email, first, last, enabled, language, country in users:
        if file_format == "cp1252":
            first = first.encode("cp1252", errors="replace").decode("cp1252")
            last = last.encode("cp1252", errors="replace").decode("cp1252")
        table[email] = (
            None,
            first.strip(TRIMMED),
            last.strip(TRIMMED),
            enabled is not False,
            language.lower() or TENANT_LANGUAGE,
            country.upper() or None,
        )
    return table


def import_bytes(api: httpx.Client, tenant: Any, content: bytes, name: str) -> Any:
    response = upload_bytes(api, tenant, content, name)
    assert response.status_code == 202, response.text
    return wait_for_job(api, tenant, response.json()["data"]["uuid"])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(users=USERS, file_format=FORMATS)
def test_import_round_trip_and_idempotent(
    api: httpx.Client, database_url: str, users: list[tuple[Any, ...]], file_format: str
) -> None:
    content = write_file(users, file_format)
    # Two bytes over 0x7F in a row may be valid UTF-8, and a file that is
    # valid UTF-8 is read as UTF-8, so such Windows-1252 files are left out.
    assume(file_format != "cp1252" or not re.search(rb"[\x80-\xff]{2}", content))
    tenant = make_tenant(database_url)
    name = "users.xlsx" if file_format == "xlsx" else "users.csv"

    first = import_bytes(api, tenant, content, name)
    after_first = users_table(api, tenant)
    second = import_bytes(api, tenant, content, name)
    after_second = users_table(api, tenant)

    assert first["status"] == "completed", first
    assert after_first == expected_table(users, file_format)
    assert second["status"] == "completed", second
    assert second["summary"]["created"] == 0
    assert second["summary"]["updated"] == 0
    assert second["summary"]["unchanged"] == len(users)
    assert after_second == after_first
