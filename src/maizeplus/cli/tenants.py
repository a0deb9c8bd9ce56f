"""``maizeplus tenant``: tenants and their options."""

from __future__ import annotations

from typing import Any

import typer
from email_validator import EmailNotValidError, validate_email
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.cli.common import (
    JSON_OPTION,
    CommandError,
    console,
    print_result,
    run_in_session,
)
from maizeplus.kit.errors import DomainError
from maizeplus.tenants.models import Tenant
from maizeplus.tenants.service import (
    TenantOptions,
    create_tenant,
    list_tenants,
    report_receivers,
)

app = typer.Typer(help="Manage tenants.", no_args_is_help=True)


def _check_addresses(addresses: list[str]) -> None:
    """Raise ``CommandError`` for a --report-to value that is not an e-mail address."""
    for address in addresses:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as error:
            raise CommandError(
                f"--report-to {address!r} is not an e-mail address: {error}"
            ) from None


def _tenant_fields(tenant: Tenant, receivers: list[str]) -> dict[str, Any]:
    return {
        "tenant_id": tenant.id,
        "name": tenant.name,
        "language": tenant.language_code,
        "user_limit": tenant.user_limit,
        "external_ids": tenant.external_ids,
        "business_units": tenant.business_units,
        "organizational_units": tenant.organizational_units,
        "report_to": receivers,
    }


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Unique name of the tenant."),
    user_limit: int | None = typer.Option(
        None,
        "--user-limit",
        min=1,
        help="Maximum number of users of the tenant. Unlimited by default.",
    ),
    external_ids: bool = typer.Option(
        False, "--external-ids", help="Imports require a cid column (external user id)."
    ),
    business_units: bool = typer.Option(
        False,
        "--business-units",
        help="Imports require the business unit code and name columns.",
    ),
    organizational_units: bool = typer.Option(
        False,
        "--organizational-units",
        help="Imports require the organizational unit code and name columns.",
    ),
    language: str = typer.Option(
        "en", "--language", help="ISO 639-1 code of the tenant's language, such as en."
    ),
    report_to: list[str] = typer.Option(
        [],
        "--report-to",
        help="Address that receives every import report. Repeat for more addresses.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a tenant with its import options and report receivers."""
    _check_addresses(report_to)
    options = TenantOptions(
        user_limit=user_limit,
        external_ids=external_ids,
        business_units=business_units,
        organizational_units=organizational_units,
        language_code=language,
    )

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant = await create_tenant(session, name.strip(), options, report_to)
        return _tenant_fields(tenant, await report_receivers(session, tenant.id))

    try:
        fields = run_in_session(work)
    except DomainError as error:
        raise CommandError(error.message) from None
    if not as_json:
        fields["report_to"] = ", ".join(fields["report_to"])
    print_result(fields, as_json, title="Tenant created")


@app.command("list")
def list_command(as_json: bool = JSON_OPTION) -> None:
    """List every tenant with its options."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            _tenant_fields(tenant, await report_receivers(session, tenant.id))
            for tenant in await list_tenants(session)
        ]

    tenants = run_in_session(work)
    if as_json:
        print_result({"tenants": tenants}, as_json=True)
        return
    table = Table(title="Tenants")
    for column in tenants[0] if tenants else _tenant_columns():
        table.add_column(column)
    for fields in tenants:
        fields["report_to"] = ", ".join(fields["report_to"])
        table.add_row(
            *("" if value is None else str(value) for value in fields.values())
        )
    console.print(table)


def _tenant_columns() -> list[str]:
    return [
        "tenant_id",
        "name",
        "language",
        "user_limit",
        "external_ids",
        "business_units",
        "organizational_units",
        "report_to",
    ]
