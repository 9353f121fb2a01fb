"""Alembic revisions of this package's tables, run by Brain's ``migrate`` as a branch of
their own (``ProcessDefinition.migrations``)."""
