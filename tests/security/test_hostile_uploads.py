"""Hostile uploads end in a 413, a 422 or a failed job that names the limit, cheaply.

Each file goes to a real server process (``hostile.AuditedServer``). The
tests check the outcome and its message, the time it took and the peak
memory it added (VmHWM, reset before each upload). They also check that the
server still responds afterwards, and that no parser opened a file outside
its work folder or a network connection.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from maizeplus.kit.body_limit import MULTIPART_OVERHEAD_BYTES
from tests.conftest import CASES_DIR
from tests.hygiene import find_leaks, leaked_secrets
from tests.imports.readers import workbooks
from tests.security.hostile import (
    MAX_EXTRA_PEAK_MIB,
    MAX_SECONDS,
    MIB,
    REPOSITORY_ROOT,
    UPLOAD_LIMIT_BYTES,
    USERS_HEADER,
    AuditedServer,
    ConnectionCounter,
    Outcome,
    chunked,
    random_letters,
    raw_request,
    record_figures,
    repeated,
    upload_and_wait,
    users_sheet,
    xlsx_bytes,
    zip_of_entries,
)
from tests.support import DatabaseTemplate, TenantCredentials, make_tenant

CANARY_TEXT = "canary-" + uuid.uuid4().hex
# croniter 7, which procrastinate imports, calls platform.architecture(), and
# that runs `file -b` on the interpreter. It is the only command the server runs.
PLATFORM_PROBE = ["file", "-b"]


@pytest.fixture(scope="module")
def hostile(
    database_template: DatabaseTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AuditedServer, TenantCredentials, httpx.Client]]:
    with database_template.copy() as database_url:
        tenant = make_tenant(database_url)
        server = AuditedServer(database_url, tmp_path_factory.mktemp("hostile"))
        (server.root / "canary.txt").write_text(CANARY_TEXT)
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as api:
                yield server, tenant, api
        finally:
            server.stop()
        log = server.process.log_path.read_text(errors="replace").splitlines()
        assert leaked_secrets(log) == []


def assert_error_envelope(status: int, body: dict[str, object]) -> None:
    assert status in (413, 422), body
    assert isinstance(body["message"], str)
    assert find_leaks(str(body)) == []


def assert_healthy(api: httpx.Client, tenant: TenantCredentials) -> None:
    health = api.get("/health")
    users = api.get("/api/v1/users", headers=tenant.headers)

    assert health.status_code == 200
    assert users.status_code == 200
    assert users.json()["data"] == []


def delete_all_users(api: httpx.Client, tenant: TenantCredentials) -> list[object]:
    """Deactivate the users that an upload created, so the next one starts empty."""
    users = api.get("/api/v1/users", headers=tenant.headers).json()["data"]
    if users:
        response = api.request(
            "DELETE",
            "/api/v1/users",
            headers=tenant.headers,
            data={"emails[]": [user["email"] for user in users]},
        )
        assert response.status_code == 204, response.text
    return list(users)


def test_body_over_limit_is_413(
    hostile: tuple[AuditedServer, TenantCredentials, httpx.Client],
) -> None:
    server, tenant, api = hostile
    upload_body_bytes = UPLOAD_LIMIT_BYTES + MULTIPART_OVERHEAD_BYTES + 8 * MIB
    multipart = {
        "Authorization": tenant.headers["Authorization"],
        "Content-Type": "multipart/form-data; boundary=x",
    }
    piece = b"a" * MIB
    file_part = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
    )
    urlencoded = {
        "Authorization": tenant.headers["Authorization"],
        "Content-Type": "application/x-www-form-urlencoded",
    }
    cases = {
        "POST /api/v1/import with Content-Length": (
            "POST",
            "/api/v1/import",
            {**multipart, "Content-Length": str(upload_body_bytes)},
            preceded(file_part, repeated(piece, upload_body_bytes)),
        ),
        "POST /api/v1/import chunked": (
            "POST",
            "/api/v1/import",
            {**multipart, "Transfer-Encoding": "chunked"},
            chunked(preceded(file_part, repeated(piece, upload_body_bytes))),
        ),
        "DELETE /api/v1/users chunked": (
            "DELETE",
            "/api/v1/users",
            {**urlencoded, "Transfer-Encoding": "chunked"},
            chunked(preceded(b"emails[]=", repeated(piece, 4 * MIB))),
        ),
        "POST /oauth/token with Content-Length": (
            "POST",
            "/oauth/token",
            {"Content-Type": "application/json", "Content-Length": str(4 * MIB)},
            repeated(piece, 4 * MIB),
        ),
    }
    outcomes = []
    for name, (method, path, headers, chunks) in cases.items():
        server.reset_peak()
        resident = server.memory_mib("VmRSS")
        started = time.monotonic()
        status, body = raw_request(server.process.port, method, path, headers, chunks)
        seconds = time.monotonic() - started
        peak = server.memory_mib("VmHWM") - resident
        outcomes.append(
            Outcome(
                f"body over the limit, {name}",
                str(status),
                body.decode(),
                seconds,
                peak,
            )
        )

        assert status == 413, (name, body)
        assert_error_envelope(status, json.loads(body))
        assert b"kilobytes" in body, name
        assert peak < MAX_EXTRA_PEAK_MIB, name
    record_figures(outcomes)
    assert_healthy(api, tenant)


def preceded(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def test_form_with_many_parts_is_422(
    hostile: tuple[AuditedServer, TenantCredentials, httpx.Client],
) -> None:
    _server, tenant, api = hostile
    csv_file = ("users.csv", f"{USERS_HEADER}\na@example.com;A;B\n".encode())
    fields = [(f"field{index}", (None, "x")) for index in range(5000)]
    files = [(f"file{index}", csv_file) for index in range(10)]

    many_fields = api.post(
        "/api/v1/import", headers=tenant.headers, files=[*fields, ("file", csv_file)]
    )
    many_files = api.post("/api/v1/import", headers=tenant.headers, files=files)
    no_boundary = api.post(
        "/api/v1/import",
        headers={**tenant.headers, "Content-Type": "multipart/form-data"},
        content=b"x",
    )
    many_emails = api.request(
        "DELETE",
        "/api/v1/users",
        headers=tenant.headers,
        files=[("emails[]", (None, f"u{index}@example.com")) for index in range(3000)],
    )

    for response in (many_fields, many_files, no_boundary):
        assert_error_envelope(response.status_code, response.json())
        assert list(response.json()["errors"]) == ["file"]
    assert "Maximum number of fields is 50" in many_fields.json()["message"]
    assert "Maximum number of files is 5" in many_files.json()["message"]
    assert "boundary" in no_boundary.json()["message"]
    assert_error_envelope(many_emails.status_code, many_emails.json())
    assert "Maximum number of fields is 2000" in many_emails.json()["message"]
    assert_healthy(api, tenant)


def sheet_of_wide_row(columns: int) -> str:
    cells = "".join(f"<c><v>{index}</v></c>" for index in range(columns))
    header = workbooks.inline_row(1, USERS_HEADER.split(";"))
    return workbooks.sheet(f'{header}<row r="2">{cells}</row>')


def nested_sheet(depth: int) -> str:
    return workbooks.sheet("<x>" * depth + "</x>" * depth)


def declared_size_lie() -> bytes:
    """A sheet of 64 MiB of spaces whose ZIP entry declares 1 KiB."""
    content = xlsx_bytes(workbooks.sheet(" " * (64 * MIB)))
    return patched(content, "xl/worksheets/sheet1.xml", file_size=1024)


def declared_huge_sizes() -> bytes:
    """Two small entries that declare 600 MiB each, 1.2 GiB in all."""
    content = xlsx_bytes(
        users_sheet(("a@example.com", "A", "B")),
        extra_parts={"xl/media/a.bin": b"a", "xl/media/b.bin": b"b"},
    )
    for name in ("xl/media/a.bin", "xl/media/b.bin"):
        content = patched(content, name, file_size=600 * MIB)
    return content


def patched(content: bytes, name: str, **fields: int) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "patched.xlsx"
        path.write_bytes(content)
        workbooks.patch_entry(path, name, **fields)
        return path.read_bytes()


def macro_workbook() -> bytes:
    return xlsx_bytes(
        users_sheet(("a@example.com", "A", "B")),
        content_types_xml=workbooks.content_types(workbooks.MACRO_WORKBOOK_TYPE),
        extra_parts={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1macro"},
    )


LIMIT_CELL = "import_max_cell_chars"
# name -> (file name, builder, expected status, words the message must contain)
HOSTILE_FILES = {
    "empty file": ("users.csv", lambda: b"", "422", ["must not be empty"]),
    "header-only CSV": (
        "users.csv",
        lambda: f"{USERS_HEADER}\n".encode(),
        "failed",
        ["no data rows"],
    ),
    "header-only XLSX": (
        "users.xlsx",
        lambda: xlsx_bytes(users_sheet()),
        "failed",
        ["no data rows"],
    ),
    "Excel 97-2003 (.xls, OLE2)": (
        "users.xls",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096),
        "422",
        ["Excel 97-2003", ".xls"],
    ),
    "macro workbook (.xlsm)": (
        "users.xlsx",
        macro_workbook,
        "422",
        ["macro-enabled", ".xlsm"],
    ),
    "PDF named .csv": (
        "users.csv",
        lambda: b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "422",
        ["PDF"],
    ),
    "CSV row of a million columns": (
        "users.csv",
        lambda: (
            f"{USERS_HEADER}\na@example.com;A;B".encode() + b";x" * 1_000_000 + b"\n"
        ),
        "failed",
        ["1,000,003 columns", "import_max_columns"],
    ),
    "XLSX row of a million cells": (
        "users.xlsx",
        lambda: xlsx_bytes(sheet_of_wide_row(1_000_000)),
        "failed",
        ["import_max_columns"],
    ),
    "CSV cell of 10 MB": (
        "users.csv",
        lambda: f"{USERS_HEADER}\na@example.com;{'A' * 10_000_000};B\n".encode(),
        "failed",
        [LIMIT_CELL],
    ),
    "CSV quoted cell of 10 MB": (
        "users.csv",
        lambda: f'{USERS_HEADER}\na@example.com;"{"A" * 10_000_000}";B\n'.encode(),
        "failed",
        [LIMIT_CELL],
    ),
    "XLSX shared string of 10 MB": (
        "users.xlsx",
        lambda: xlsx_bytes(
            workbooks.sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'),
            shared_strings_xml=workbooks.plain_shared_strings(
                [random_letters(10_000_000)]
            ),
        ),
        "failed",
        [LIMIT_CELL],
    ),
    "XLSX inline string of 10 MB": (
        "users.xlsx",
        lambda: xlsx_bytes(
            users_sheet(("a@example.com", random_letters(10_000_000), "B"))
        ),
        "failed",
        [LIMIT_CELL],
    ),
    "zip bomb: 512 MiB sheet in 0.5 MB (case C21a)": (
        "users.xlsx",
        lambda: (CASES_DIR / "C21a-zip-bomb-512MiB-sheet.xlsx").read_bytes(),
        "failed",
        ["import_xlsx_max_compression_ratio"],
    ),
    "zip bomb: entry declares 1 KiB, holds 64 MiB": (
        "users.xlsx",
        declared_size_lie,
        "failed",
        ["is damaged", "Bad CRC-32"],
    ),
    "zip bomb: entries declare 1.2 GiB in all": (
        "users.xlsx",
        declared_huge_sizes,
        "failed",
        ["import_xlsx_max_uncompressed_bytes"],
    ),
    "workbook of 5,000 ZIP entries": (
        "users.xlsx",
        lambda: zip_of_entries(5000, workbook_parts=True),
        "failed",
        ["5,00", "import_xlsx_max_entries"],
    ),
    "ZIP of 50,000 entries": (
        "users.xlsx",
        lambda: zip_of_entries(50_000, workbook_parts=False),
        "422",
        ["50,000 entries"],
    ),
    "XML nested 100,000 levels deep": (
        "users.xlsx",
        lambda: xlsx_bytes(nested_sheet(100_000)),
        "failed",
        ["header row is missing"],
    ),
    "relationship target outside the file": (
        "users.xlsx",
        lambda: xlsx_bytes(
            users_sheet(("a@example.com", "A", "B")),
            workbook_relationships_xml=workbooks.relationships(
                {"rId1": ("worksheet", "../../../../etc/passwd")}
            ),
        ),
        "failed",
        ["outside the file"],
    ),
}


def test_hostile_files_rejected_cheaply(
    hostile: tuple[AuditedServer, TenantCredentials, httpx.Client],
) -> None:
    server, tenant, api = hostile
    outcomes = []
    for name, (file_name, build, expected, words) in HOSTILE_FILES.items():
        outcome = upload_and_wait(server, api, tenant, name, build(), file_name)
        outcomes.append(outcome)

        assert outcome.status == expected, (name, outcome.message)
        for word in words:
            assert word in outcome.message, (name, outcome.message)
        assert find_leaks(outcome.message) == [], name
        assert outcome.seconds < MAX_SECONDS, name
        assert outcome.extra_peak_mib < MAX_EXTRA_PEAK_MIB, name
    record_figures(outcomes)
    assert_healthy(api, tenant)


WORKBOOK_PARTS = (
    "[Content_Types].xml",
    "_rels/.rels",
    "docProps/core.xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/worksheets/sheet1.xml",
    "xl/worksheets/sheet2.xml",
    "xl/sharedStrings.xml",
    "xl/styles.xml",
)
# Parts that the reader opens; a DOCTYPE in any of them fails the job (or,
# for [Content_Types].xml, the upload).
PARSED_PARTS = {
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/worksheets/sheet1.xml",
    "xl/sharedStrings.xml",
    "xl/styles.xml",
}


def entity_payloads(port: int, canary: Path) -> dict[str, tuple[str, str]]:
    """Return name -> (prolog inserted before the root, text inserted in the root)."""
    url = f"http://127.0.0.1:{port}"
    laughs = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{level} "{f"&l{level - 1};" * 10}">' for level in range(1, 10)
    )
    return {
        "billion laughs": (f"<!DOCTYPE r [{laughs}]>", "&l9;"),
        "external entity over HTTP": (
            f'<!DOCTYPE r [<!ENTITY e SYSTEM "{url}/e">]>',
            "&e;",
        ),
        "external entity of a local file": (
            f'<!DOCTYPE r [<!ENTITY e SYSTEM "file://{canary}">]>',
            "&e;",
        ),
        "external parameter entity": (
            f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>',
            "",
        ),
        "external DTD": (f'<!DOCTYPE r SYSTEM "{url}/d.dtd">', ""),
        "XInclude": (
            "",
            f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{url}/xi"/>',
        ),
    }


def base_parts() -> dict[str, str]:
    return {
        "[Content_Types].xml": workbooks.content_types(),
        "_rels/.rels": workbooks.relationships(
            {"rId1": ("officeDocument", "xl/workbook.xml")}
        ),
        "docProps/core.xml": f'{workbooks.XML_DECLARATION}<coreProperties xmlns="urn:x"/>',
        "xl/workbook.xml": workbooks.workbook(),
        "xl/_rels/workbook.xml.rels": workbooks.relationships(
            {
                "rId1": ("worksheet", "worksheets/sheet1.xml"),
                "rId2": ("sharedStrings", "sharedStrings.xml"),
                "rId3": ("styles", "styles.xml"),
            }
        ),
        "xl/worksheets/sheet1.xml": users_sheet(
            ("anna.verdi@example.com", "Anna", "Verdi")
        ),
        "xl/worksheets/sheet2.xml": users_sheet(),
        "xl/sharedStrings.xml": workbooks.plain_shared_strings(["unused"]),
        "xl/styles.xml": workbooks.styles([0]),
    }


def with_payload(xml: str, prolog: str, inside: str) -> str:
    """Insert a DOCTYPE after the XML declaration and text after the root's start tag."""
    declaration_end = xml.index("?>") + 2
    root_end = xml.index(">", xml.index("<", declaration_end)) + 1
    if xml[root_end - 2] == "/":
        inner = xml[declaration_end : root_end - 2] + ">" + inside + "</"
        name = xml[declaration_end:].lstrip("\n<").split()[0].rstrip("/>")
        return xml[:declaration_end] + prolog + inner + name + ">"
    return (
        xml[:declaration_end]
        + prolog
        + xml[declaration_end:root_end]
        + inside
        + xml[root_end:]
    )


