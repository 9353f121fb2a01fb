"""Choose the AI model provider from settings: the embedded rules (default, offline) or an
OpenAI-compatible endpoint."""

from activities.ai import ModelProvider
from core.settings import Settings


def build_provider(settings: Settings) -> ModelProvider:
    if settings.ai_provider == "openai":
        from activities.openai_model import OpenAIModel, build_openai_client

        return OpenAIModel(
            build_openai_client(settings),
            settings.openai_model,
            dict(settings.openai_models),
            request_logprobs=settings.openai_logprobs,
        )
    from activities.rules_model import RulesModel

    return RulesModel()
