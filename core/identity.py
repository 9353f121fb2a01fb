"""Who is who: the one rule Brain uses to compare subjects (SPEC §8).

Four-eyes, quorum and "already voted" compare people, not strings: ``Bob`` and ``bob`` are
one approver, and so are ``ann`` and ``ann `` (a token whose subject carries surrounding
whitespace is refused at the door anyway). The rule: strip surrounding whitespace, Unicode
NFC, then ``casefold`` unless subjects are configured case-sensitive
(``BRAIN_SUBJECTS_CASE_SENSITIVE``). A workflow takes the flag from its start, so a run
compares the same way for its whole life, whatever a later worker is configured with.
"""

import unicodedata


def subject_key(subject: str, *, case_sensitive: bool = False) -> str:
    """The form under which two subjects are the same person."""
    key = unicodedata.normalize("NFC", subject.strip())
    return key if case_sensitive else key.casefold()


def same_subject(a: str, b: str, *, case_sensitive: bool = False) -> bool:
    return subject_key(a, case_sensitive=case_sensitive) == subject_key(
        b, case_sensitive=case_sensitive
    )
