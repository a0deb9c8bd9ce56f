"""``maizeplus-client``: every subcommand against the live server.

Most tests run the Typer app in-process with CliRunner. That is the installed
script's code without ``main``, so the last test runs the installed script to
check the exit statuses that ``main`` sets.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from maizeplus.client import Client, Credentials
from maizeplus.client.cli import app
from maizeplus.demo.service import DemoResult
from maizeplus.settings import Settings
from tests.client.conftest import DEMO_USERS, SharedServer
from tests.client.test_imports import HEADER, POSTMAN_DIR, UNITS, users_file
from tests.support import LiveServer

MAIZEPLUS_CLIENT = Path(sys.executable).parent / "maizeplus-client"
COMMAND_TIMEOUT_SECONDS = 120
API_VARIABLES = (
    "MAIZEPLUS_API_BASE_URL",
    "MAIZEPLUS_API_CLIENT_ID",
    "MAIZEPLUS_API_CLIENT_SECRET",
    "MAIZEPLUS_API_USERNAME",
    "MAIZEPLUS_API_PASSWORD",
)
FORMULA_NAMES = ("=1+1", "@SUM(A1:A2)", "+39 02 1234", "-2+3")


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "maizeplus" / "client.json"


@pytest.fixture
def environment(config_path: Path) -> dict[str, str | None]:
    """A clean environment: the profile under tmp_path and no MAIZEPLUS_API_* values."""
    values: dict[str, str | None] = dict.fromkeys(API_VARIABLES)
    values["MAIZEPLUS_CLIENT_CONFIG"] = str(config_path)
    values["COLUMNS"] = "200"
    return values


def login_options(
    server: LiveServer, demo: DemoResult, password: str | None = None
) -> list[str]:
    return [
        "login",
        "--base-url",
        server.url,
        "--client-id",
        str(demo.client_id),
        "--client-secret",
        demo.client_secret,
        "--username",
        demo.username,
        "--password",
        password or demo.password,
    ]


class Cli:
    """Runs the app in-process with one environment."""

    def __init__(self, environment: Mapping[str, str | None]) -> None:
        self.environment = dict(environment)
        self.runner = CliRunner()

    def __call__(self, *arguments: str, input: str | None = None) -> Result:
        return self.runner.invoke(
            app,
            list(arguments),
            input=input,
            env=self.environment,
            catch_exceptions=False,
        )


@pytest.fixture
def cli(environment: dict[str, str | None]) -> Cli:
    return Cli(environment)


@pytest.fixture
def logged_in(cli: Cli, live_server: LiveServer, demo: DemoResult) -> Cli:
    result = cli(*login_options(live_server, demo))
    assert result.exit_code == 0, result.stderr
    return cli


@pytest.fixture
def logged_in_shared(cli: Cli, shared_server: SharedServer) -> Cli:
    """A command line logged in to the module's shared server, for tests that change nothing."""
    result = cli(*login_options(shared_server.server, shared_server.demo))
    assert result.exit_code == 0, result.stderr
    return cli


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_login_stores_private_profile(
    cli: Cli, shared_server: SharedServer, config_path: Path
) -> None:
    live_server, demo = shared_server.server, shared_server.demo
    result = cli(*login_options(live_server, demo))

    token_path = config_path.parent / "client-token.json"
    profile = json.loads(config_path.read_text())
    assert result.exit_code == 0, result.stderr
    assert "with the password grant" in result.stdout
    assert mode_of(config_path) == 0o600
    assert mode_of(config_path.parent) == 0o700
    assert mode_of(token_path) == 0o600
    assert profile == {
        "base_url": live_server.url,
        "client_id": str(demo.client_id),
        "client_secret": demo.client_secret,
        "username": demo.username,
        "password": demo.password,
    }
    assert demo.password not in result.stdout + result.stderr


def test_login_replaces_broken_profile(
    cli: Cli, shared_server: SharedServer, config_path: Path
) -> None:
    live_server, demo = shared_server.server, shared_server.demo
    config_path.parent.mkdir(parents=True)
    config_path.write_text("{not json", encoding="utf-8")

    broken = cli("status")
    result = cli(*login_options(live_server, demo))

    assert broken.exit_code == 1
    assert "is not valid JSON" in broken.stderr
    assert result.exit_code == 0, result.stderr
    assert "ignoring the current profile" in result.stderr
    assert json.loads(config_path.read_text())["client_id"] == str(demo.client_id)


