"""The operator commands tenant, client, account and token, run as a subprocess.

Each test runs the installed ``maizeplus`` entry point on the test's database
and then uses the printed credentials against the live server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from tests.auth.oauth import fetch_access_token, post_token
from tests.support import TenantCredentials

pytestmark = pytest.mark.slow

MAIZEPLUS = Path(sys.executable).parent / "maizeplus"
COMMAND_TIMEOUT_SECONDS = 60
# Stands for the name of the ``tenant`` fixture in a parametrized command line.
TENANT = "<tenant>"
# Environment variables that the commands read as option values.
OPTION_VARIABLES = ("MAIZEPLUS_TENANT", "MAIZEPLUS_ACCOUNT_PASSWORD")


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.stdout)
        return body

    @property
    def error_text(self) -> str:
        """Standard error with line wrapping undone."""
        return " ".join(self.stderr.split())


class Runner(Protocol):
    def __call__(
        self, *args: str, env: dict[str, str] | None = None
    ) -> CommandResult: ...


@pytest.fixture
def maizeplus(database_url: str) -> Runner:
    """Return a function that runs ``maizeplus ARGS...`` on the test database."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in OPTION_VARIABLES
    }
    environment.update(
        MAIZEPLUS_DATABASE_URL=database_url,
        MAIZEPLUS_PASSWORD_HASH_TIME_COST="1",
        MAIZEPLUS_PASSWORD_HASH_MEMORY_KIB="64",
    )

    def run(*args: str, env: dict[str, str] | None = None) -> CommandResult:
        completed = subprocess.run(
            [str(MAIZEPLUS), *args],
            env={**environment, **(env or {})},
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        return CommandResult(completed.returncode, completed.stdout, completed.stderr)

    return run


def log_in(
    api: httpx.Client, client: dict[str, Any], username: str, password: str
) -> httpx.Response:
    fields = {
        "grant_type": "password",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "username": username,
        "password": password,
        "scope": "*",
    }
    return post_token(api, fields)


def test_cli_tenant_create_prints_options(maizeplus: Runner) -> None:
    result = maizeplus(
        "tenant",
        "create",
        "acme",
        "--user-limit",
        "50",
        "--external-ids",
        "--business-units",
        "--organizational-units",
        "--language",
        "it",
        "--report-to",
        "Ops@Example.com",
        "--report-to",
        "hr@example.com",
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    body = result.json
    assert isinstance(body["tenant_id"], int)
    assert body["name"] == "acme"
    assert body["language"] == "it"
    assert body["user_limit"] == 50
    assert body["external_ids"] is True
    assert body["business_units"] is True
    assert body["organizational_units"] is True
    assert body["report_to"] == ["hr@example.com", "ops@example.com"]


def test_cli_tenant_create_defaults(maizeplus: Runner) -> None:
    result = maizeplus("tenant", "create", "plain", "--json")

    assert result.exit_code == 0, result.stderr
    body = result.json
    assert body["language"] == "en"
    assert body["user_limit"] is None
    assert body["external_ids"] is False
    assert body["business_units"] is False
    assert body["organizational_units"] is False
    assert body["report_to"] == []


def test_cli_tenant_create_table_shows_id(maizeplus: Runner) -> None:
    result = maizeplus("tenant", "create", "tabled")

    assert result.exit_code == 0, result.stderr
    assert "tenant_id" in result.stdout
    assert "tabled" in result.stdout


def test_cli_tenant_duplicate_name_fails(maizeplus: Runner) -> None:
    assert maizeplus("tenant", "create", "acme").exit_code == 0

    result = maizeplus("tenant", "create", "acme", "--json")

    assert result.exit_code == 1
    assert "Tenant 'acme' already exists" in result.error_text
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--language", "xx"), "Language 'xx' is not an ISO 639-1 code"),
        (
            ("--report-to", "not-an-address"),
            "'not-an-address' is not an e-mail address",
        ),
    ],
    ids=["language", "report-to"],
)
def test_cli_tenant_invalid_option_fails(
    maizeplus: Runner, args: tuple[str, ...], message: str
) -> None:
    result = maizeplus("tenant", "create", "acme", *args)

    assert result.exit_code == 1
    assert message in result.error_text
    assert maizeplus("tenant", "list", "--json").json == {"tenants": []}


def test_cli_tenant_list_prints_tenants(maizeplus: Runner) -> None:
    maizeplus("tenant", "create", "first", "--report-to", "a@example.com")
    maizeplus("tenant", "create", "second", "--language", "de")

    result = maizeplus("tenant", "list", "--json")

    assert result.exit_code == 0, result.stderr
    tenants = result.json["tenants"]
    assert [tenant["name"] for tenant in tenants] == ["first", "second"]
    assert tenants[0]["report_to"] == ["a@example.com"]
    assert tenants[1]["language"] == "de"


