"""``python -m bench.api_server N``: the API as ``brain api --workers N`` runs it, with the
bench's quieter logging (no access log: a line per request is CPU taken from the cores
being measured)."""

import sys

from cli.api_processes import run_api_processes
from core.settings import Settings

if __name__ == "__main__":
    workers, port = int(sys.argv[1]), int(sys.argv[2])
    settings = Settings(_env_file=None).model_copy(
        update={"api_host": "127.0.0.1", "api_port": port}
    )
    sys.exit(run_api_processes(settings, workers, log_level="warning", access_log=False))