def test_login_rejects_wrong_password(
    cli: Cli, shared_server: SharedServer, config_path: Path
) -> None:
    live_server, demo = shared_server.server, shared_server.demo
    result = cli(*login_options(live_server, demo, password="wrong"))

    assert result.exit_code == 1
    assert "(invalid_grant)" in result.stderr
    assert not config_path.exists()


def test_login_prompts_for_missing_values(
    cli: Cli, shared_server: SharedServer, config_path: Path
) -> None:
    live_server, demo = shared_server.server, shared_server.demo
    cli.environment["MAIZEPLUS_API_BASE_URL"] = live_server.url
    cli.environment["MAIZEPLUS_API_CLIENT_ID"] = str(demo.client_id)
    answers = f"{demo.client_secret}\n{demo.username}\n{demo.password}\n"

    result = cli("login", input=answers)

    assert result.exit_code == 0, result.stderr
    assert "Client secret" in result.stdout
    assert demo.client_secret not in result.stdout
    assert json.loads(config_path.read_text())["username"] == demo.username


def test_login_with_client_credentials(
    cli: Cli, shared_server: SharedServer, config_path: Path
) -> None:
    live_server, demo = shared_server.server, shared_server.demo
    result = cli(
        "login",
        "--base-url",
        live_server.url,
        "--client-id",
        str(demo.client_id),
        "--client-secret",
        demo.client_secret,
        "--client-credentials",
    )
    export = cli("export", "topics")

    assert result.exit_code == 0, result.stderr
    assert "client_credentials grant" in result.stdout
    assert json.loads(config_path.read_text())["username"] is None
    assert export.exit_code == 0, export.stderr
    assert export.stdout.splitlines()[0] == "id,name"


def test_environment_without_profile(
    cli: Cli, shared_server: SharedServer, config_path: Path
) -> None:
    live_server, demo = shared_server.server, shared_server.demo
    missing = cli("status")
    cli.environment.update(
        {
            "MAIZEPLUS_API_BASE_URL": live_server.url,
            "MAIZEPLUS_API_CLIENT_ID": str(demo.client_id),
            "MAIZEPLUS_API_CLIENT_SECRET": demo.client_secret,
            "MAIZEPLUS_API_USERNAME": demo.username,
            "MAIZEPLUS_API_PASSWORD": demo.password,
        }
    )
    no_job = cli("status")
    topics = cli("export", "topics", "--format", "jsonl")

    assert missing.exit_code == 1
    assert "run maizeplus-client login, or set MAIZEPLUS_API_BASE_URL" in missing.stderr
    assert no_job.exit_code == 1
    assert "404 Import job not found." in no_job.stderr
    assert topics.exit_code == 0, topics.stderr
    assert len(topics.stdout.splitlines()) == 4
    assert not config_path.exists()


def test_logout_removes_profile(logged_in_shared: Cli, config_path: Path) -> None:
    result = logged_in_shared("logout")
    again = logged_in_shared("logout")

    assert result.exit_code == 0
    assert not config_path.exists()
    assert not (config_path.parent / "client-token.json").exists()
    assert "No profile to remove." in again.stdout


def test_import_wait_exit_statuses(logged_in: Cli, tmp_path: Path) -> None:
    header_only = tmp_path / "header-only.csv"
    header_only.write_text(HEADER + "\n", encoding="utf-8")

    completed = logged_in("import", str(POSTMAN_DIR / "import-users.csv"), "--wait")
    no_errors = logged_in("errors", "--format", "json")
    with_errors = logged_in(
        "import",
        str(users_file(tmp_path, valid=1, invalid=2)),
        "--wait",
        "--interval",
        "0.2",
    )
    failed = logged_in("import", str(header_only), "--wait", "--json")
    accepted = logged_in("import", str(POSTMAN_DIR / "import-users.xlsx"), "--json")

    assert completed.exit_code == 0, completed.stderr
    assert "completed" in completed.stdout
    assert "created" in completed.stdout
    assert json.loads(no_errors.stdout) == []
    assert "The job has no row errors." in no_errors.stderr
    assert with_errors.exit_code == 2, with_errors.stderr
    assert "completed_with_errors" in with_errors.stdout
    assert "maizeplus-client errors" in with_errors.stderr
    assert failed.exit_code == 1, failed.stderr
    assert json.loads(failed.stdout)["message"] == (
        "The file has no data rows below the header row."
    )
    assert accepted.exit_code == 0, accepted.stderr
    assert json.loads(accepted.stdout)["uuid"]


