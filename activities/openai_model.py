"""An AI step served by any OpenAI-compatible chat-completions endpoint.

Works with OpenAI, Azure OpenAI (its ``/openai/v1/`` base URL), vLLM, Ollama and LiteLLM.
Retries belong to Temporal: the client runs with ``max_retries=0`` and HTTP failures
become typed ``ApplicationError``s (``activities.model_errors`` style, below). An answer
the engine cannot use is not an error: it becomes a proposal that needs review.
"""

import json
import re
import time
from typing import Any

import openai
from pydantic import BaseModel, ValidationError
from temporalio import activity

from activities import confidence as conf
from activities.model_answers import ANSWER_MODELS, FREE_TEXT_FIELDS, ModelAnswer
from activities.model_errors import to_application_error
from activities.prompts import load_prompt
from core.settings import Settings
from models.ai import AIResult, ModelCall
from models.inputs import ContentGenerationInput, ProductSourcingInput
from models.processes import Process
from models.proposals import tier_for, validate_proposal


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
        self._models = {Process.parse(name): model for name, model in (models or {}).items()}
        # Off by default: some servers reject ``logprobs`` with structured output.
        self._request_logprobs = request_logprobs

    @property
    def name(self) -> str:
        return f"openai:{self._default_model}"

    def model_for(self, process: Process) -> str:
        return self._models.get(process, self._default_model)

    async def propose(self, process: Process, run_input: BaseModel) -> AIResult:
        model = self.model_for(process)
        prompt_version, system_prompt = load_prompt(process)
        extra: dict[str, Any] = {"logprobs": True} if self._request_logprobs else {}
        started = time.monotonic()
        try:
            # The raw response keeps usage and content even when the answer is unusable.
            raw = await self._client.chat.completions.with_raw_response.parse(
                model=model,
                messages=[
                    {"role": "system", "content": system_prompt},
                    {"role": "user", "content": run_input.model_dump_json(exclude_none=True)},
                ],
                response_format=ANSWER_MODELS[process],
                **extra,
            )
        except openai.APIError as exc:
            raise to_application_error(exc, model) from exc
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        try:
            body = raw.http_response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        usage = body.get("usage") or {}
        call = ModelCall(
            model=str(body.get("model") or model),
            prompt_version=prompt_version,
            tokens_in=usage.get("prompt_tokens"),
            tokens_out=usage.get("completion_tokens"),
            latency_ms=latency_ms,
            attempts=activity.info().attempt if activity.in_activity() else 1,
        )
        return _Judge(process, run_input, model, call).judge(body)


class _Judge:
    """Turns one chat completion into an ``AIResult``: checks first, confidence last."""

    def __init__(self, process: Process, run_input: BaseModel, model: str, call: ModelCall):
        self.process, self.run_input, self.model, self.call = process, run_input, model, call

    def judge(self, body: dict[str, Any]) -> AIResult:
        choices = body.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            return self._review("the model endpoint answered without a choice", {})
        choice = choices[0]
        message = choice.get("message") or {}
        if message.get("refusal"):
            return self._review(f"the model refused: {message['refusal']}", {"refused": 1.0})
        finish = choice.get("finish_reason")
        if finish == "length":
            reason = "the model's answer was cut off at its token limit (finish_reason=length)"
            return self._review(reason, {"truncated": 1.0})
        if finish == "content_filter":
            reason = "the model's answer was stopped by the endpoint's content filter"
            return self._review(reason, {"content_filtered": 1.0})
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            return self._review("the model returned no content", {"schema_valid": 0.0})
        return self._judge_content(content, choice.get("logprobs"))

    def _judge_content(self, content: str, logprobs: Any) -> AIResult:
        try:
            data = json.loads(_strip_fences(content))
        except json.JSONDecodeError as exc:
            reason = f"the model's answer is not valid JSON ({exc.msg} at char {exc.pos})"
            return self._review(reason, {"schema_valid": 0.0})
        try:
            answer: ModelAnswer = ANSWER_MODELS[self.process].model_validate(data)
        except ValidationError as exc:
            reason = f"the model's answer does not match the {self.process.value} schema: "
            return self._review(reason + _summary(exc), {"schema_valid": 0.0})
        stated = answer.confidence
        try:
            proposal = validate_proposal(self.process, self.run_input, answer.to_proposal())
        except ValidationError as exc:
            _, signals = conf.combine(conf.Evidence(stated=stated, input_valid=False))
            reason = "the model's proposal is not valid for this input: " + _summary(exc)
            return self._review(reason, signals)
        evidence = conf.Evidence(
            stated=stated,
            consistency=_consistency(self.process, self.run_input, answer, proposal),
            token_prob=self._token_prob(content, logprobs),
            **_content_checks(self.process, self.run_input, proposal),
        )
        confidence, signals = conf.combine(evidence)
        return AIResult(
            proposal=proposal,
            confidence=confidence,
            rationale=proposal["rationale"],
            model=self.model,
            signals=signals,
            call=self.call,
        )

    def _token_prob(self, content: str, logprobs: Any) -> float | None:
        entries = (logprobs or {}).get("content") if isinstance(logprobs, dict) else None
        if not entries:
            return None
        tokens = [(str(t.get("token", "")), float(t.get("logprob", 0.0))) for t in entries]
        probs = conf.decision_token_prob(content, tokens, FREE_TEXT_FIELDS[self.process])
        return probs[0] if probs else None

    def _review(self, reason: str, signals: dict[str, float]) -> AIResult:
        return AIResult(
            proposal=None,
            confidence=0.0,
            rationale=reason,
            model=self.model,
            needs_review=True,
            error=reason,
            signals=signals,
            call=self.call,
        )


def _consistency(
    process: Process, run_input: BaseModel, answer: ModelAnswer, proposal: dict[str, Any]
) -> float | None:
    """Share of derived fields the model computed as the engine does.

    Validation silently recomputes them; a model that got them wrong misread the input.
    """
    raw = answer.to_proposal()
    if process is Process.LEAD_SCORING:
        return float(raw["tier"] == tier_for(proposal["score"]))
    if process is Process.PRODUCT_SOURCING and isinstance(run_input, ProductSourcingInput):
        fields = ("unit_price", "total_cost")
        agree = [abs(raw[f] - proposal[f]) <= 0.01 * max(abs(proposal[f]), 1.0) for f in fields]
        return sum(agree) / len(agree)
    return None


def _content_checks(
    process: Process, run_input: BaseModel, proposal: dict[str, Any]
) -> dict[str, float | None]:
    if process is not Process.CONTENT_GENERATION or not isinstance(
        run_input, ContentGenerationInput
    ):
        return {}
    brief = run_input.brief
    words = conf.word_count(proposal["body"])
    return {
        "length_ratio": words / brief.length_words if brief.length_words else None,
        "keyword_coverage": conf.keyword_coverage(
            f"{proposal['title']}\n{proposal['body']}", brief.keywords
        ),
    }


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*)\n\s*```\s*$", re.DOTALL)


def _strip_fences(content: str) -> str:
    # Servers without strict structured output (older Ollama, some proxies) wrap JSON in fences.
    match = _FENCE.match(content)
    return match["body"] if match else content


def _summary(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "proposal"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
