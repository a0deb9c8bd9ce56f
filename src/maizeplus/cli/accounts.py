"""``maizeplus client`` and ``maizeplus account``: OAuth clients and API accounts."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.service import (
    check_new_password,
    create_account,
    create_client,
    generate_password,
)
from maizeplus.cli.common import (
    JSON_OPTION,
    CommandError,
    error_console,
    print_result,
    run_in_session,
)
from maizeplus.kit.errors import DomainError
from maizeplus.tenants.service import get_tenant

client_app = typer.Typer(help="Manage OAuth clients.", no_args_is_help=True)
account_app = typer.Typer(help="Manage API accounts.", no_args_is_help=True)

TENANT_OPTION = typer.Option(
    ..., "--tenant", envvar="MAIZEPLUS_TENANT", help="Name of the tenant."
)


@client_app.command("create")
def create_client_command(
    tenant_name: str = TENANT_OPTION,
    name: str = typer.Option(
        "default",
        "--name",
        help="Label of the client, to tell a tenant's clients apart.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an OAuth client and print its id and secret.

    The secret is stored only as a hash, so this is the only time it is shown.
    """

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant = await get_tenant(session, tenant_name)
        issued = await create_client(session, tenant, name)
        return {
            "tenant": tenant.name,
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
        }

    try:
        fields = run_in_session(work)
    except DomainError as error:
        raise CommandError(error.message) from None
    print_result(fields, as_json, title="Client created")
    error_console.print("The client secret is shown only this once; store it now.")


@account_app.command("create")
def create_account_command(
    tenant_name: str = TENANT_OPTION,
    username: str = typer.Option(
        ...,
        "--username",
        help="Username of the account, matched without regard to case.",
    ),
    password: str | None = typer.Option(
        None,
        "--password",
        envvar="MAIZEPLUS_ACCOUNT_PASSWORD",
        help="Password of the account, at least 12 characters. Prefer the "
        "environment variable, which other users cannot see in the process "
        "list. Without either, a random password is generated and printed.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an API account for the password grant."""
    generated = password is None
    account_password = generate_password() if password is None else password

    async def work(session: AsyncSession) -> dict[str, Any]:
        check_new_password(account_password)
        tenant = await get_tenant(session, tenant_name)
        account = await create_account(session, tenant, username, account_password)
        fields: dict[str, Any] = {
            "tenant": tenant.name,
            "account_id": account.id,
            "username": account.username,
        }
        # A password that the operator chose is never echoed back.
        if generated:
            fields["password"] = account_password
        return fields

    try:
        fields = run_in_session(work)
    except DomainError as error:
        raise CommandError(error.message) from None
    print_result(fields, as_json, title="Account created")
    if generated:
        error_console.print("The generated password is shown only this once.")