def test_entities_never_expand_or_fetch(
    hostile: tuple[AuditedServer, TenantCredentials, httpx.Client],
) -> None:
    server, tenant, api = hostile
    listener = ConnectionCounter()
    canary = server.root / "canary.txt"
    outcomes = []
    try:
        for payload_name, (prolog, inside) in entity_payloads(
            listener.port, canary
        ).items():
            for part in WORKBOOK_PARTS:
                parts = base_parts()
                parts[part] = with_payload(parts[part], prolog, inside)
                content = xlsx_bytes(
                    parts.pop("xl/worksheets/sheet1.xml"),
                    shared_strings_xml=parts.pop("xl/sharedStrings.xml"),
                    styles_xml=parts.pop("xl/styles.xml"),
                    workbook_xml=parts.pop("xl/workbook.xml"),
                    workbook_relationships_xml=parts.pop("xl/_rels/workbook.xml.rels"),
                    content_types_xml=parts.pop("[Content_Types].xml"),
                    extra_parts=parts,
                )
                name = f"{payload_name} in {part}"
                outcome = upload_and_wait(
                    server, api, tenant, name, content, "users.xlsx"
                )
                outcomes.append(outcome)

                assert CANARY_TEXT not in outcome.message, name
                assert outcome.seconds < MAX_SECONDS, name
                assert outcome.extra_peak_mib < MAX_EXTRA_PEAK_MIB, name
                if prolog and part in PARSED_PARTS:
                    assert outcome.status in ("failed", "422"), (name, outcome)
                    assert "DOCTYPE" in outcome.message, name
                else:
                    assert outcome.status in (
                        "completed",
                        "completed_with_errors",
                        "failed",
                        "422",
                    ), (
                        name,
                        outcome,
                    )
                users = delete_all_users(api, tenant)
                assert CANARY_TEXT not in repr(users), name
                assert "lollol" not in repr(users), name
    finally:
        listener.close()

    assert listener.connections == 0
    record_figures(
        [outcome for outcome in outcomes if outcome.status != "completed"][:12]
    )


