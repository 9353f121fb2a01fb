"""Brain's own processes, one module each (``processes/<name>.py`` exporting ``DEFINITION``),
and the kit every process is built from (``kit/``), Brain's or a plugin's.

Which processes run is not decided here but by the registry (``processes/registry.py``):
the entry-point group ``brain.processes``, where ``pyproject.toml`` declares Brain's own.
Nothing is imported here, so that a process module (which imports ``processes.kit``) can be
loaded by the registry without a cycle.
"""
