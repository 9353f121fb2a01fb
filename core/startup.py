"""Failing to start for a reason the operator must fix."""


class StartupError(RuntimeError):
    """A part of Brain could not start: Temporal or the database refused it, a TLS file is
    wrong. The message says what failed and names the ``BRAIN_*`` setting to look at; the
    CLI prints it as ``{"error": <class name>, "detail": <message>}``, without a traceback."""
