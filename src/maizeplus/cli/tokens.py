"""``maizeplus token``: revoke the access and refresh tokens of a tenant."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from maizeplus.auth.revocation import RevokedCounts, revoke_tokens_by_operator
from maizeplus.cli.accounts import TENANT_OPTION
from maizeplus.cli.common import JSON_OPTION, CommandError, print_result, run_in_session
from maizeplus.kit.errors import DomainError

app = typer.Typer(help="Manage issued tokens.", no_args_is_help=True)


@app.command("revoke")
def revoke(
    tenant_name: str = TENANT_OPTION,
    client_id: int | None = typer.Option(
        None, "--client-id", help="Revoke only the tokens issued to this client."
    ),
    username: str | None = typer.Option(
        None, "--username", help="Revoke only the tokens of this API account."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke the valid access and refresh tokens of a tenant, client or account."""

    async def work(session: AsyncSession) -> RevokedCounts:
        return await revoke_tokens_by_operator(
            session, tenant_name, client_id, username
        )

    try:
        revoked = run_in_session(work)
    except DomainError as error:
        raise CommandError(error.message) from None
    print_result(
        {
            "tenant": tenant_name,
            "revoked_access_tokens": revoked.access_tokens,
            "revoked_refresh_tokens": revoked.refresh_tokens,
        },
        as_json,
        title="Tokens revoked",
    )
