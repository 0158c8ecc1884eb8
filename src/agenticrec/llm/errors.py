"""Errors of the LLM layer.

Two families:

* `LLMError` (an `AgenticRecError`) is meant for the person running agenticrec: a missing model file, an
  unreachable server, a rejected API key, a call that failed after every retry. The CLI prints it plainly.
* `BackendFault` and its subclasses are raised by backends (and by scripted test callables) to tell the
  retry layer what went wrong with one request; they never leave the client.
"""

from __future__ import annotations

from agenticrec.errors import AgenticRecError


class LLMError(AgenticRecError):
    """The LLM layer cannot go on: bad setup, unreachable backend, or a batch aborted."""


class ScoringUnsupported(LLMError):
    """The backend cannot score options (no log-probs); `choose` picks by constrained generation instead."""


class LLMCallError(LLMError):
    """One call failed after its bounded retries; `errors` lists what each attempt got."""

    def __init__(self, message: str, errors: list[str]):
        super().__init__(message)
        self.errors = errors


class BackendFault(Exception):
    """A request to a backend did not produce a completion."""


class TransientFault(BackendFault):
    """Worth retrying after a pause: timeout, 429, 5xx, dropped connection.

    `retry_after` is the pause in seconds the server asked for (HTTP Retry-After), if any.
    """

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class RequestRejected(BackendFault):
    """The backend refused this request for good (e.g. HTTP 400); other requests may still succeed."""


class BackendUnavailable(BackendFault):
    """The backend cannot serve any request (bad key, unknown model, missing file): stop the whole batch."""
