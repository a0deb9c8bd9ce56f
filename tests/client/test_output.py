"""Export writers, the profile and token files, and the reference page, on real files."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import openpyxl
import pytest

from maizeplus.client.auth import StoredToken
from maizeplus.client.config import (
    ConfigError,
    FileTokenStore,
    Profile,
    default_config_path,
    environment_values,
    load_profile_values,
    merge_profile,
    save_profile,
)
from maizeplus.client.models import Resource
from maizeplus.client.output import (
    XLSX_MAX_CELL_CHARS,
    ExportFile,
    export_columns,
    flatten,
)
from maizeplus.client.reference import render
from maizeplus.kit.spreadsheet_safety import neutralise_formula

REFERENCE_PAGE = Path(__file__).parents[2] / "docs" / "client-reference.md"

USER = {
    "uuid": "u-1",
    "cid": "C-1",
    "first_name": "Anna",
    "last_name": "Verdi",
    "email": "anna@example.com",
    "country": None,
    "organizational_unit": {
        "code": "MI",
        "name": "Milano",
        "business_unit": {"code": "RTL", "name": "Retail"},
    },
    "enabled": 1,
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+39 02", "'+39 02"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Anna", "Anna"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralize_formula_prefixes(value: str, expected: str) -> None:
    assert neutralise_formula(value) == expected


def test_flatten_nested_objects() -> None:
    flat = flatten({**USER, "tags": ["a", "b"]})

    assert flat["organizational_unit.business_unit.code"] == "RTL"
    assert flat["country"] is None
    assert flat["tags"] == '["a", "b"]'


def test_export_columns_follow_includes() -> None:
    plain = export_columns(Resource.USERS, [], [])
    included = export_columns(Resource.USERS, [], ["organizationalUnit.businessUnit"])
    from_page = export_columns(Resource.USERS, [{**USER, "extra": {"a": 1}}], [])

    assert plain == ["uuid", "cid", "first_name", "last_name", "email", "enabled"]
    assert included == [
        *plain[:5],
        "organizational_unit.code",
        "organizational_unit.name",
        "organizational_unit.business_unit.code",
        "organizational_unit.business_unit.name",
        "enabled",
    ]
    assert "country.code" in from_page
    assert "country" not in from_page
    assert from_page[-1] == "extra.a"
    assert export_columns(Resource.COURSE_PROGRESS, [], [])[0] == "user.uuid"


def test_csv_keeps_header_and_warns_on_new_columns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = io.StringIO()
    target = ExportFile(Resource.TOPICS, "csv", None, stream=stream)

    target.write_items([{"id": 1, "name": "=Leadership"}])
    target.write_items([{"id": 2, "name": "Digital", "colour": "red"}])
    target.commit()

    rows = list(csv.reader(io.StringIO(stream.getvalue())))
    assert rows == [["id", "name"], ["1", "'=Leadership"], ["2", "Digital"]]
    assert target.rows == 2
    assert any("colour" in message for message in caplog.messages)


def test_empty_export_writes_header(tmp_path: Path) -> None:
    csv_path = tmp_path / "topics.csv"
    jsonl_path = tmp_path / "topics.jsonl"

    for path, format in ((csv_path, "csv"), (jsonl_path, "jsonl")):
        ExportFile(Resource.TOPICS, format, path, bom=True).commit()

    assert csv_path.read_bytes() == b"\xef\xbb\xbfid,name\r\n"
    assert jsonl_path.read_bytes() == b""


def test_xlsx_rolls_over_to_new_sheets(tmp_path: Path) -> None:
    path = tmp_path / "users.xlsx"
    target = ExportFile(Resource.USERS, "xlsx", path, xlsx_max_rows=3)
    items = [
        {**USER, "uuid": f"u-{index}", "cid": "=cmd", "enabled": index % 2}
        for index in range(5)
    ]
    items[0]["first_name"] = "x" * (XLSX_MAX_CELL_CHARS + 10)
    items[1]["enabled"] = 2**60

    target.write_items(items)
    target.commit()

    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["users", "users-2", "users-3"]
    first = workbook["users"]
    assert first["A1"].value == "uuid"
    assert first["A2"].value == "u-0"
    assert first["B2"].value == "=cmd"
    assert first["B2"].data_type == "s"
    assert first["B2"].quotePrefix
    assert len(first["C2"].value) == XLSX_MAX_CELL_CHARS
    assert first["L1"].value == "enabled"
    assert first["L3"].value == str(2**60)
    assert first["L2"].value == 0
    assert workbook["users-3"]["A2"].value == "u-4"
    assert workbook["users-3"].max_row == 2


def test_failed_export_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "topics.csv"
    path.write_text("previous export\n", encoding="utf-8")
    target = ExportFile(Resource.TOPICS, "csv", path)

    target.write_items([{"id": 1, "name": "Leadership"}])
    target.discard()

    assert path.read_text(encoding="utf-8") == "previous export\n"
    assert list(tmp_path.iterdir()) == [path]


def test_profile_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "config" / "maizeplus" / "client.json"
    profile = Profile("http://127.0.0.1:1", "1", "secret", "api@example.com", "pw")

    save_profile(path, profile)
    save_profile(path, profile)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_profile_values(path)["password"] == "pw"
    assert [item.name for item in path.parent.iterdir()] == ["client.json"]


def test_profile_layers_and_errors(tmp_path: Path) -> None:
    file_values = {
        "base_url": "http://file/",
        "client_id": "1",
        "client_secret": "s",
        "username": "a@example.com",
        "password": "p",
    }
    environment = environment_values(
        {"MAIZEPLUS_API_BASE_URL": "http://env", "MAIZEPLUS_API_PASSWORD": ""}
    )

    merged = merge_profile(file_values, environment)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")

    assert merged.base_url == "http://env"
    assert merged.password == "p"
    with pytest.raises(ConfigError, match="missing client_secret"):
        merge_profile({"base_url": "http://x", "client_id": "1"})
    with pytest.raises(ConfigError, match="both a username and a password"):
        merge_profile({**file_values, "password": None})
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_profile_values(broken)
    assert load_profile_values(tmp_path / "missing.json") == {}


def test_default_config_path_order(tmp_path: Path) -> None:
    explicit = default_config_path({"MAIZEPLUS_CLIENT_CONFIG": "/srv/client.json"})
    xdg = default_config_path({"XDG_CONFIG_HOME": str(tmp_path)})

    assert explicit == Path("/srv/client.json")
    assert xdg == tmp_path / "maizeplus" / "client.json"


def test_token_file_ignores_other_profiles(tmp_path: Path) -> None:
    path = tmp_path / "client-token.json"
    token = StoredToken("access", "refresh", expires_at=2.0, renew_at=1.0)

    FileTokenStore(path, "http://a|1|user").save(token)

    assert FileTokenStore(path, "http://a|1|user").load() == token
    assert FileTokenStore(path, "http://b|1|user").load() is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["key"] == "http://a|1|user"


def test_reference_page_is_current() -> None:
    assert REFERENCE_PAGE.read_text(encoding="utf-8") == render(), (
        "docs/client-reference.md is stale; run "
        "python -m maizeplus.client.reference --write docs/client-reference.md"
    )
