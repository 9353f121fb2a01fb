"""Task-queue names. Workers and starters must agree on these."""

from core.settings import get_settings


def main_queue() -> str:
    return get_settings().task_queue
