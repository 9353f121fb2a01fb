"""Names of the gate's message handlers, for code that must not import the workflows (the
policy broadcast's activity; ``brain status``, which answers without loading them).
Everything else calls handlers by method reference."""

# Internal: a policy of the run's process changed; the broadcast signals it.
POLICY_CHANGED_SIGNAL = "brain_policy_changed"
# The signal's name before it was marked internal; runs started before keep accepting it.
LEGACY_POLICY_CHANGED_SIGNAL = "policy_changed"

# The gate's ``status`` query, ``GatedWorkflow.status`` (tests/cli/test_brain_up_cli.py fails
# when `brain status` asks under another name and gets no answer).
STATUS_QUERY = "status"
