"""A process from another package: ``brain-returns/`` is a plugin project as a company would
write it (its own ``pyproject.toml``, definition, prompt and migration), installed by the
tests with ``pip`` into a directory of their own (``package.py``)."""
