"""Config validation, backoff and rate-limit arithmetic (no wall-clock timing)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import yaml
from pydantic import ValidationError

from agenticrec.llm import LLMConfig, RetryConfig
from agenticrec.llm.ratelimit import _Bucket
from agenticrec.llm.retry import backoff_delay, parse_retry_after

YAML = """
backends:
  vllm: {kind: openai, base_url: "http://localhost:8000/v1", model: Qwen/Qwen2.5-7B-Instruct, api_key_env: VLLM_KEY}
roles:
  architect: {backend: vllm, temperature: 0.2, max_tokens: 2048}
retry: {max_attempts: 4}
"""


def test_yaml_config_keeps_the_embedded_default():
    cfg = LLMConfig.model_validate(yaml.safe_load(YAML))
    assert cfg.role("architect").backend == "vllm" and cfg.role("architect").max_tokens == 2048
    assert cfg.role("annotator").backend == "smollm2"
    assert cfg.backends["smollm2"].kind == "embedded" and cfg.backends["vllm"].api_key_env == "VLLM_KEY"


def test_config_rejects_unknown_fields_and_backends():
    with pytest.raises(ValidationError, match="not defined"):
        LLMConfig.model_validate({"roles": {"architect": {"backend": "nope"}}})
    with pytest.raises(ValidationError, match="Extra inputs"):
        LLMConfig.model_validate({"retries": 3})
    with pytest.raises(ValidationError):
        LLMConfig.model_validate({"backends": {"x": {"kind": "openai", "model": "m"}}})  # no base_url


def test_backoff_grows_is_jittered_bounded_and_honours_retry_after():
    cfg = RetryConfig(base_delay_s=1.0, max_delay_s=8.0)
    rng = random.Random(0)
    for retry, step in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [backoff_delay(cfg, retry, None, rng) for _ in range(200)]
        assert step / 2 <= min(delays) and max(delays) <= step
        assert len(set(delays)) > 100  # jittered
    assert backoff_delay(cfg, 1, 30.0, rng) == 30.0


def test_parse_retry_after_forms():
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 50 < parse_retry_after({"retry-after": soon}) <= 60
    assert parse_retry_after({}) is None and parse_retry_after({"retry-after": "soon"}) is None


def test_token_bucket_arithmetic():
    bucket = _Bucket(per_minute=60)
    assert bucket.wait_time(1) == 0.0
    bucket.take(60)
    assert bucket.wait_time(1) == pytest.approx(1.0, abs=0.05)
    assert bucket.wait_time(500) == pytest.approx(60.0, abs=0.5)  # capped at the bucket size
