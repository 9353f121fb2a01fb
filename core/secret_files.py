"""``BRAIN_<NAME>_FILE``: any secret setting read from a file (Docker and Kubernetes secrets).

An environment variable leaks into process listings (``/proc/<pid>/environ`` for the same
user, ``ps e``), crash reports and every child process; a mounted secret file does not. Every
setting typed ``SecretStr`` gets the ``_FILE`` variant, so a secret added later (the door
key, OIDC client secrets, Slack signing secrets) has it without anyone remembering to add it.

Setting both ``BRAIN_X`` and ``BRAIN_X_FILE`` is an error rather than a silent precedence:
whichever one won, an operator who changed the other would be surprised. Trailing newlines
are stripped (``echo secret > file`` and editors add one); nothing else is.
"""

import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from pydantic_settings.exceptions import SettingsError

_SECRET_TYPES = (SecretStr, SecretBytes)


def is_secret(annotation: Any) -> bool:
    """``SecretStr``, or a union holding it (``SecretStr | None``)."""
    if annotation in _SECRET_TYPES:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(arg in _SECRET_TYPES for arg in get_args(annotation))
    return False


def secret_fields(settings_cls: type[BaseSettings]) -> list[str]:
    """The secret settings that take ``_FILE``; one with a ``<name>_file`` setting of its own
    (the CLI's ``token``: a file a login tool keeps fresh, read at each use, the variable
    winning over it) follows that setting's rules instead."""
    fields = settings_cls.model_fields
    return [
        name
        for name, info in fields.items()
        if is_secret(info.annotation) and f"{name}_file" not in fields
    ]


def read_secret(path: str, variable: str) -> str:
    """The file's text without its trailing newlines. Errors name the variable and the path,
    never the content."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise SettingsError(f"{variable}: cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{variable}: {path} is not UTF-8 text") from None
    value = text.rstrip("\r\n")
    if not value:
        raise SettingsError(f"{variable}: {path} is empty")
    return value


class SecretFilesSource(PydanticBaseSettingsSource):
    """Values of secret settings from the files their ``_FILE`` variables name, looked up in
    the environment and then in the ``.env`` file, as the plain variables are."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        *,
        given: Mapping[str, Any],
        environ: Mapping[str, str | None],
        dotenv: Mapping[str, str | None],
    ) -> None:
        super().__init__(settings_cls)
        # Passed to the constructor (tests, ``model_copy``): those win, as they do over env.
        self._given = given
        # pydantic-settings lower-cases the names it loads (settings are case-insensitive).
        self._vars = [environ, dotenv]
        self._prefix = str(settings_cls.model_config.get("env_prefix", "")).lower()

    def _lookup(self, name: str) -> str | None:
        for source in self._vars:
            if (value := source.get(name)) is not None:
                return value
        return None

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        # Unused: ``__call__`` reads every field at once.
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in secret_fields(self.settings_cls):
            if name in self._given:
                continue
            variable = f"{self._prefix}{name}"
            path = self._lookup(f"{variable}_file")
            if path is None:
                continue
            shown = variable.upper()
            if self._lookup(variable) is not None:
                raise SettingsError(
                    f"{shown} and {shown}_FILE are both set; set one of them "
                    f"(the file, {path}, for a secret)"
                )
            values[name] = read_secret(path, f"{shown}_FILE")
        return values
