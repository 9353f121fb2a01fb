"""An AI step served by any OpenAI-compatible chat-completions endpoint.

Works with OpenAI, Azure OpenAI (its ``/openai/v1/`` base URL), vLLM, Ollama and LiteLLM.
Retries belong to Temporal: the client runs with ``max_retries=0`` and HTTP failures become
typed ``ApplicationError``s (``openai_errors``). An answer the engine cannot use is not an
error: it becomes a result that needs review, so the run parks for a person instead of
burning retries. What the model is asked to answer, and the checks the engine makes on it,
come from each process's definition (``answer_model``, ``answer_checks``, its prompt).
"""

import json
import re
import time
from typing import Any

import openai
from pydantic import BaseModel, ValidationError
from temporalio import activity

from activities import confidence as conf
from activities.openai_errors import to_application_error
from core.settings import Settings
from models.ai import AIResult, ModelCall
from models.processes import Process
from processes import registry
from processes.kit.definition import AnswerSignals


def build_openai_client(settings: Settings) -> openai.AsyncOpenAI:
    """One client per worker; ``max_retries=0`` because Temporal owns retries."""
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not api_key and settings.openai_base_url:
        # Local servers (vLLM, Ollama) need no key, but the SDK refuses to start without one.
        api_key = "not-needed"
    return openai.AsyncOpenAI(
        base_url=settings.openai_base_url,
        api_key=api_key,
        timeout=settings.openai_timeout_seconds,
        max_retries=0,
    )


# --- The provider ------------------------------------------------------------------------


class OpenAIModel:
    def __init__(
        self,
        client: openai.AsyncOpenAI,
        default_model: str,
        models: dict[str, str] | None = None,
        *,
        request_logprobs: bool = False,
    ) -> None:
        self._client = client
        self._default_model = default_model
        # Keys may be API names or seed aliases; an unknown one fails at startup, not mid-run.
        self._models = {registry.parse(name): model for name, model in (models or {}).items()}
        # Off by default: some servers reject ``logprobs`` together with structured output.
        self._request_logprobs = request_logprobs

    @property
    def name(self) -> str:
        return f"openai:{self._default_model}"

    def model_for(self, process: Process) -> str:
        return self._models.get(process, self._default_model)

    async def propose(self, process: Process, run_input: BaseModel) -> AIResult:
        model = self.model_for(process)
        definition = registry.definition(process)
        prompt_version, system_prompt = definition.prompt()
        extra: dict[str, Any] = {"logprobs": True} if self._request_logprobs else {}
        started = time.monotonic()
        try:
            # The raw response keeps usage and content even when the answer is unusable,
            # where ``parse()`` alone would raise and lose both.
            raw = await self._client.chat.completions.with_raw_response.parse(
                model=model,
                messages=[
                    {"role": "system", "content": system_prompt},
                    {"role": "user", "content": run_input.model_dump_json(exclude_none=True)},
                ],
                response_format=definition.answer_model,
                **extra,
            )
        except openai.APIError as exc:
            raise to_application_error(exc, model) from exc
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        try:
            parsed = raw.http_response.json()
        except ValueError:
            parsed = None
        body: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        usage: dict[str, Any] = body["usage"] if isinstance(body.get("usage"), dict) else {}
        call = ModelCall(
            model=str(body.get("model") or model),
            prompt_version=prompt_version,
            tokens_in=usage.get("prompt_tokens"),
            tokens_out=usage.get("completion_tokens"),
            latency_ms=latency_ms,
            attempts=activity.info().attempt if activity.in_activity() else 1,
        )
        return judge(process, run_input, body, model=model, call=call)


# --- From a completion to an AIResult -----------------------------------------------------


def judge(
    process: Process, run_input: BaseModel, body: dict[str, Any], *, model: str, call: ModelCall
) -> AIResult:
    """Check one chat completion and turn it into an ``AIResult``; never raises."""

    def review(reason: str, signals: dict[str, float]) -> AIResult:
        return AIResult(
            proposal=None,
            confidence=0.0,
            rationale=reason,
            model=model,
            needs_review=True,
            error=reason,
            signals=signals,
            call=call,
        )

    choices = body.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(choice, dict):
        return review("the model endpoint answered without a choice", {})
    message = choice.get("message") or {}
    if message.get("refusal"):
        return review(f"the model refused: {message['refusal']}", {"refused": 1.0})
    if choice.get("finish_reason") == "length":
        reason = "the model's answer was cut off at its token limit (finish_reason=length)"
        return review(reason, {"truncated": 1.0})
    if choice.get("finish_reason") == "content_filter":
        return review("the endpoint's content filter stopped the answer", {"filtered": 1.0})
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        return review("the model returned no content", {"schema_valid": 0.0})
    try:
        data = json.loads(_strip_fences(content))
    except json.JSONDecodeError as exc:
        reason = f"the model's answer is not valid JSON ({exc.msg} at char {exc.pos})"
        return review(reason, {"schema_valid": 0.0})
    definition = registry.definition(process)
    try:
        answer = definition.answer_model.model_validate(data)
    except ValidationError as exc:
        reason = f"the model's answer does not match the {process.value} schema: {_summary(exc)}"
        return review(reason, {"schema_valid": 0.0})
    try:
        run_input = definition.parse_input(run_input)
        proposal = definition.validate_proposal(run_input, answer.to_proposal())
    except ValidationError as exc:
        _, signals = conf.combine(conf.Evidence(stated=answer.confidence, input_valid=False))
        return review(f"the model's proposal is invalid for this input: {_summary(exc)}", signals)
    checks = definition.answer_checks
    confidence, signals = conf.combine(
        conf.Evidence(
            stated=answer.confidence,
            token_prob=_token_prob(content, choice.get("logprobs")),
            **(checks(run_input, answer.to_proposal(), proposal) if checks else AnswerSignals()),
        )
    )
    return AIResult(
        proposal=proposal,
        confidence=confidence,
        rationale=proposal["rationale"],
        model=model,
        signals=signals,
        call=call,
    )


def _token_prob(content: str, logprobs: Any) -> float | None:
    entries = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(entries, list) or not entries:
        return None
    tokens = [(str(e.get("token", "")), float(e.get("logprob", 0.0))) for e in entries]
    probs = conf.decision_token_prob(content, tokens)
    return probs[0] if probs else None


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*)\n\s*```\s*$", re.DOTALL)


def _strip_fences(content: str) -> str:
    # Servers without strict structured output (older Ollama, some proxies) fence their JSON.
    match = _FENCE.match(content)
    return match["body"] if match else content


def _summary(exc: ValidationError, limit: int = 3) -> str:
    found = exc.errors()
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in found]
    more = f" (and {len(found) - limit} more)" if len(found) > limit else ""
    return "; ".join(parts[:limit]) + more
