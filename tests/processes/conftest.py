"""The REST API and the fake OpenAI-compatible server, as the API and workflow tests use them;
the plugin under tests/plugins, installed for the completeness test."""

from tests.api.conftest import api, settings
from tests.fakes.openai_server import fake_openai
from tests.plugins.package import plugin_site

__all__ = ["api", "fake_openai", "plugin_site", "settings"]
