"""Secrets from files: ``BRAIN_<NAME>_FILE`` for every secret setting (core/secret_files.py),
the errors that name variables and never values, and secrets kept out of what Brain shows."""

import re
from pathlib import Path
from typing import get_args

import jwt
import pytest
from pydantic import SecretStr
from pydantic_settings.exceptions import SettingsError

from core.secret_files import secret_fields
from core.settings import InvalidSettings, Settings, get_settings
from tests.cli.conftest import BRAIN, clean_env, run_cmd

SECRET = "s3cr3t-from-a-file-" + "9f8e7d6c" * 4
# A setting whose name says it holds a secret must be typed as one, so that it gets _FILE,
# is masked in reprs, and is found by these tests (paths to key files are Paths, not str).
SECRET_NAME = re.compile(r"(secret|password|passphrase|token|api_key|_key)$")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No BRAIN_* setting of the test process's own."""
    import os

    for name in list(os.environ):
        if name.startswith("BRAIN_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _file(tmp_path: Path, text: str, name: str = "secret") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_settings_named_like_secrets_are_secrets() -> None:
    for name, info in Settings.model_fields.items():
        plain_text = str in (info.annotation, *get_args(info.annotation))
        if SECRET_NAME.search(name) and plain_text:
            raise AssertionError(f"{name} holds a secret as plain str: make it a SecretStr")
    assert {"jwt_secret", "temporal_api_key", "database_password", "openai_api_key"} <= set(
        secret_fields(Settings)
    )


@pytest.mark.parametrize("field", secret_fields(Settings))
def test_every_secret_setting_reads_from_its_file(
    field: str, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Trailing newlines, as `echo secret > file` leaves, are not part of the secret.
    env.setenv(f"BRAIN_{field.upper()}_FILE", str(_file(tmp_path, SECRET + "\n\n")))
    value = getattr(Settings(_env_file=None), field)
    assert value.get_secret_value() == SECRET


def test_the_variable_and_its_file_together_are_an_error_naming_both(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("BRAIN_JWT_SECRET", SECRET)
    env.setenv("BRAIN_JWT_SECRET_FILE", str(_file(tmp_path, SECRET)))
    with pytest.raises(SettingsError, match="BRAIN_JWT_SECRET and BRAIN_JWT_SECRET_FILE"):
        Settings(_env_file=None)


def test_the_dotenv_file_counts_as_the_environment(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"BRAIN_TEMPORAL_API_KEY_FILE={_file(tmp_path, SECRET)}\n")
    settings = Settings(_env_file=dotenv)
    assert settings.temporal_api_key is not None
    assert settings.temporal_api_key.get_secret_value() == SECRET
    env.setenv("BRAIN_TEMPORAL_API_KEY", "another")
    with pytest.raises(SettingsError, match="both set"):
        Settings(_env_file=dotenv)


def test_values_given_in_code_win_over_files(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("BRAIN_JWT_SECRET_FILE", str(_file(tmp_path, SECRET)))
    given = Settings(_env_file=None, jwt_secret=SecretStr("given-" + SECRET))
    assert given.jwt_secret.get_secret_value() == "given-" + SECRET


@pytest.mark.parametrize(
    ("content", "said"), [(None, "cannot read"), ("\n", "is empty"), (b"\xff\xfe", "not UTF-8")]
)
def test_a_bad_file_is_an_error_naming_the_variable_and_path_not_the_content(
    content: str | bytes | None, said: str, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "secret"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    env.setenv("BRAIN_DATABASE_PASSWORD_FILE", str(path))
    get_settings.cache_clear()
    try:
        with pytest.raises(InvalidSettings) as raised:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert said in str(raised.value)
    assert "BRAIN_DATABASE_PASSWORD_FILE" in str(raised.value) and str(path) in str(raised.value)


def test_an_invalid_value_names_the_variable_without_its_value(env: pytest.MonkeyPatch) -> None:
    env.setenv("BRAIN_DATABASE_SSL_MODE", "sometimes-" + SECRET)
    get_settings.cache_clear()
    try:
        with pytest.raises(InvalidSettings) as raised:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert "BRAIN_DATABASE_SSL_MODE" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_settings_and_the_database_url_shown_mask_secrets() -> None:
    settings = Settings(
        _env_file=None,
        jwt_secret=SecretStr(SECRET),
        database_url="postgresql+asyncpg://brain@db.internal:5432/brain",
        database_password=SecretStr(SECRET),
    )
    assert SECRET in settings.effective_database_url  # what the engine needs
    assert SECRET not in settings.database_url_for_display
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


async def test_the_cli_takes_the_jwt_secret_from_a_file_and_refuses_both(tmp_path: Path) -> None:
    path = _file(tmp_path, SECRET + "\n")
    env = clean_env(jwt_secret_file=str(path), home=str(tmp_path))
    args = ("token", "--sub", "ada", "--tenant", "t", "--role", "viewer", "--raw")
    minted = await run_cmd(BRAIN, *args, env=env, cwd=tmp_path)
    assert minted.code == 0, minted.err
    assert jwt.decode(minted.out.strip(), SECRET, algorithms=["HS256"])["sub"] == "ada"

    both = await run_cmd(BRAIN, *args, env=env | {"BRAIN_JWT_SECRET": SECRET}, cwd=tmp_path)
    assert both.code == 1 and "Traceback" not in both.err, both.err
    said = both.error()
    assert said["error"] == "InvalidSettings"
    assert "BRAIN_JWT_SECRET and BRAIN_JWT_SECRET_FILE" in said["detail"]
    assert SECRET not in both.err + both.out
