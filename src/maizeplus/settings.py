"""Configuration read from the environment, every name under the ``MAIZEPLUS_`` prefix."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = IPv4Network | IPv6Network


class Settings(BaseSettings):
    """Every setting of the service; the README lists them with their defaults."""

    model_config = SettingsConfigDict(env_prefix="MAIZEPLUS_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./maizeplus.db",
        description="SQLAlchemy URL of the database: sqlite:///PATH or "
        "postgresql://USER@HOST:PORT/NAME.",
    )
    base_url: str | None = Field(
        default=None,
        description="Public URL of the service, used in pagination links; "
        "by default the links use the request's own host.",
    )
    access_token_ttl_seconds: int = Field(default=3600, ge=60)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    login_max_failures: int = Field(
        default=10,
        ge=1,
        description="Consecutive wrong passwords after which an API account is locked.",
    )
    login_lockout_seconds: int = Field(
        default=15 * 60,
        ge=1,
        description="How long a locked API account rejects every password, in seconds.",
    )
    rate_limit_api_per_minute: int = Field(
        default=60,
        ge=1,
        description="Requests a minute that one access token may make on /api/v1.",
    )
    rate_limit_api_tenant_limits: dict[str, int] = Field(
        default_factory=dict,
        description="Per-token limits on /api/v1 for named tenants, as a JSON "
        'object such as {"acme": 600}; other tenants get rate_limit_api_per_minute.',
    )
    rate_limit_token_per_minute: int = Field(
        default=10,
        ge=1,
        description="Requests a minute to /oauth/token for one client and username, "
        "or for one client and client address when there is no username.",
    )
    rate_limit_redis_url: str | None = Field(
        default=None,
        description="Redis URL of the counters that several server processes "
        "share, such as redis://127.0.0.1:6379/0; without it each process "
        "counts on its own.",
    )
    rate_limit_redis_prefix: str = Field(
        default="maizeplus:rate-limit:",
        description="Prefix of every Redis key that the rate limits write.",
    )
    trusted_proxies: Annotated[list[IPNetwork], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks of the reverse proxies whose "
        "X-Forwarded-For header names the client, comma-separated.",
    )
    database_pool_size: int = Field(default=10, ge=1)
    password_hash_time_cost: int = Field(
        default=3, ge=1, description="Argon2id passes for passwords and client secrets."
    )
    password_hash_memory_kib: int = Field(
        default=65_536, ge=64, description="Argon2id memory for each hash, in KiB."
    )
    log_level: str = "INFO"
    log_json: bool = False

    import_max_upload_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    import_max_rows: int = Field(default=1_000_000, ge=1)
    import_max_columns: int = Field(default=200, ge=1)
    import_max_cell_chars: int = Field(default=1_048_576, ge=1)
    import_xlsx_max_entries: int = Field(default=1_000, ge=1)
    import_xlsx_max_uncompressed_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    import_xlsx_max_compression_ratio: int = Field(default=100, ge=1)
    import_chunk_rows: int = Field(default=5_000, ge=1)
    import_check_email_dns: bool = False
    import_sqlite_cache_mib: int = Field(
        default=64,
        ge=2,
        description="SQLite page cache of the connection that applies import "
        "chunks; counts towards the server's memory.",
    )
    import_work_dir: Path | None = Field(
        default=None,
        description="Folder for the temporary copies of uploads that a job reads; "
        "by default the system's temporary folder.",
    )
    embedded_worker: bool = True
    worker_concurrency: int = Field(
        default=2,
        ge=1,
        description="Import jobs one worker process applies at once, each of "
        "another tenant (PostgreSQL only).",
    )
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)
    worker_stalled_after_seconds: float = Field(
        default=30.0,
        gt=0,
        description="The running jobs of a worker whose heartbeat is older than "
        "this go back to the queue, for another worker to resume.",
    )
    worker_shutdown_grace_seconds: float = Field(
        default=30.0,
        ge=0,
        description="After SIGTERM, how long a worker waits for its current "
        "chunks before it exits anyway.",
    )

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "maizeplus@localhost"
    report_max_attempts: int = Field(default=5, ge=1)
    report_retry_seconds: float = Field(default=30.0, ge=0)

    @field_validator("rate_limit_api_tenant_limits")
    @classmethod
    def _reject_low_tenant_limits(cls, value: dict[str, int]) -> dict[str, int]:
        for tenant, limit in value.items():
            if limit < 1:
                raise ValueError(
                    f"the rate limit of tenant {tenant!r} is {limit}; use 1 or more"
                )
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_networks(cls, value: Any) -> Any:
        """Accept ``10.0.0.1, 192.168.0.0/16`` as well as a list."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            # strict=False accepts host bits, e.g. 10.0.0.1/8 means 10.0.0.0/8.
            return [
                ip_network(item, strict=False) if isinstance(item, str) else item
                for item in value
            ]
        return value

    @field_validator("database_url")
    @classmethod
    def _reject_empty_url(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("MAIZEPLUS_DATABASE_URL is empty; set an SQLAlchemy URL")
        return value.strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process, read from the environment once."""
    return Settings()
