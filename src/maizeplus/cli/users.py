"""``maizeplus users``: operator actions on users."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.cli.common import JSON_OPTION, CommandError, print_result, run_in_session
from maizeplus.kit.errors import DomainError
from maizeplus.tenants.service import get_tenant
from maizeplus.users.deactivation import restore_users

app = typer.Typer(help="Manage users.", no_args_is_help=True)


@app.command("restore")
def restore(
    emails: list[str] = typer.Argument(..., help="Addresses of the users to restore."),
    tenant_name: str = typer.Option(..., "--tenant", help="Name of the tenant."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Restore users deactivated through DELETE /api/v1/users, so imports reach them again."""

    async def work(session: AsyncSession) -> int:
        tenant = await get_tenant(session, tenant_name)
        return await restore_users(session, tenant.id, emails)

    try:
        restored = run_in_session(work)
    except DomainError as error:
        raise CommandError(error.message) from None
    print_result(
        {"tenant": tenant_name, "requested": len(emails), "restored": restored}, as_json
    )