def test_parsers_stay_in_their_folders(
    hostile: tuple[AuditedServer, TenantCredentials, httpx.Client],
) -> None:
    server, tenant, api = hostile
    canary = server.root / "canary.txt"
    external = entity_payloads(1, canary)["external entity of a local file"]
    strings = workbooks.plain_shared_strings(["email", "first_name", "last_name"])
    files = {
        "users.csv": f"{USERS_HEADER}\nzoe.martin@example.org;Zoë;Martin\n".encode(),
        "users.xlsx": xlsx_bytes(
            workbooks.sheet(
                '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
                '<c r="C1" t="s"><v>2</v></c></row>'
            ),
            shared_strings_xml=strings,
        ),
        "entity.xlsx": xlsx_bytes(
            with_payload(users_sheet(("a@example.com", "A", "B")), *external)
        ),
    }
    for name, content in files.items():
        upload_and_wait(server, api, tenant, name, content, name)
    delete_all_users(api, tenant)

    events = server.audit_events()
    allowed_reads = (
        str(server.work),
        sys.prefix,
        sys.base_prefix,
        str(REPOSITORY_ROOT / "src"),
        "/proc/",
        "/dev/",
        # The time zone database, which the PostgreSQL driver reads.
        "/usr/share/zoneinfo/",
    )
    opened = [event for event in events if event["event"] == "open"]
    writes = [event["path"] for event in opened if event["write"]]
    reads = [event["path"] for event in opened if not event["write"]]
    network = [event for event in events if event["event"].startswith("socket.")]
    database_host = make_url(server.process.environment["MAIZEPLUS_DATABASE_URL"]).host

    # Starlette spools an upload of over 1 MiB to TMPDIR while it reads the
    # request and deletes it afterwards. The job works in its own folder.
    writable = (str(server.work), str(server.tmp), "/dev/null")

    assert opened, "the audit hook logged nothing"
    assert [path for path in writes if not path.startswith(writable)] == []
    assert [path for path in reads if not path.startswith(allowed_reads)] == []
    assert str(canary) not in reads
    assert [
        event for event in network if database_host not in str(event["address"])
    ] == []
    assert [
        event["command"]
        for event in events
        if event["event"] == "subprocess.Popen"
        and event["command"][:2] != PLATFORM_PROBE
    ] == []
    assert list(server.cwd.iterdir()) == []
    assert list(server.tmp.iterdir()) == []
    assert list(server.work.iterdir()) == []
