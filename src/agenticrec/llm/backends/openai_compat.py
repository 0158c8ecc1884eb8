"""OpenAI-compatible HTTP backend (vLLM, Ollama, llama.cpp server, hosted APIs) via the `openai` client.

* The client's own retries are disabled (`max_retries=0`): the LLM client's retry layer is the single
  place where faults are retried.
* Transport: aiohttp through the client's `DefaultAioHttpClient` (the `openai[aiohttp]` extra), whose
  connection pool stays cheap at hundreds of concurrent requests where the default pool's cost per
  request grows with its size.
* The request body is sent as built here through the client's generic `post` (its documented way to
  reach any endpoint) and the answer is read as plain JSON: servers that are only mostly compatible get
  exactly what we send, and the per-call CPU of typed request transforms and response models is saved.
* The API key is read from the environment variable named in config and is scrubbed from every error
  message this backend produces.
* Options are not scored: the chat API gives log-probs of generated tokens only, not of a given answer
  (servers that echo prompt log-probs do it each in their own way), so `choose` falls back to constrained
  generation for roles served here.
"""

from __future__ import annotations

import logging
import os
import re
from typing import TYPE_CHECKING, Any, Literal

from agenticrec.llm.backends.base import Backend
from agenticrec.llm.calls import Completion, Message, Scoring
from agenticrec.llm.config import OpenAIBackendConfig, SamplingParams
from agenticrec.llm.errors import BackendUnavailable, LLMError, RequestRejected, ScoringUnsupported, TransientFault
from agenticrec.llm.ratelimit import RateLimiter
from agenticrec.llm.retry import parse_retry_after
from agenticrec.llm.structured import with_schema_hint

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

_Mode = Literal["json_schema", "json_object", "text"]
_MODES: tuple[_Mode, ...] = ("json_schema", "json_object", "text")
_TRANSIENT_STATUS = {408, 409, 429}
_FATAL_STATUS = {401, 403, 404}
_PREFLIGHT_TIMEOUT_S = 10.0
_FORMAT_COMPLAINT = re.compile(r"response_format|json_schema|json_object|schema", re.IGNORECASE)


class OpenAICompatBackend(Backend):
    kind = "openai"

    def __init__(self, name: str, cfg: OpenAIBackendConfig):
        super().__init__(name, cfg)
        self.cfg = cfg
        self.model = cfg.model
        self.max_concurrency = cfg.max_concurrency
        self.limiter = RateLimiter(cfg.requests_per_minute, cfg.tokens_per_minute)
        self._secret: str | None = None
        if cfg.api_key_env:
            self._secret = os.environ.get(cfg.api_key_env) or None
            if self._secret is None:
                raise LLMError(
                    f"LLM backend {name!r}: environment variable {cfg.api_key_env} (llm.backends.{name}."
                    "api_key_env) is not set"
                )
        self._mode: _Mode = "json_schema" if cfg.response_format == "auto" else cfg.response_format
        self._client: openai.AsyncOpenAI | None = None

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "[REDACTED]") if self._secret else text

    async def start(self) -> None:
        import openai

        limits = type(openai.DEFAULT_CONNECTION_LIMITS)(  # the HTTP library's Limits class, whichever it is
            max_connections=2 * self.max_concurrency, max_keepalive_connections=2 * self.max_concurrency
        )
        self._client = openai.AsyncOpenAI(
            api_key=self._secret or "no-key",
            base_url=self.cfg.base_url,
            max_retries=0,
            timeout=self.cfg.timeout_s,
            http_client=openai.DefaultAioHttpClient(limits=limits, timeout=self.cfg.timeout_s),
        )
        where = f"LLM backend {self.name!r} at {self.cfg.base_url}"
        try:
            page = await self._client.models.list(timeout=min(self.cfg.timeout_s, _PREFLIGHT_TIMEOUT_S))
        except openai.APIConnectionError as err:
            raise LLMError(f"{where} is unreachable: {self._scrub(str(err.__cause__ or err))}") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as err:
            source = f"environment variable {self.cfg.api_key_env}" if self.cfg.api_key_env else "no API key"
            raise LLMError(f"{where} rejected the credentials ({source}): HTTP {err.status_code}") from None
        except openai.APIStatusError as err:  # some servers do not list models; the first call will tell
            log.info("%s: model list unavailable (HTTP %s)", where, err.status_code)
            return
        ids = [m.id for m in page.data]
        if ids and self.model not in ids:
            log.warning("%s does not list model %r (it lists %s)", where, self.model, ids[:10])

    async def complete(
        self,
        messages: list[Message],
        schema: dict[str, Any] | None,
        params: SamplingParams,
        *,
        grammar: str | None = None,
    ) -> Completion:
        """`grammar` (a llama.cpp GBNF grammar, llama.cpp's servers only) constrains the answer instead of a schema."""
        import openai

        assert self._client is not None, "start() first"
        mode = self._mode
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if grammar is not None:
            body["grammar"] = grammar
        if schema is not None:
            if mode == "json_schema":
                name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title", "output")))[:64]
                body["response_format"] = {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
            else:
                body["messages"] = with_schema_hint(messages, schema)
                if mode == "json_object":
                    body["response_format"] = {"type": "json_object"}
        try:
            # plain JSON of unchecked shape: the lookups below turn a malformed answer into a TransientFault
            data: Any = await self._client.post("/chat/completions", body=body, cast_to=object)
        except openai.APITimeoutError:
            raise TransientFault(f"timed out after {self.cfg.timeout_s:g}s") from None
        except openai.APIConnectionError as err:
            raise TransientFault(f"connection failed: {self._scrub(repr(err.__cause__ or err))}") from None
        except openai.APIStatusError as err:
            status = err.status_code
            detail = f"HTTP {status}: {self._scrub(str(err.message))[:300]}"
            if status in _TRANSIENT_STATUS or status >= 500:
                raise TransientFault(detail, parse_retry_after(err.response.headers)) from None
            if status in _FATAL_STATUS:
                raise BackendUnavailable(f"model {self.model!r} at {self.cfg.base_url}: {detail}") from None
            if (
                schema is not None
                and self.cfg.response_format == "auto"
                and mode != "text"
                and _FORMAT_COMPLAINT.search(detail)
            ):
                self._downgrade(mode, detail)
                return await self.complete(messages, schema, params)
            raise RequestRejected(detail) from None
        except openai.APIError as err:
            raise TransientFault(f"bad response: {self._scrub(str(err))[:300]}") from None
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
        except (TypeError, KeyError, IndexError):
            raise TransientFault(f"not a chat completion: {self._scrub(str(data))[:300]}") from None
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            tokens_in=usage.get("prompt_tokens") or 0,
            tokens_out=usage.get("completion_tokens") or 0,
            truncated=choice.get("finish_reason") == "length",
        )

    async def score_options(self, messages: list[Message], options: list[str]) -> Scoring:
        raise ScoringUnsupported(
            f"LLM backend {self.name!r} (OpenAI-compatible) cannot score options: the chat API gives no "
            "log-probs for a given answer; choices use constrained generation"
        )

    def _downgrade(self, failed_mode: str, detail: str) -> None:
        """Step down json_schema -> json_object -> text after the server rejects a response format."""
        if self._mode == failed_mode:
            self._mode = _MODES[_MODES.index(failed_mode) + 1]
            log.warning(
                "LLM backend %r rejected response_format %s (%s); using %s from now on",
                self.name,
                failed_mode,
                detail,
                self._mode,
            )

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
