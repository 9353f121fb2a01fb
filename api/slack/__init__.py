"""Deciding from Slack (SPEC §8 "Slack"): the door behind ``POST /slack/interactions``.

- ``signature.py``: Slack's ``v0`` request signature with the tenant's signing secret, the
  5-minute window, and each request taken once (across API processes).
- ``interaction.py``: what a click says (the ``block_actions`` payload): who, which button,
  which run and approval, the typed comment, where to answer.
- ``deciding.py``: the click decided as the Slack user's mapped subject and groups through
  the REST door's own path (``api/decisions.py``), after the 200, in the app's background.
- ``replies.py``, ``responder.py``: what is posted to the interaction's ``response_url``
  (the message replaced with the outcome, or an ephemeral refusal), and the POST itself.

The message with the buttons is built by ``activities/webhooks/slack_controls.py``; the
workspace and user mapping are kept by ``store/slack.py``, set over REST
(``api/routes/slack.py``) and by ``brain slack`` (``cli/slack.py``).
"""