def test_cli_credentials_log_in(
    maizeplus: Runner, api: httpx.Client, database_url: str
) -> None:
    tenant = maizeplus("tenant", "create", "acme", "--json").json
    client = maizeplus("client", "create", "--tenant", "acme", "--json")
    account = maizeplus(
        "account",
        "create",
        "--tenant",
        "acme",
        "--username",
        "API@Acme.example",
        "--json",
    )

    assert client.exit_code == 0, client.stderr
    assert account.exit_code == 0, account.stderr
    assert isinstance(client.json["client_id"], int)
    assert "only this once" in client.error_text
    assert account.json["username"] == "api@acme.example"
    password = account.json["password"]
    response = log_in(api, client.json, "api@acme.example", password)
    assert response.status_code == 200, response.text
    stored = fetch_access_token(database_url, response.json()["access_token"])
    assert stored.tenant_id == tenant["tenant_id"]


def test_cli_account_given_password_is_not_printed(
    maizeplus: Runner, api: httpx.Client
) -> None:
    maizeplus("tenant", "create", "acme")
    client = maizeplus("client", "create", "--tenant", "acme", "--json").json
    password = "Chosen-Password-42"

    result = maizeplus(
        "account",
        "create",
        "--tenant",
        "acme",
        "--username",
        "ops@acme.example",
        "--password",
        password,
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    assert "password" not in result.json
    assert password not in result.stdout
    assert password not in result.stderr
    assert log_in(api, client, "ops@acme.example", password).status_code == 200


def test_cli_account_options_from_environment(
    maizeplus: Runner, api: httpx.Client
) -> None:
    maizeplus("tenant", "create", "acme")
    environment = {
        "MAIZEPLUS_TENANT": "acme",
        "MAIZEPLUS_ACCOUNT_PASSWORD": "Password-From-Environment",
    }
    client = maizeplus("client", "create", "--json", env=environment)

    result = maizeplus(
        "account", "create", "--username", "env@acme.example", "--json", env=environment
    )

    assert client.exit_code == 0, client.stderr
    assert result.exit_code == 0, result.stderr
    response = log_in(api, client.json, "env@acme.example", "Password-From-Environment")
    assert response.status_code == 200, response.text


def test_cli_help_shows_environment_variables(maizeplus: Runner) -> None:
    result = maizeplus("account", "create", "--help", env={"COLUMNS": "200"})

    assert result.exit_code == 0
    assert "MAIZEPLUS_TENANT" in result.stdout
    assert "MAIZEPLUS_ACCOUNT_PASSWORD" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("client", "create", "--tenant", "missing"), "Tenant 'missing' not found"),
        (
            ("account", "create", "--tenant", "missing", "--username", "a@b.example"),
            "Tenant 'missing' not found",
        ),
        (
            (
                "account",
                "create",
                "--tenant",
                TENANT,
                "--username",
                "a@b.example",
                "--password",
                "short",
            ),
            "use at least 12",
        ),
        (
            ("account", "create", "--tenant", TENANT, "--username", "  "),
            "The username is empty",
        ),
        (
            ("token", "revoke", "--tenant", TENANT, "--username", "nobody@b.example"),
            "Account 'nobody@b.example' not found",
        ),
        (
            ("token", "revoke", "--tenant", TENANT, "--client-id", "999"),
            "Client 999 not found",
        ),
    ],
    ids=[
        "client-unknown-tenant",
        "account-unknown-tenant",
        "account-short-password",
        "account-empty-username",
        "revoke-unknown-account",
        "revoke-unknown-client",
    ],
)
def test_cli_invalid_input_fails(
    maizeplus: Runner, tenant: TenantCredentials, args: tuple[str, ...], message: str
) -> None:
    result = maizeplus(*(tenant.name if arg == TENANT else arg for arg in args))

    assert result.exit_code == 1
    assert message in result.error_text
    assert "Traceback" not in result.stderr


def test_cli_account_duplicate_username_fails(maizeplus: Runner) -> None:
    maizeplus("tenant", "create", "acme")
    maizeplus("account", "create", "--tenant", "acme", "--username", "api@acme.example")

    result = maizeplus(
        "account", "create", "--tenant", "acme", "--username", "API@acme.example"
    )

    assert result.exit_code == 1
    assert "already exists" in result.error_text


def test_cli_token_revoke_ends_families(
    maizeplus: Runner, api: httpx.Client, database_url: str
) -> None:
    """Revoking an account's tokens ends each of its token families, as the endpoint does."""
    maizeplus("tenant", "create", "acme")
    client = maizeplus("client", "create", "--tenant", "acme", "--json").json
    password = maizeplus(
        "account",
        "create",
        "--tenant",
        "acme",
        "--username",
        "api@acme.example",
        "--json",
    ).json["password"]

    def refresh(refresh_token: str) -> httpx.Response:
        fields = {
            "grant_type": "refresh_token",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "refresh_token": refresh_token,
        }
        return post_token(api, fields)

    first = log_in(api, client, "api@acme.example", password).json()
    rotated = refresh(first["refresh_token"]).json()
    other_family = log_in(api, client, "api@acme.example", password).json()

    result = maizeplus(
        "token",
        "revoke",
        "--tenant",
        "acme",
        "--username",
        "api@acme.example",
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    # The first pair was already revoked by its rotation.
    assert result.json["revoked_access_tokens"] == 2
    assert result.json["revoked_refresh_tokens"] == 2
    for tokens in (rotated, other_family):
        stored = fetch_access_token(database_url, tokens["access_token"])
        assert stored.revoked_at is not None
        assert refresh(tokens["refresh_token"]).status_code == 400
    assert refresh(first["refresh_token"]).status_code == 400
