"""One settings class for the API, the workers and the CLI (``BRAIN_*`` env vars, ``.env``)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Good for ``brain up`` on one machine only: ``brain api``, ``brain worker`` and
# ``create_app()`` refuse to run with it (SPEC §4).
DEV_JWT_SECRET = "brain-local-dev-secret-change-me-0123456789"
DEV_JWT_SECRET_REFUSED = (
    "BRAIN_JWT_SECRET is the built-in development secret, with which anyone can mint tokens; "
    "set BRAIN_JWT_SECRET to a secret of your own (e.g. `openssl rand -hex 32`). Only "
    "`brain up` may use the built-in one."
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRAIN_", env_file=".env", extra="ignore")

    home: Path = Path(".brain")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_api_key: SecretStr | None = None
    task_queue: str = "brain"

    # Empty means the embedded SQLite file under ``home``.
    database_url: str = ""
    redis_url: str = ""

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    # When set, every token must carry and match them; ``brain token`` puts them in.
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    # The longest a token may live (exp - iat, or exp - now without iat): 7 days. A token
    # cannot be revoked, so a stolen one is good until it expires.
    jwt_max_ttl_seconds: int = Field(default=7 * 86400, ge=1)
    # Set by ``brain up`` only: without it ``create_app()`` refuses ``DEV_JWT_SECRET``.
    allow_dev_secret: bool = False

    ai_provider: Literal["rules", "openai"] = "rules"
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = 60.0
    # Per-process model overrides, e.g. {"content_generation": "gpt-4o"}.
    openai_models: dict[str, str] = Field(default_factory=dict)
    # Ask for token log-probabilities as one more confidence signal. Off by default: some
    # servers reject ``logprobs`` together with structured output.
    openai_logprobs: bool = False

    api_host: str = "127.0.0.1"
    api_port: int = 8001
    # The REST API that `brain inbox`, `runs` and `cancel` call (with the caller's token,
    # BRAIN_TOKEN). Empty: the API of the `brain up` running on this BRAIN_HOME.
    api_url: str = ""
    rate_limit_per_minute: int = 600
    # Request bodies above this many bytes answer 413 (1 MiB; the largest start body is far
    # smaller), so nobody makes the API buffer and parse megabytes of JSON.
    max_body_bytes: int = Field(default=1_048_576, ge=1)

    # Observability. Tracing is configured by the standard OTEL_* variables instead.
    # A worker serves Prometheus metrics (its own and the SDK's) on this port when set.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    log_format: Literal["text", "json"] = "text"

    # `brain up`, `brain worker` and `brain api` stop within this many seconds of SIGTERM or
    # Ctrl-C, whatever their runs are doing (README, Stopping).
    shutdown_timeout_seconds: float = Field(default=15.0, gt=0)

    # Webhooks (SPEC §6): where event links point, and whether private, loopback and
    # link-local receivers are allowed (``brain up`` allows them; production should not).
    public_api_url: str = "http://127.0.0.1:8001/api/brain"
    web_ui_url: str = "http://127.0.0.1:8233"
    webhook_allow_private: bool = False

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.home / 'brain.db').resolve()}"

    @property
    def uses_dev_jwt_secret(self) -> bool:
        return self.jwt_secret.get_secret_value() == DEV_JWT_SECRET


@lru_cache
def get_settings() -> Settings:
    return Settings()
