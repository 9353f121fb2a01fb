"""Database failures as the activities report them: typed, short and free of data.

SQLAlchemy's messages carry the statement and its parameters (a lead's name and email, a
comment): those must not land in a run's error, its history or the ops listing. What can
succeed on a retry (the server is down, a serialization conflict) stays retryable, within
the step's bounded retry policy; what never will (the data itself is refused) fails at once,
so the run ends visibly as failed instead of retrying for ever.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from temporalio.exceptions import ApplicationError

from temporal import errors

# SQLSTATE classes worth another attempt: connection (08), transaction rollback (40),
# insufficient resources (53), operator intervention (57).
_TRANSIENT_CLASSES = ("08", "40", "53", "57")


def _sqlstate(err: SQLAlchemyError) -> str | None:
    orig = getattr(err, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def describe(err: SQLAlchemyError) -> ApplicationError:
    """The error an activity raises for ``err``."""
    state = _sqlstate(err)
    orig = getattr(err, "orig", None)
    cause = type(orig.__cause__ if orig is not None and orig.__cause__ else orig or err).__name__
    where = f" (SQLSTATE {state})" if state else ""
    transient = isinstance(err, OperationalError | InterfaceError) or (
        state is not None and state[:2] in _TRANSIENT_CLASSES
    )
    if transient or (isinstance(err, DBAPIError) and err.connection_invalidated):
        return ApplicationError(
            f"the database is unavailable: {cause}{where}", type=errors.DATABASE_UNAVAILABLE
        )
    return ApplicationError(
        f"the database refused the write: {cause}{where}",
        type=errors.DATABASE_REFUSED,
        non_retryable=True,
    )


@asynccontextmanager
async def database_step() -> AsyncIterator[None]:
    try:
        yield
    except SQLAlchemyError as err:
        raise describe(err) from None
    except (OSError, TimeoutError) as err:
        # asyncpg surfaces a lost connection as OSError or a timeout, not wrapped.
        raise ApplicationError(
            f"the database is unavailable: {type(err).__name__}",
            type=errors.DATABASE_UNAVAILABLE,
        ) from None
