"""The plugin installed once per test session (``package.plugin_site``)."""

from tests.plugins.package import plugin_site

__all__ = ["plugin_site"]
