"""The LLM layer: one client, interchangeable backends, validated output, a ledger that makes runs resumable.

Stages use it like this:

    from agenticrec.llm import LLMClient, chat, load_prompt, one_of, quote_data

    client = LLMClient(config.llm, run_dir)
    Pick = create_model("Pick", descriptor=(one_of(names), ...))
    prompt = load_prompt(__file__, "assign.md")
    requests = [chat(prompt.render(descriptors=listing), quote_data(item.text)) for item in items]
    for result in client.batch("annotator", requests, Pick):
        if result.ok: use(result.value.descriptor)
"""

from agenticrec.llm.calls import Completion, LLMResult, Message, Usage
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
    TransientFault,
)
from agenticrec.llm.prompts import PromptTemplate, chat, load_prompt, quote_data
from agenticrec.llm.structured import one_of

__all__ = [
    "BackendFault", "BackendUnavailable", "Completion", "EmbeddedBackendConfig", "LLMCallError", "LLMClient",
    "LLMConfig", "LLMError", "LLMResult", "Message", "OpenAIBackendConfig", "PromptTemplate", "RequestRejected",
    "RetryConfig", "RoleConfig", "SamplingParams", "ScriptedBackendConfig", "TransientFault", "Usage", "chat",
    "load_prompt", "one_of", "quote_data",
]
