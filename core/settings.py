"""One settings class for the API, the workers and the CLI (``BRAIN_*`` env vars, ``.env``).

Every secret (a ``SecretStr`` setting) can also come from a file: ``BRAIN_<NAME>_FILE``
(core/secret_files.py).
"""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from core.secret_files import SecretFilesSource
from models.roles import RoleByName

# Good for ``brain up`` on one machine only: ``brain api``, ``brain worker`` and
# ``create_app()`` refuse to run with it (SPEC §4).
DEV_JWT_SECRET = "brain-local-dev-secret-change-me-0123456789"
DEV_JWT_SECRET_REFUSED = (
    "BRAIN_JWT_SECRET is the built-in development secret, with which anyone can mint tokens; "
    "set BRAIN_JWT_SECRET to a secret of your own (e.g. `openssl rand -hex 32`). Only "
    "`brain up` may use the built-in one."
)


class AIProvider(StrEnum):
    """The model that proposes: the built-in rules, or an OpenAI-compatible server."""

    rules = "rules"
    openai = "openai"


class LogFormat(StrEnum):
    """Log lines as text, or as JSON objects (one per line) for a log pipeline."""

    text = "text"
    json = "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRAIN_", env_file=".env", extra="ignore")

    home: Path = Path(".brain")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    # The name Temporal's certificate must hold, sent as SNI too; default: the address's host.
    temporal_tls_server_name: str | None = None
    temporal_api_key: SecretStr | None = None
    task_queue: str = "brain"

    # Empty means the embedded SQLite file under ``home``.
    database_url: str = ""
    # PostgreSQL: the password apart from the URL, so that it can come from a file
    # (BRAIN_DATABASE_PASSWORD_FILE); it replaces the URL's own.
    database_password: SecretStr | None = None
    # TLS to PostgreSQL, libpq's modes: ``require`` encrypts, ``verify-ca`` also checks the
    # server's certificate against ``database_ssl_ca``, ``verify-full`` also its host name.
    # Unset: what the URL says (``?sslmode=``); else ``verify-full`` with a CA, ``require``
    # with a client certificate alone, otherwise the driver's default (TLS if offered,
    # unverified; store/tls.py). The CA, and a client certificate and key for servers that
    # ask for one.
    database_ssl_mode: Literal["disable", "require", "verify-ca", "verify-full"] | None = None
    database_ssl_ca: Path | None = None
    database_ssl_cert: Path | None = None
    database_ssl_key: Path | None = None
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
    # The CLI caller's own token (cli/credentials.py): given as it is, or as a file that a
    # login tool keeps fresh (read at each command).
    token: SecretStr | None = None
    token_file: Path | None = None
    # HS256 tokens (``brain up``'s, ``brain token``'s, service tokens). Off when everyone
    # signs in through the company's identity provider: then no holder of the secret can
    # mint a token the API accepts (README, Sign-in).
    jwt_hs256_enabled: bool = True

    # OIDC sign-in (SPEC §8, README "Sign-in"): tokens signed by the identity provider with
    # keys Brain never holds. On when an issuer (keys found by discovery) or a JWKS URL is
    # set; ``iss`` must be the issuer and ``aud`` must hold the audience.
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    oidc_audience: str | None = None
    # Where the provider puts each part of the principal (a claim name, or a dotted path
    # into nested claims such as ``realm_access.roles``).
    oidc_subject_claim: str = "sub"
    oidc_tenant_claim: str = "tenant"
    oidc_role_claim: str = "role"
    oidc_groups_claim: str = "groups"
    # The tenant of tokens that carry no tenant claim (a company's provider usually has none).
    oidc_tenant: str | None = None
    # Provider groups to Brain roles, e.g. {"brain-approvers": "approver"}; a caller gets the
    # highest role that its role claim or any of its groups gives.
    oidc_group_roles: dict[str, RoleByName] = Field(default_factory=dict)
    # The key set is re-read this often; a token naming a key the set lacks re-reads it at
    # once, at most once per ``oidc_jwks_refetch_seconds`` (a flood of made-up key ids must
    # not become a flood of requests to the provider).
    oidc_jwks_cache_seconds: float = Field(default=300.0, gt=0)
    oidc_jwks_refetch_seconds: float = Field(default=10.0, ge=0)
    oidc_http_timeout_seconds: float = Field(default=5.0, gt=0)

    # The key that signs what the REST door (and Brain itself) sends to runs
    # (temporal/door.py). Unset: derived from BRAIN_JWT_SECRET, as before this setting
    # existed; set it when HS256 is off or the JWT secret is to be rotated on its own.
    door_key: SecretStr | None = None

    # Subjects compare after trim and NFC, case-insensitively unless this is set
    # (core/identity.py): four-eyes, quorum, "already voted"; a run keeps the value it was
    # started with.
    subjects_case_sensitive: bool = False

    ai_provider: AIProvider = AIProvider.rules
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
    # Requests that fail authentication, per client address and minute; beyond it every
    # request of that address answers 429 until the minute is over. 0: no limit.
    auth_failures_per_minute: int = Field(default=60, ge=0)
    # Request bodies above this many bytes answer 413 (1 MiB; the largest start body is far
    # smaller), so nobody makes the API buffer and parse megabytes of JSON.
    max_body_bytes: int = Field(default=1_048_576, ge=1)

    # Observability. Tracing is configured by the standard OTEL_* variables instead.
    # A worker serves Prometheus metrics (its own and the SDK's) on this port when set.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    log_format: LogFormat = LogFormat.text

    # `brain up`, `brain worker` and `brain api` stop within this many seconds of SIGTERM or
    # Ctrl-C, whatever their runs are doing (README, Stopping).
    shutdown_timeout_seconds: float = Field(default=15.0, gt=0)

    # Webhooks (SPEC §6): where event links point, and whether private, loopback and
    # link-local receivers are allowed (``brain up`` allows them; production should not).
    public_api_url: str = "http://127.0.0.1:8001/api/brain"
    web_ui_url: str = "http://127.0.0.1:8233"
    webhook_allow_private: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = SecretFilesSource(
            settings_cls,
            given=init_settings.init_kwargs
            if isinstance(init_settings, InitSettingsSource)
            else {},
            environ=env_settings.env_vars if isinstance(env_settings, EnvSettingsSource) else {},
            dotenv=dotenv_settings.env_vars
            if isinstance(dotenv_settings, EnvSettingsSource)
            else {},
        )
        return init_settings, files, env_settings, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _database_url_holds_together(self) -> "Settings":
        self.effective_database_url  # noqa: B018 (raises on a clash between URL and settings)
        return self

    @property
    def effective_database_url(self) -> str:
        """The URL the engines use: PostgreSQL's with the password and the TLS settings in
        it (libpq's ``sslmode``, ``sslrootcert``, ``sslcert``, ``sslkey``, which store/tls.py
        turns into the driver's TLS context). Holds the password: never print it; see
        ``database_url_for_display``."""
        if not self.database_url:
            return f"sqlite+aiosqlite:///{(self.home / 'brain.db').resolve()}"
        if "://" in self.database_url and not self.database_url.startswith("postgresql"):
            # Only PostgreSQL's URL takes settings of its own; a CLI command that never
            # opens the database does not pay for SQLAlchemy's import to know that.
            return self.database_url
        # Imported here for the same reason: `brain --help` and `brain status` stay fast.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(self.database_url)
        except ArgumentError:
            # Not the URL itself in the message: it may hold a password.
            raise ValueError(
                "BRAIN_DATABASE_URL is not a database URL (e.g. "
                "postgresql+asyncpg://brain@db.internal:5432/brain)"
            ) from None
        if url.get_backend_name() != "postgresql":
            return self.database_url
        if self.database_password is not None:
            url = url.set(password=self.database_password.get_secret_value())
        query = {
            key: str(value)
            for key, value in (
                ("sslmode", self.database_ssl_mode),
                ("sslrootcert", self.database_ssl_ca),
                ("sslcert", self.database_ssl_cert),
                ("sslkey", self.database_ssl_key),
            )
            if value is not None
        }
        if clash := sorted(set(query) & set(url.query)):
            raise ValueError(
                f"BRAIN_DATABASE_URL already sets {', '.join(clash)}; set it there or in "
                "BRAIN_DATABASE_SSL_*, not both"
            )
        return url.update_query_dict(query).render_as_string(hide_password=False)

    @property
    def database_url_for_display(self) -> str:
        """The database URL with any password masked, for banners and logs."""
        from sqlalchemy.engine import make_url

        return make_url(self.effective_database_url).render_as_string(hide_password=True)

    @property
    def uses_dev_jwt_secret(self) -> bool:
        return self.jwt_secret.get_secret_value() == DEV_JWT_SECRET

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer or self.oidc_jwks_url)


class InvalidSettings(ValueError):
    """The ``BRAIN_*`` settings cannot be loaded; the message names the variables, never a
    value (a value may be a secret)."""


def describe_invalid(err: ValidationError | SettingsError) -> str:
    if isinstance(err, SettingsError):
        return str(err)
    return "; ".join(
        f"BRAIN_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
        if e["loc"]
        else e["msg"].removeprefix("Value error, ")
        for e in err.errors(include_input=False, include_url=False)
    )


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except (ValidationError, SettingsError) as err:
        raise InvalidSettings(describe_invalid(err)) from None
