"""Where the door key comes from (temporal/door.py signs with it): ``BRAIN_DOOR_KEY``, or,
when that is unset, the JWT secret, as before the setting existed, so a deployment that
never set it keeps its key.

The key has its own setting because HS256 tokens can be turned off: a deployment that signs
people in through its identity provider needs no JWT secret, but the API and the workers
still have to share a key no one else holds. Setting ``BRAIN_DOOR_KEY`` to the current JWT
secret keeps the same key while the JWT secret is rotated on its own.
"""

from core.settings import DEV_JWT_SECRET, Settings
from temporal.door import derive_key

MIN_DOOR_KEY_LENGTH = 32
NO_DOOR_KEY = (
    "no door key: BRAIN_DOOR_KEY is unset and BRAIN_JWT_SECRET is the built-in development "
    "secret, which anyone can read; set BRAIN_DOOR_KEY (e.g. `openssl rand -hex 32`), the "
    "same on every API and worker, or a BRAIN_JWT_SECRET of your own. Only `brain up` may "
    "use the built-in one."
)


class NoDoorKey(RuntimeError):
    """Neither setting gives a key that only this deployment holds."""


def door_key(settings: Settings) -> bytes:
    """The door key of ``settings``; ``NoDoorKey`` when only the development secret is
    there (outside ``brain up``) or ``BRAIN_DOOR_KEY`` is too short to be a key."""
    if settings.door_key is not None:
        value = settings.door_key.get_secret_value()
        if len(value) < MIN_DOOR_KEY_LENGTH or value == DEV_JWT_SECRET:
            raise NoDoorKey(
                f"BRAIN_DOOR_KEY must be a secret of at least {MIN_DOOR_KEY_LENGTH} characters "
                "(e.g. `openssl rand -hex 32`), not the built-in development secret"
            )
        return derive_key(value)
    if settings.uses_dev_jwt_secret and not settings.allow_dev_secret:
        raise NoDoorKey(NO_DOOR_KEY)
    return derive_key(settings.jwt_secret.get_secret_value())
