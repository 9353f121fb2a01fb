"""``ApplicationError.type`` strings shared by workflows, activities and the API.

The API maps these to HTTP statuses; nobody matches on message text.
"""

NOTHING_PENDING = "NothingPending"
STALE_APPROVAL = "StaleApproval"
ALREADY_DECIDED = "AlreadyDecided"
INVALID_EDITS = "InvalidEdits"

POLICY_NOT_CURRENT = "PolicyNotCurrent"
MODEL_RATE_LIMITED = "ModelRateLimited"
MODEL_UNAVAILABLE = "ModelUnavailable"
MODEL_REJECTED_REQUEST = "ModelRejectedRequest"
APPLY_FAILED = "ApplyFailed"
DATABASE_UNAVAILABLE = "DatabaseUnavailable"
DATABASE_REFUSED = "DatabaseRefused"
INVALID_INPUT = "InvalidInput"

# A second vote by the same person on the same proposal (409).
ALREADY_VOTED = "AlreadyVoted"
# Refusals of who may decide (403): the requester under four-eyes, a door that cannot
# prove it is the REST API.
FOUR_EYES = "FourEyes"
UNTRUSTED_DOOR = "UntrustedDoor"
# The gate's policy names who may decide it (approver groups and subjects) and through
# which doors (SPEC §8): a caller outside them, or a door the policy closed (403).
NOT_ELIGIBLE = "NotEligible"
DOOR_CLOSED = "DoorClosed"

# Decision refusals that mean "the approval moved on" (HTTP 409) vs "your edits are bad" (422).
CONFLICT_TYPES = frozenset({NOTHING_PENDING, STALE_APPROVAL, ALREADY_DECIDED, ALREADY_VOTED})

# Webhook delivery (SPEC §6): try again later, or never (the delivery is dead).
WEBHOOK_UNDELIVERED = "WebhookUndelivered"
WEBHOOK_DEAD = "WebhookDead"
