"""``maizeplus demo``: a tenant full of realistic data to try the API on."""

from __future__ import annotations

import shlex

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.cli.common import (
    JSON_OPTION,
    current_settings,
    print_result,
    run_in_session,
)
from maizeplus.demo.service import DEFAULT_USERS, TENANT_NAME, DemoResult, seed_demo

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
MAX_USERS = 1_000_000
USERS_EXAMPLE = (
    "/api/v1/users?page=1&limit=5"
    "&include=language,country,organizationalUnit.businessUnit"
)


def _curl_lines(base_url: str, result: DemoResult) -> list[str]:
    token_fields = {
        "grant_type": "password",
        "client_id": str(result.client_id),
        "client_secret": result.client_secret,
        "username": result.username,
        "password": result.password,
        "scope": "*",
    }
    form = " ".join(
        f"-F {shlex.quote(f'{key}={value}')}" for key, value in token_fields.items()
    )
    return [
        f"curl -s -X POST {shlex.quote(base_url + '/oauth/token')} "
        f"-H 'Accept: application/json' {form}",
        f"curl -s {shlex.quote(base_url + USERS_EXAMPLE)} "
        "-H 'Accept: application/json' -H 'Authorization: Bearer <access_token>'",
    ]


def demo(
    users: int = typer.Option(
        DEFAULT_USERS,
        "--users",
        min=0,
        max=MAX_USERS,
        help="How many users to generate, each with course and certification progress.",
    ),
    as_json: bool = JSON_OPTION,
    if_missing: bool = typer.Option(
        False,
        "--if-missing",
        help="Keep the demo tenant's data if it exists; only issue new credentials.",
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        help="URL of the server to show in the output; default MAIZEPLUS_BASE_URL, "
        f"else {DEFAULT_BASE_URL}.",
    ),
) -> None:
    """Create or refresh the demo tenant and print credentials to try the API with.

    Each run issues a new client secret and password; the old ones stop working.
    Without --if-missing an existing demo tenant is deleted and generated anew.
    """
    shown_url = (base_url or current_settings().base_url or DEFAULT_BASE_URL).rstrip(
        "/"
    )

    async def work(session: AsyncSession) -> DemoResult:
        return await seed_demo(session, users=users, if_missing=if_missing)

    result = run_in_session(work)
    values = {
        "tenant": TENANT_NAME,
        "data": "created" if result.data_created else "kept",
        "users": result.users,
        "base_url": shown_url,
        "client_id": result.client_id,
        "client_secret": result.client_secret,
        "username": result.username,
        "password": result.password,
    }
    print_result(values, as_json, title="Demo tenant")
    if not as_json:
        typer.echo("\nGet a token, then list the first users with it:\n")
        for line in _curl_lines(shown_url, result):
            typer.echo(line)
