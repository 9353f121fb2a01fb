"""``python -m bench.brain_worker``: Brain's own worker entry point, configured by the
``BRAIN_*`` variables the bench sets, so the bench measures exactly what ``brain worker``
runs."""

import asyncio
import logging
import os

from core.settings import Settings
from workers.main import run_worker

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run_worker(Settings(_env_file=None)))
    # The SDK's runtime can abort while the interpreter finalizes (sdk-python#300).
    os._exit(0)