@pytest.fixture
def idle_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings.model_copy(update={"embedded_worker": False})).start()
    yield server
    server.stop()


def test_import_wait_timeout_exit_3(
    cli: Cli, idle_server: LiveServer, demo: DemoResult
) -> None:
    assert cli(*login_options(idle_server, demo)).exit_code == 0

    result = cli(
        "import", str(POSTMAN_DIR / "import-users.csv"), "--wait", "--timeout", "0.3"
    )

    assert result.exit_code == 3
    assert "was still running after 0.3 s" in result.stderr
    assert "running" in result.stdout


def test_status_and_errors_formats(logged_in: Cli, tmp_path: Path) -> None:
    source = users_file(tmp_path, valid=1, invalid=3)
    assert logged_in("import", str(source), "--wait").exit_code == 2
    status_json = json.loads(logged_in("status", "--json").stdout)
    csv_path = tmp_path / "errors.csv"

    table = logged_in("status", status_json["uuid"])
    errors_table = logged_in("errors")
    errors_json = logged_in("errors", status_json["uuid"], "--format", "json")
    errors_csv = logged_in("errors", "--format", "csv", "--output", str(csv_path))
    table_to_file = logged_in("errors", "--output", str(tmp_path / "x.txt"))

    assert status_json["status"] == "completed_with_errors"
    assert status_json["summary"]["failed"] == 3
    assert table.exit_code == 0
    assert "completed_with_errors" in table.stdout
    assert errors_table.stdout.count("The email field is required.") == 3
    rows = json.loads(errors_json.stdout)
    assert [row["row"] for row in rows] == [3, 4, 5]
    assert rows[0]["errors"] == {"email": ["The email field is required."]}
    assert len(rows[0]["validated_at"]) == len("2022-11-08 18:39:54")
    assert errors_csv.exit_code == 0, errors_csv.stderr
    assert errors_csv.stdout == ""
    records = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert [record["row"] for record in records] == ["3", "4", "5"]
    assert records[0]["column"] == "email"
    assert table_to_file.exit_code == 2
    assert "--output needs --format json or csv" in table_to_file.stderr


def user_count(server: LiveServer, credentials: Credentials) -> int:
    with Client(server.url, credentials) as client:
        return client.users(limit=1).meta.total


def test_delete_asks_for_confirmation(
    logged_in: Cli, live_server: LiveServer, credentials: Credentials, tmp_path: Path
) -> None:
    with Client(live_server.url, credentials) as client:
        emails = [user.email for user in client.users(limit=4).data]
    listing = tmp_path / "emails.txt"
    listing.write_text(f"# leavers\n{emails[2]}\n\n{emails[3]}\n", encoding="utf-8")

    declined = logged_in("delete", emails[0], input="n\n")
    no_input = logged_in("delete", emails[0], input="")
    count_after_decline = user_count(live_server, credentials)
    confirmed = logged_in("delete", emails[0], input="y\n")
    from_file = logged_in("delete", emails[1], "--from-file", str(listing), "--yes")
    unknown = logged_in("delete", "nobody@example.com", "--yes")
    none = logged_in("delete", "--yes")

    assert declined.exit_code == 1
    assert "no user was deactivated" in declined.stderr
    assert no_input.exit_code == 1
    assert "Pass --yes" in no_input.stderr
    assert count_after_decline == DEMO_USERS
    assert confirmed.exit_code == 0, confirmed.stderr
    assert "Deactivate 1 user(s)" in confirmed.stdout
    assert from_file.exit_code == 0, from_file.stderr
    assert "Deactivated 3 user(s)." in from_file.stdout
    assert user_count(live_server, credentials) == DEMO_USERS - 4
    assert unknown.exit_code == 1
    assert "nobody@example.com" in unknown.stderr
    assert none.exit_code == 2


