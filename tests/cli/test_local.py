"""What ``brain up`` configures for one machine (cli/local.py), without starting it."""

import pytest

from cli.local import inbox_url, local_settings
from core.settings import Settings


def _local(settings: Settings) -> Settings:
    return local_settings(
        settings, temporal_address="127.0.0.1:7300", ui_url="http://127.0.0.1:8300", api_port=8100
    )


def test_webhook_links_follow_the_ports_brain_up_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BRAIN_PUBLIC_API_URL", raising=False)
    monkeypatch.delenv("BRAIN_WEB_UI_URL", raising=False)
    local = _local(Settings(_env_file=None))
    assert local.public_api_url == "http://127.0.0.1:8100/api/brain"
    assert local.web_ui_url == "http://127.0.0.1:8300"
    assert (local.temporal_address, local.api_port) == ("127.0.0.1:7300", 8100)


def test_webhook_links_the_user_set_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAIN_PUBLIC_API_URL", "https://brain.example/api/brain")
    monkeypatch.setenv("BRAIN_WEB_UI_URL", "https://temporal.example")
    local = _local(Settings(_env_file=None))
    assert local.public_api_url == "https://brain.example/api/brain"
    assert local.web_ui_url == "https://temporal.example"


def test_the_inbox_is_the_web_ui_list_filtered_to_parked_runs() -> None:
    assert inbox_url("http://127.0.0.1:8233/", "my ns") == (
        "http://127.0.0.1:8233/namespaces/my%20ns/workflows"
        "?query=BrainState%3D%22awaiting_approval%22"
    )
