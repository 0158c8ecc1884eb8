"""The local inference engine: llama.cpp's own server (the prebuilt `xllamacpp` wheel) in a child process.

It serves several requests at once: parallel slots decoded together by continuous batching, a per-slot prompt
cache (a request re-evaluates only the tokens after the prefix it shares with the slot's previous prompt), a
host-memory prompt cache that restores a recent prompt's prefix into any slot, and JSON-schema output compiled
to a grammar inside the server. The embedded backend starts it with its first request and stops it on close;
it speaks the OpenAI-compatible chat API on a loopback port.

The child runs as ``python -m agenticrec.llm.engine --model M.gguf --port P ...``, prints ``ready`` once the
model is loaded and the port is listening, and exits when its standard input closes, so it never outlives
the process that started it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from agenticrec.llm.errors import LLMError

HOST = "127.0.0.1"
READY = "ready"
_START_TIMEOUT_S = 300.0
SPIN_COUNT = "10000"
"""OpenMP threads spin this long before they sleep: between the many small operations of one token that doubles
decoding speed on 2 cores (Qwen-1.5B 14 -> 20 tokens/s, SmolLM2 37 -> 100) against sleeping at once
(OMP_WAIT_POLICY=PASSIVE), and unlike unbounded spinning it gives the cores back within microseconds when the
engine waits. The environment's own OMP settings win."""
_LOG_TAIL_CHARS = 1500


@dataclass(frozen=True)
class EngineSettings:
    """What the engine process is started with."""

    model: Path
    slots: int
    ctx_per_slot: int
    threads: int
    batch: int
    port: int = 0  # 0: any free loopback port
    cache_mib: int = 1024

    def argv(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "agenticrec.llm.engine",
            f"--model={self.model}",
            f"--port={port}",
            f"--slots={self.slots}",
            f"--ctx-per-slot={self.ctx_per_slot}",
            f"--threads={self.threads}",
            f"--batch={self.batch}",
            f"--cache-mib={self.cache_mib}",
        ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def check_port(port: int) -> None:
    """Raise `LLMError` naming `port` when something on this machine already listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError as err:
            raise LLMError(
                f"the LLM engine cannot listen on {HOST}:{port}: the port is taken ({err.strerror})"
            ) from None


def available_memory_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (None where there is no such file)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(model: Path) -> None:
    """Refuse a GGUF larger than the memory available now (the weights are read whole into memory)."""
    free = available_memory_bytes()
    size = model.stat().st_size
    if free is not None and size > free:
        raise LLMError(
            f"the LLM engine cannot load {model}: the file is {size / 2**30:.1f} GiB and only "
            f"{free / 2**30:.1f} GiB of memory is available"
        )


class Engine:
    """One engine process: `start` blocks until it serves, `stop` ends it; `restart` replaces a dead one."""

    def __init__(self, name: str, settings: EngineSettings):
        self.name = name
        self.settings = settings
        self.port = 0
        self.restarts = 0
        self._proc: subprocess.Popen[str] | None = None
        self._log: tempfile._TemporaryFileWrapper[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if not self.settings.model.is_file():
            raise LLMError(f"LLM backend {self.name!r}: model file not found: {self.settings.model}")
        check_memory(self.settings.model)
        if self.settings.port:
            check_port(self.settings.port)
        self.port = self.settings.port or free_port()
        if self._log is not None:
            self._log.close()  # a restarted engine writes a fresh log
        self._log = tempfile.NamedTemporaryFile("w+", prefix="agenticrec-engine-", suffix=".log")  # noqa: SIM115
        env = {"GOMP_SPINCOUNT": SPIN_COUNT, **os.environ}
        self._proc = subprocess.Popen(
            self.settings.argv(self.port),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(_START_TIMEOUT_S)
        if line and line[0].strip() == READY:
            return
        self.stop()
        raise LLMError(
            f"LLM backend {self.name!r}: the engine did not start with {self.settings.model} on "
            f"{HOST}:{self.port}: {self.log_tail() or 'no output'}"
        )

    def restart(self) -> None:
        """Start a fresh process after this one died (on a new port if the old one was chosen freely)."""
        self.stop()
        self.restarts += 1
        self.start()

    def log_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        text = self._log.read()
        interesting = [ln for ln in text.splitlines() if any(w in ln.lower() for w in ("error", "fail", "unable"))]
        return ("\n".join(interesting) or text)[-_LOG_TAIL_CHARS:].strip()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()  # the child exits when its stdin closes
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()

    def close(self) -> None:
        """Stop the process and drop its log."""
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None


def serve(args: argparse.Namespace) -> None:
    """Load the model into llama.cpp's server, listen on the port, and block until stdin closes."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {Path(args.model).name}  # the name the backend records in the ledger
    params.n_parallel = args.slots
    params.n_ctx = args.slots * args.ctx_per_slot
    params.kv_unified = True  # one KV buffer shared by the slots: a long prompt may use what others leave free
    params.cont_batching = True
    params.cache_prompt = True
    params.cache_ram_mib = args.cache_mib
    params.n_batch = params.n_ubatch = args.batch
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = args.threads
    params.port = args.port
    params.endpoint_metrics = True
    params.verbosity = 2  # warnings and errors: llama.cpp's per-request timing lines would grow the log ~1 KB a call
    server = xllamacpp.Server(params)
    print(READY, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.stdin.close())
    sys.stdin.read()
    del server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slots", type=int, default=1)
    parser.add_argument("--ctx-per-slot", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--cache-mib", type=int, default=1024)
    serve(parser.parse_args(argv))


if __name__ == "__main__":
    main()
