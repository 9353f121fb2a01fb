"""Workflows: the process workflow (``process_workflow.py``, one class per process made from
its definition) and Brain's own (the policy broadcast, webhook delivery, the reconciler).

Left empty on purpose: the workflow sandbox re-imports a workflow's package for every run
it starts, so nothing here may import the workflows. ``workers/registry.py`` finds them.
"""
