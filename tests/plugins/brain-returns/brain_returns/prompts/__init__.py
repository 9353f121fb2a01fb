"""The prompts of ``returns_triage`` (``<process>.v<N>.md``)."""
