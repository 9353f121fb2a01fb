"""Returns triage, a Brain process in a package of its own."""
