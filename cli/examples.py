"""``brain example``: a process's example start body, as JSON on stdout.

The examples live in the process definitions (``DEFINITION.examples``), so the body printed
here is the one the tests and ``brain start --example`` use, and a pipe such as
``brain example lead_scoring unsure | curl ... -d @-`` starts the same run over REST.
"""

from typing import Annotated

import typer

from cli.common import echo_json, fail, parse_process
from processes import registry


def example(
    process: Annotated[str, typer.Argument(help="Process name or seed alias, e.g. lead_scoring.")],
    kind: Annotated[
        str,
        typer.Argument(
            metavar="[confident|unsure]",
            help="confident clears the default threshold; unsure does not (the default).",
        ),
    ] = "unsure",
) -> None:
    """Print one of the process's example start bodies (JSON), e.g. for curl -d @-."""
    examples = registry.definition(parse_process(process)).examples
    if kind not in examples:
        fail("UnknownExample", f"{process} has the examples {sorted(examples)}")
    echo_json(examples[kind])
