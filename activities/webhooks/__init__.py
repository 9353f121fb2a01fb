"""Webhooks (SPEC §6), the whole feature in one place.

- ``events.py``: the events a run raises, with ids from what happened; ``policy_events.py``:
  ``policy.changed``; ``gate_events.py``: reminders and escalations (an activity).
- ``outbox.py``: writing events in the transaction of the step that raised them.
- ``delivery_workflow.py``, ``delivery.py``, ``deliverer.py``, ``claims.py``,
  ``recorder.py``: the queue's deliverer, kept running by Temporal: rows handed over or
  claimed, sent in batches, their outcomes written back.
- ``attempt.py``, ``targets.py``, ``sender.py``, ``signing.py``, ``payloads.py``: one attempt,
  where it may go, the POST, the Standard Webhooks signature, the body.
- ``store.py``: subscriptions and the deliveries an admin lists.
- ``parts.py``: what a worker runs; ``legacy.py``: deliveries from before the outbox.

Import rules (``docs/ARCHITECTURE.md``, checked by ``lint-imports``): this package imports
``models``, ``store``, ``core``, ``temporal`` and the rest of ``activities`` only, never
``services``, ``workflows``, ``hitl``, ``api``, ``cli`` or ``workers``, which import it: the
API and the CLI (directly, and through ``services/webhooks.py``) for subscriptions, workers
for the parts, the gate's activities and ``hitl/steps.py`` for the events.
"""
