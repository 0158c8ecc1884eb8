"""A local OpenAI-compatible chat server that injects faults, for tests and benchmarks.

It answers `POST /v1/chat/completions` and `GET /v1/models` on 127.0.0.1. A request is identified by
its first user message; the answer is a deterministic function of that message (`echo_answer`), so a run
with faults must end with exactly the answers of a run without. `FaultPlan` decides, per request
identity, which faults its first attempts meet: HTTP 500/503, 429 with Retry-After, connection reset,
an answer slower than the client's timeout, invalid JSON, JSON cut off at max_tokens, and JSON that
violates the schema. Each identity meets at most `max_per_request` faults, so bounded retries always
get through, and the server refuses work beyond `max_requests`, so a client that retries without bound
fails fast instead of looping.

Run standalone (prints its URL, serves until killed):
    python -m agenticrec.testing.fake_server --latency 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FAULT_KINDS = (
    "http_500",
    "http_503",
    "http_429",
    "reset",
    "slow",
    "invalid_json",
    "truncated_json",
    "schema_violation",
)
_IDLE_TIMEOUT_S = 60.0
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def first_user_message(body: dict[str, Any]) -> str:
    return next((m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"), "")


def echo_answer(body: dict[str, Any]) -> str:
    """The fault-free answer: echoes the first user message and labels its length even or odd."""
    text = first_user_message(body)
    return json.dumps({"echo": text, "label": "even" if len(text) % 2 == 0 else "odd"})


@dataclass(frozen=True)
class FaultPlan:
    """Which faults the first attempts of each request identity meet."""

    share: float = 0.0  # share of request identities that meet faults
    max_per_request: int = 2
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    slow_s: float = 2.0  # how long a "slow" answer takes
    retry_after_s: int = 1  # Retry-After sent with 429

    def faults_for(self, ident: str) -> list[str]:
        digest = hashlib.sha256(f"{self.seed}|{ident}".encode()).digest()
        if int.from_bytes(digest[:4], "big") / 2**32 >= self.share:
            return []
        count = 1 + digest[4] % self.max_per_request
        return [self.kinds[digest[5 + i] % len(self.kinds)] for i in range(count)]


class FakeLLMServer:
    """The server; `start()` runs it in a background thread, `serve()` in the current event loop."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        faults: FaultPlan = FaultPlan(),
        reject_json_schema: bool = False,
        api_key: str | None = None,
        leak_auth: bool = False,
        model: str = "fake-model",
        max_requests: int = 100_000,
        answer: Callable[[dict[str, Any]], str] = echo_answer,
    ):
        self.latency_s = latency_s
        self.faults = faults
        self.reject_json_schema = reject_json_schema
        self.api_key = api_key
        self.leak_auth = leak_auth  # echo the Authorization header in error bodies, like a careless server
        self.model = model
        self.max_requests = max_requests
        self.answer = answer
        self.requests = 0
        self.attempts: Counter[str] = Counter()  # chat requests per identity
        self.served: Counter[str] = Counter()  # fault-free answers delivered per identity
        self.injected: Counter[str] = Counter()  # faults per kind
        self.response_formats: Counter[str] = Counter()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def open(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve(self, port: int = 0) -> None:
        await self.open(port)
        print(f"ready {self.url}", flush=True)
        assert self._server is not None
        await self._server.serve_forever()

    def start(self) -> FakeLLMServer:
        loop = self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.open())
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-llm-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._conns):
                task.cancel()
            await asyncio.gather(*self._conns, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- HTTP ------------------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IDLE_TIMEOUT_S)
                line, *lines = head.decode("latin-1").split("\r\n")
                method, target, _ = line.split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in lines if ":" in h)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if not await self._route(method, target.split("?")[0], headers, body, writer):
                    return
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return
        except asyncio.CancelledError:  # server shutdown; end quietly so asyncio logs no error
            return
        finally:
            self._conns.discard(task)
            if not writer.is_closing():
                writer.close()

    async def _send(
        self, writer: asyncio.StreamWriter, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        head = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
            "Content-Type: application/json",
            f"Content-Length: {len(data)}",
            "Connection: keep-alive",
        ]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()

    def _error(self, message: str, headers: dict[str, str]) -> dict[str, Any]:
        if self.leak_auth:
            message += f" (request had Authorization: {headers.get('authorization')})"
        return {"error": {"message": message, "type": "server_error"}}

    async def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False closes the connection."""
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            await self._send(writer, 401, self._error("invalid API key", headers))
            return True
        if method == "GET" and path.endswith("/models"):
            await self._send(
                writer,
                200,
                {
                    "object": "list",
                    "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "agenticrec"}],
                },
            )
            return True
        if method == "POST" and path.endswith("/chat/completions"):
            return await self._chat(json.loads(body or b"{}"), headers, writer)
        await self._send(writer, 404, self._error(f"no route {method} {path}", headers))
        return True

    async def _chat(self, body: dict[str, Any], headers: dict[str, str], writer: asyncio.StreamWriter) -> bool:
        self.requests += 1
        if self.requests > self.max_requests:
            await self._send(writer, 400, self._error("request budget of the test server exhausted", headers))
            return True
        fmt = (body.get("response_format") or {}).get("type", "text")
        self.response_formats[fmt] += 1
        if self.reject_json_schema and fmt == "json_schema":
            await self._send(writer, 400, self._error("response_format type json_schema is not supported", headers))
            return True
        ident = first_user_message(body)
        attempt = self.attempts[ident]
        self.attempts[ident] += 1
        plan = self.faults.faults_for(ident)
        fault = plan[attempt] if attempt < len(plan) else None
        if fault:
            self.injected[fault] += 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if fault in ("http_500", "http_503"):
            await self._send(writer, int(fault[-3:]), self._error("injected server error", headers))
            return True
        if fault == "http_429":
            await self._send(
                writer, 429, self._error("rate limited", headers), {"Retry-After": str(self.faults.retry_after_s)}
            )
            return True
        if fault == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if fault == "slow":
            await asyncio.sleep(self.faults.slow_s)
        answer = self.answer(body)
        content, finish = answer, "stop"
        if fault == "invalid_json":
            content = "Sure! Here it is: " + answer[: len(answer) // 2]
        elif fault == "truncated_json":
            content, finish = answer[: len(answer) // 2], "length"
        elif fault == "schema_violation":
            content = json.dumps({**json.loads(answer), "label": "maybe"})
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        await self._send(
            writer,
            200,
            {
                "id": f"chatcmpl-{self.requests}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(content.split()),
                    "total_tokens": prompt_tokens + len(content.split()),
                },
            },
        )
        if fault is None:
            self.served[ident] += 1
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each chat answer")
    parser.add_argument("--fault-share", type=float, default=0.0, help="share of requests that meet faults")
    args = parser.parse_args()
    server = FakeLLMServer(latency_s=args.latency, faults=FaultPlan(share=args.fault_share))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(args.port))


if __name__ == "__main__":
    main()
