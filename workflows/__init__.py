"""Workflows: one per process (``<process>_workflow.py``, a ``GatedWorkflow`` naming its
definition) and Brain's own (the policy broadcast, webhook delivery).

Left empty on purpose: the workflow sandbox re-imports a workflow's package for every run
it starts, so nothing here may import the workflows. ``workers/registry.py`` finds them.
"""
