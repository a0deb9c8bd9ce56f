"""Measure what authentication costs: the bearer check of every request, and a token.

    python -m bench.auth
    python -m bench.auth --database-url postgresql://postgres@127.0.0.1:5432/postgres

The bearer check is the lookup that every API request makes
(``tenant_for_access_token``). It is timed in this process on the service's
own async engine, against a fresh database with ``--tokens`` access tokens:
alone, in a transaction already begun, and with a session and transaction of
its own. The token endpoint is timed end to end through ``maizeplus serve``
with the production hash settings. Its cost is the Argon2id verification of
the client secret and the password, by design, which is timed alone too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import httpx
from argon2 import PasswordHasher
from sqlalchemy import insert, text

from bench.exports import percentile
from bench.machine import describe_machine
from bench.report import RESULTS_DIR, write_results_page
from bench.service import PASSWORD, fresh_service, running_server
from maizeplus.auth.dependencies import tenant_for_access_token
from maizeplus.auth.models import AccessToken
from maizeplus.auth.tokens import new_token, token_digest
from maizeplus.db.engine import create_api_engine, create_session_factory
from maizeplus.db.session import begin_read_only
from maizeplus.settings import Settings

TOKEN_BATCH = 5_000


@dataclass
class AuthRun:
    database: str
    tokens: int
    bearer_checks: int
    bearer_p50_ms: float
    bearer_p99_ms: float
    # The lookup with a session, BEGIN and COMMIT of its own.
    session_p50_ms: float
    session_p99_ms: float
    token_requests: int
    token_p50_ms: float
    token_p99_ms: float
    hash_verify_ms: float
    hash_time_cost: int
    hash_memory_kib: int
    measured_at: str
    machine: str
    note: str = ""


async def _issue_tokens(database_url: str, count: int) -> list[str]:
    """Store ``count`` access tokens of the bench tenant's client and account."""
    engine = create_api_engine(database_url)
    factory = create_session_factory(engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    tokens = [new_token() for _ in range(count)]
    async with factory() as session:
        for start in range(0, count, TOKEN_BATCH):
            await session.execute(
                insert(AccessToken),
                [
                    {
                        "tenant_id": 1,
                        "client_id": 1,
                        "account_id": 1,
                        "digest": token_digest(token),
                        "scopes": "*",
                        "expires_at": now + timedelta(hours=1),
                        "created_at": now,
                    }
                    for token in tokens[start : start + TOKEN_BATCH]
                ],
            )
        await session.commit()
    await engine.dispose()
    return tokens


async def _time_bearer_checks(
    database_url: str, tokens: list[str], checks: int
) -> tuple[list[float], list[float]]:
    """Time the lookup alone and the lookup with a session and transaction of its own.

    A request opens its session and transaction for its own queries anyway,
    and the lookup runs in them, so the lookup alone is what the bearer check
    adds to a request.
    """
    engine = create_api_engine(database_url)
    factory = create_session_factory(engine, writes=False)
    chooser = random.Random(5)
    lookups = []
    whole = []
    for _ in range(checks):
        token = chooser.choice(tokens)
        started = time.perf_counter()
        async with factory() as session:
            await begin_read_only(session)
            # psycopg sends BEGIN with the first statement of a transaction,
            # which the request's own queries would pay for anyway.
            await session.execute(text("SELECT 1"))
            looked_up = time.perf_counter()
            context = await tenant_for_access_token(session, token)
            lookups.append((time.perf_counter() - looked_up) * 1000)
            await session.commit()
        whole.append((time.perf_counter() - started) * 1000)
        if context is None:
            raise RuntimeError("a stored token was not found")
    await engine.dispose()
    return lookups, whole


def _time_token_requests(
    base_url: str, client: dict[str, object], count: int
) -> list[float]:
    form = {
        "grant_type": "password",
        "client_id": str(client["client_id"]),
        "client_secret": str(client["client_secret"]),
        "username": "bench@example.com",
        "password": PASSWORD,
        "scope": "*",
    }
    latencies = []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        for _ in range(count):
            started = time.perf_counter()
            response = http.post("/oauth/token", data=form)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return latencies


def _time_hash_verify(settings: Settings, count: int = 10) -> float:
    hasher = PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_cost=settings.password_hash_memory_kib,
    )
    stored = hasher.hash(PASSWORD)
    started = time.perf_counter()
    for _ in range(count):
        hasher.verify(stored, PASSWORD)
    return (time.perf_counter() - started) * 1000 / count


def run_one(
    server_url: str | None, tokens: int, checks: int, token_requests: int, note: str
) -> AuthRun:
    # The production hash cost, whatever the caller's environment sets.
    production = Settings(password_hash_time_cost=3, password_hash_memory_kib=65536)
    hash_settings = {
        "MAIZEPLUS_PASSWORD_HASH_TIME_COST": str(production.password_hash_time_cost),
        "MAIZEPLUS_PASSWORD_HASH_MEMORY_KIB": str(production.password_hash_memory_kib),
    }
    with fresh_service(server_url, hash_settings) as service:
        issued = asyncio.run(_issue_tokens(service.database.url, tokens))
        bearer, whole = asyncio.run(
            _time_bearer_checks(service.database.url, issued, checks)
        )
        with running_server(service.environment, "--no-worker") as (base_url, _):
            token_latencies = _time_token_requests(
                base_url, service.client, token_requests
            )
    return AuthRun(
        database=service.database.kind,
        tokens=tokens,
        bearer_checks=checks,
        bearer_p50_ms=round(statistics.median(bearer), 3),
        bearer_p99_ms=round(percentile(bearer, 0.99), 3),
        session_p50_ms=round(statistics.median(whole), 3),
        session_p99_ms=round(percentile(whole, 0.99), 3),
        token_requests=token_requests,
        token_p50_ms=round(statistics.median(token_latencies), 1),
        token_p99_ms=round(percentile(token_latencies, 0.99), 1),
        hash_verify_ms=round(_time_hash_verify(production), 1),
        hash_time_cost=production.password_hash_time_cost,
        hash_memory_kib=production.password_hash_memory_kib,
        measured_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=describe_machine(),
        note=note,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL server URL to create the run's database on; SQLite when omitted.",
    )
    parser.add_argument(
        "--tokens", type=int, default=100_000, help="Access tokens stored."
    )
    parser.add_argument(
        "--checks", type=int, default=5_000, help="Bearer checks timed."
    )
    parser.add_argument(
        "--token-requests", type=int, default=20, help="Password grants timed."
    )
    parser.add_argument("--no-record", action="store_true", help="Print only.")
    parser.add_argument("--note", default="", help="A remark recorded with the run.")
    arguments = parser.parse_args()
    run = run_one(
        arguments.database_url,
        arguments.tokens,
        arguments.checks,
        arguments.token_requests,
        arguments.note,
    )
    print(json.dumps(asdict(run)))
    if not arguments.no_record:
        RESULTS_DIR.mkdir(exist_ok=True)
        target = RESULTS_DIR / f"auth-{run.database}.json"
        target.write_text(json.dumps(asdict(run), indent=2) + "\n")
        write_results_page()


if __name__ == "__main__":
    main()