def import_formula_users(cli: Cli, folder: Path) -> None:
    lines = [HEADER]
    for index, name in enumerate(FORMULA_NAMES):
        lines.append(
            f"formula-{index}@example.com;F-{index};{name};Rossi;true;it;IT;{UNITS}"
        )
    path = folder / "formula-users.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("import", str(path), "--wait")
    assert result.exit_code == 0, result.stdout + result.stderr


def test_export_neutralises_formulas(logged_in: Cli, tmp_path: Path) -> None:
    import_formula_users(logged_in, tmp_path)
    xlsx_path = tmp_path / "users.xlsx"
    include = ["--include", "language", "-i", "organizationalUnit.businessUnit"]

    as_csv = logged_in("export", "users", *include, "--delimiter", ";")
    as_jsonl = logged_in("export", "users", "--format", "jsonl")
    as_xlsx = logged_in(
        "export", "users", *include, "--format", "xlsx", "-o", str(xlsx_path)
    )

    assert as_csv.exit_code == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout), delimiter=";"))
    header = as_csv.stdout.splitlines()[0].split(";")
    assert header == [
        "uuid",
        "cid",
        "first_name",
        "last_name",
        "email",
        "language.code",
        "language.name",
        "organizational_unit.code",
        "organizational_unit.name",
        "organizational_unit.business_unit.code",
        "organizational_unit.business_unit.name",
        "enabled",
    ]
    assert len(rows) == DEMO_USERS + len(FORMULA_NAMES)
    by_email = {row["email"]: row for row in rows}
    for index, name in enumerate(FORMULA_NAMES):
        assert by_email[f"formula-{index}@example.com"]["first_name"] == "'" + name

    items = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert {item["first_name"] for item in items} >= set(FORMULA_NAMES)
    assert "language" not in items[0]

    assert as_xlsx.exit_code == 0, as_xlsx.stderr
    sheet = openpyxl.load_workbook(xlsx_path).active
    assert sheet is not None
    cells = {row[2].value: row[2] for row in sheet.iter_rows(min_row=2)}
    for name in FORMULA_NAMES:
        assert cells[name].data_type == "s"
        assert cells[name].quotePrefix
    assert [cell.value for cell in sheet[1]] == header
    assert not list(tmp_path.glob(".*.partial"))


def test_export_all_to_folder(
    logged_in_shared: Cli, shared_server: SharedServer, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"

    result = logged_in_shared("export", "all", "--output", str(folder), "--limit", "25")

    assert result.exit_code == 0, result.stderr
    with Client(shared_server.url, shared_server.credentials) as client:
        for name in (
            "users",
            "topics",
            "courses",
            "progress-courses",
            "certifications",
            "progress-certifications",
        ):
            rows = list(csv.DictReader((folder / f"{name}.csv").open(encoding="utf-8")))
            total = client.export_page(name, limit=1).meta.total
            assert len(rows) == total, name
            assert f"{name}: {total} rows" in result.stderr


def test_export_rejects_bad_arguments(logged_in_shared: Cli) -> None:
    unknown = logged_in_shared("export", "managers")
    xlsx_without_file = logged_in_shared("export", "users", "--format", "xlsx")
    bad_include = logged_in_shared("export", "users", "--include", "manager")

    assert unknown.exit_code == 2
    assert "unknown resource 'managers'" in unknown.stderr
    assert xlsx_without_file.exit_code == 2
    assert bad_include.exit_code == 1
    assert "400" in bad_include.stderr


def run_installed(
    environment: Mapping[str, str | None], *arguments: str
) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ}
    for key, value in environment.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return subprocess.run(
        [str(MAIZEPLUS_CLIENT), *arguments],
        env=merged,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )


def test_installed_script_exit_statuses(
    environment: dict[str, str | None],
    live_server: LiveServer,
    demo: DemoResult,
    tmp_path: Path,
) -> None:
    usage = run_installed(environment, "export", "users", "--no-such-option")
    login = run_installed(environment, *login_options(live_server, demo))
    source = users_file(tmp_path, valid=1, invalid=1)
    imported = run_installed(environment, "-q", "import", str(source), "--wait")

    assert usage.returncode == 64
    assert "No such option" in usage.stderr
    assert login.returncode == 0, login.stderr
    assert imported.returncode == 2, imported.stderr
    assert "completed_with_errors" in imported.stdout
