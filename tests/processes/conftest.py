"""The REST API and the fake OpenAI-compatible server, as the API and workflow tests use them."""

from tests.api.conftest import api, settings
from tests.fakes.openai_server import fake_openai

__all__ = ["api", "fake_openai", "settings"]
