"""What every value that reaches PostgreSQL must be, checked at the edge: no control
characters (PostgreSQL refuses NUL outright), finite numbers of a size arithmetic on money
can still represent. A value that fails is refused with its field named; nothing downstream
has to retry on it for ever."""

import math
import re
from typing import Any

# Tab, newline and carriage return are ordinary in free text; the rest never is. Lone
# surrogates cannot be encoded as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Beyond 2**53 floats stop counting in units, well before that cents are lost.
MAX_MAGNITUDE = 1e15


# Objects and lists nested deeper than this are refused. Business data is a few levels
# deep; hundreds of levels only break what comes after the edge (the payload converter's
# depth limit answered 500 or failed the Update's decoding, and deep recursion can exhaust
# the stack), so they are refused here, with the field named, before anything else sees them.
MAX_DEPTH = 32


def check_value(value: Any, *, _depth: int = 0) -> Any:
    """Refuse control characters in strings (dict keys included), non-finite or huge
    numbers, and nesting deeper than ``MAX_DEPTH``, at any depth; return ``value``
    unchanged."""
    if isinstance(value, dict | list | tuple) and _depth >= MAX_DEPTH:
        raise ValueError(f"objects and lists may nest at most {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise ValueError("control characters (such as NUL) and lone surrogates are not allowed")
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("numbers must be finite")
        if abs(value) > MAX_MAGNITUDE:
            raise ValueError(f"numbers must lie within ±{MAX_MAGNITUDE:.0e}")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(key)
            check_value(item, _depth=_depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item, _depth=_depth + 1)
    return value
