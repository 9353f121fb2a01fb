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


def check_value(value: Any) -> Any:
    """Refuse control characters in strings (dict keys included) and non-finite or huge
    numbers, at any depth; return ``value`` unchanged."""
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
            check_value(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item)
    return value
