"""The README's runnable snippets: fenced blocks whose info string is ``sh readme-test=<name>``
(GitHub shows them as plain ``sh``), turned into one bash script that runs them in order.

One shell for all of them, as a reader pastes them into one terminal: a variable set in one
block (``$WID``) is there in the next. Each block's stdout goes to ``<out>/<name>.out``; the
script stops at the first failing command (``set -euo pipefail``) and leaves the name of
the block it was in, so the test can say which snippet broke.
"""

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BLOCK = re.compile(r"^```sh readme-test=([\w-]+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# curl fails on HTTP errors (exit 22) and says why, instead of printing the error body as if
# it were the answer: the README stays plain `curl -s`.
_STRICT_CURL = 'curl() { command curl --fail-with-body --show-error "$@"; }'


@dataclass(frozen=True)
class Snippet:
    name: str
    code: str


def snippets(markdown: str) -> list[Snippet]:
    return [Snippet(name, code) for name, code in _BLOCK.findall(markdown)]


def script(blocks: list[Snippet], preamble: str, out: Path) -> str:
    """One bash script: ``preamble`` (the banner's export line), then every block."""
    lines = ["set -euo pipefail", _STRICT_CURL, preamble]
    for block in blocks:
        target = shlex.quote(str(out / f"{block.name}.out"))
        lines += [
            f"echo {shlex.quote(block.name)} > {shlex.quote(str(out / 'current'))}",
            "{",
            block.code.rstrip(),
            f"}} > {target}",
        ]
    lines.append(f"echo done > {shlex.quote(str(out / 'current'))}")
    return "\n".join(lines) + "\n"


def json_documents(text: str) -> list[Any]:
    """Every JSON value printed one after another (curl's and jq's answers)."""
    decoder, at = json.JSONDecoder(), 0
    found: list[Any] = []
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return found
        value, at = decoder.raw_decode(text, at)
        found.append(value)
