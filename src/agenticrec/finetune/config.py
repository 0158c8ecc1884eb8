"""Settings of `agenticrec llm finetune`: the LoRA adapter, the training schedule, the splits and the export."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LLAMA_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class FinetuneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: int = Field(8, ge=1, description="LoRA rank")
    alpha: int = Field(16, ge=1, description="LoRA scale numerator (scale = alpha / rank)")
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    targets: list[str] = Field(default_factory=lambda: list(LLAMA_LINEAR), description="linear layers LoRA adapts")
    lr: float = Field(5e-4, gt=0.0)
    epochs: int = Field(2, ge=1)
    batch_size: int = Field(8, ge=1)
    max_tokens: int = Field(
        1024, ge=16, description="an example's prompt is cut from the left to fit (the ranker's 20+1 takes about 800)"
    )
    micro_batch_tokens: int = Field(
        2048,
        ge=16,
        description="padded tokens per forward pass: a longer batch is split and its gradients summed "
        "(the same step, less memory: 8 rankings of 1,000 tokens in one pass took 24 GB)",
    )
    valid_share: float = Field(0.1, ge=0.0, lt=1.0, description="share of items held out for validation loss")
    test_share: float = Field(0.1, ge=0.0, lt=1.0, description="share of items held out for evaluation")
    min_examples_per_task: int = Field(
        20, ge=1, description="a task with fewer training examples than this stops the run (too few to learn from)"
    )
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="compute type of training: bf16 autocast halves the time where the CPU has bf16 instructions "
        "(AVX512-BF16, AMX), fp32 elsewhere; the adapter's weights and the merge stay fp32",
    )
    seed: int = 0
    threads: int | None = Field(None, ge=1, description="torch CPU threads; default all cores")
    checkpoint_every: int = Field(50, ge=1, description="steps between checkpoints (a rerun resumes from the last)")
    out_type: Literal["f16", "f32"] = Field("f16", description="type of the merged layers in the written GGUF")
