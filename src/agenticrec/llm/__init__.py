"""The LLM layer: one client, interchangeable backends, validated output, a ledger that makes runs resumable.

Stages use it like this:

    from agenticrec.llm import LLMClient, chat, load_prompt, one_of, quote_data

    client = LLMClient(config.llm, run_dir)
    Pick = create_model("Pick", descriptor=(one_of(names), ...))
    prompt = load_prompt(__file__, "assign.md")
    requests = [chat(prompt.render(descriptors=listing), quote_data(item.text)) for item in items]
    for result in client.batch(ANNOTATOR, requests, Pick):
        if result.ok: use(result.value.descriptor)

Roles are declared by the stage that uses them (`ANNOTATOR = register_role("annotator", "...")`), and
`client.choose(role, requests, options)` picks one option per request by generation or by scoring.
"""

from agenticrec.llm.calls import Completion, LLMResult, Message, OptionScore, Usage
from agenticrec.llm.choice import ChoiceResult
from agenticrec.llm.client import LLMClient
from agenticrec.llm.config import (
    EmbeddedBackendConfig,
    LLMConfig,
    OpenAIBackendConfig,
    RetryConfig,
    RoleConfig,
    SamplingParams,
    ScriptedBackendConfig,
)
from agenticrec.llm.errors import (
    BackendFault,
    BackendUnavailable,
    LLMCallError,
    LLMError,
    RequestRejected,
    ScoringUnsupported,
    TransientFault,
)
from agenticrec.llm.prompts import PromptTemplate, chat, load_prompt, quote_data
from agenticrec.llm.roles import ROLES, register_role
from agenticrec.llm.structured import one_of
from agenticrec.llm.text import short_answer

__all__ = [
    "ROLES",
    "BackendFault",
    "BackendUnavailable",
    "ChoiceResult",
    "Completion",
    "EmbeddedBackendConfig",
    "LLMCallError",
    "LLMClient",
    "LLMConfig",
    "LLMError",
    "LLMResult",
    "Message",
    "OpenAIBackendConfig",
    "OptionScore",
    "PromptTemplate",
    "RequestRejected",
    "RetryConfig",
    "RoleConfig",
    "SamplingParams",
    "ScoringUnsupported",
    "ScriptedBackendConfig",
    "TransientFault",
    "Usage",
    "chat",
    "load_prompt",
    "one_of",
    "quote_data",
    "register_role",
    "short_answer",
]
