"""LoRA on the CPU: the base model read from its GGUF file (transformers dequantises it), the adapter trained on the
answers only, in curriculum order, with seeded shuffling, checkpoints and a resumable schedule."""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from agenticrec.errors import AgenticRecError
from agenticrec.finetune.config import FinetuneConfig
from agenticrec.finetune.examples import CURRICULUM, Example

IGNORE = -100  # label of a token the loss skips (the prompt, the padding)
CHECKPOINT = "checkpoint.pt"
Encoded = tuple[list[int], list[int]]
"""An example's token ids and its labels (`encode`)."""


def load_base(path: Path) -> tuple[Any, Any]:
    """The model and tokenizer of a GGUF file, as float32 PyTorch modules."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    return model, tokenizer


def prompt_ids(tokenizer: Any, example: Example) -> list[int]:
    text = tokenizer.apply_chat_template(
        [m.model_dump() for m in example.messages], add_generation_prompt=True, tokenize=False
    )
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def encode(tokenizer: Any, example: Example, max_tokens: int) -> Encoded:
    """Token ids of the chat with the answer as the assistant's turn, and labels that keep only the answer's."""
    messages = [m.model_dump() for m in example.messages] + [{"role": "assistant", "content": example.answer}]
    full = list(
        tokenizer(tokenizer.apply_chat_template(messages, tokenize=False), add_special_tokens=False)["input_ids"]
    )
    prompt = prompt_ids(tokenizer, example)
    if full[: len(prompt)] != prompt:
        raise ValueError("the chat template does not extend the prompt with the answer; cannot mask the prompt")
    answer = full[len(prompt) :]
    prompt = prompt[-max(max_tokens - len(answer), 1) :]
    return prompt + answer, [IGNORE] * len(prompt) + answer


def collate(encoded: list[Encoded], pad: int) -> dict[str, torch.Tensor]:
    width = max(len(ids) for ids, _ in encoded)
    ids = torch.full((len(encoded), width), pad)
    labels = torch.full((len(encoded), width), IGNORE)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, (tokens, targets) in enumerate(encoded):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        labels[row, : len(targets)] = torch.tensor(targets)
        mask[row, : len(tokens)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def micro_batches(batch: list[Encoded], tokens: int) -> list[list[Encoded]]:
    """``batch`` cut, in order, into runs whose padded size (rows x longest row) stays within ``tokens`` (a row
    longer than that goes alone)."""
    parts: list[list[Encoded]] = [[]]
    for row in batch:
        width = max([len(ids) for ids, _ in parts[-1]] + [len(row[0])])
        if parts[-1] and width * (len(parts[-1]) + 1) > tokens:
            parts.append([])
        parts[-1].append(row)
    return parts


def answer_tokens(batch: list[Encoded]) -> int:
    """Tokens the loss counts: labelled ones after the first position (the model predicts each from the last)."""
    return sum(sum(label != IGNORE for label in labels[1:]) for _, labels in batch)


def schedule(examples: list[Example], config: FinetuneConfig) -> list[list[int]]:
    """Batches of example indices for every epoch: tasks in curriculum order, each task's examples shuffled
    (seeded by epoch), so a rerun replays the same steps."""
    steps = []
    for epoch in range(config.epochs):
        rng = random.Random(config.seed * 1000 + epoch)
        for task in CURRICULUM:
            chosen = [i for i, e in enumerate(examples) if e.task == task]
            rng.shuffle(chosen)
            steps += [chosen[k : k + config.batch_size] for k in range(0, len(chosen), config.batch_size)]
    return steps


def bf16(config: FinetuneConfig) -> bool:
    """Whether training computes in bf16: asked for, or ``auto`` on a CPU with native bf16 instructions."""
    if config.precision != "auto":
        return config.precision == "bf16"
    supported = getattr(torch.cpu, "_is_avx512_bf16_supported", None)  # torch has no public check
    return bool(supported and supported())


def autocast(half: bool) -> torch.autocast:
    """The compute type of a forward pass: bf16 when ``half`` (`bf16`), else fp32."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=half)


def mean_loss(model: Any, encoded: list[Encoded], pad: int, batch_size: int, half: bool) -> float | None:
    """Answer-token loss averaged over examples (no gradient)."""
    if not encoded:
        return None
    training = model.training
    model.eval()
    losses = []
    with torch.no_grad(), autocast(half):
        for k in range(0, len(encoded), batch_size):
            chunk = encoded[k : k + batch_size]
            losses += [float(model(**collate(chunk, pad)).loss)] * len(chunk)
    model.train(training)
    return sum(losses) / len(losses)


def training_fingerprint(examples: list[Example], config: FinetuneConfig) -> str:
    """What a checkpoint's steps depend on: the training examples and every setting but threads, checkpointing and
    the micro-batch size."""
    settings = config.model_dump(exclude={"threads", "checkpoint_every", "micro_batch_tokens"})
    payload = json.dumps([settings, [e.model_dump() for e in examples]], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def saved_state(out: Path, train_set: list[Example], config: FinetuneConfig) -> dict[str, Any] | None:
    """The checkpoint in ``out`` to resume from (None if there is none); one trained on other examples or settings
    is refused."""
    checkpoint = out / CHECKPOINT
    if not checkpoint.is_file():
        return None
    state: dict[str, Any] = torch.load(checkpoint, weights_only=False)
    if state.get("fingerprint") != training_fingerprint(train_set, config):
        raise AgenticRecError(
            f"{checkpoint} was trained on other examples or settings; delete it or choose another --out"
        )
    return state


def train(
    model: Any,
    tokenizer: Any,
    train_set: list[Example],
    valid_set: list[Example],
    config: FinetuneConfig,
    out: Path,
    state: dict[str, Any] | None,
) -> tuple[Any, dict[str, Any]]:
    """The base model wrapped with a trained LoRA adapter, the losses and the training seconds; resumes from
    ``state`` (`saved_state`) and checkpoints to ``out/checkpoint.pt``. The validation loss before training and the
    seconds of earlier runs travel in the checkpoint, so a resumed run reports the whole training."""
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict

    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    adapter = LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                         target_modules=config.targets, task_type="CAUSAL_LM")  # fmt: skip
    model = get_peft_model(model, adapter)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    encoded = [encode(tokenizer, e, config.max_tokens) for e in train_set]
    valid = [encode(tokenizer, e, config.max_tokens) for e in valid_set]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    steps, done, losses = schedule(train_set, config), 0, []
    checkpoint, fingerprint = out / CHECKPOINT, training_fingerprint(train_set, config)
    half = bf16(config)
    started = time.perf_counter()
    if state is not None:
        set_peft_model_state_dict(model, state["adapter"])
        optimizer.load_state_dict(state["optimizer"])
        done, losses, valid_before = state["step"], state["losses"], state.get("valid_before")  # older: absent
        started -= state.get("seconds", 0.0)
        torch.set_rng_state(state["rng"])
    else:
        valid_before = mean_loss(model, valid, pad, config.batch_size, half)
    model.train()
    columns = [TextColumn("LoRA"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
               TimeRemainingColumn()]  # fmt: skip
    with Progress(*columns) as progress:
        bar = progress.add_task("train", total=len(steps), completed=done, loss="-")
        for step in range(done, len(steps)):
            batch = [encoded[i] for i in steps[step]]
            total, loss = answer_tokens(batch), 0.0
            for part in micro_batches(batch, config.micro_batch_tokens):  # the batch's mean token loss, in parts
                with autocast(half):
                    share = model(**collate(part, pad)).loss * (answer_tokens(part) / total)
                share.backward()
                loss += float(share.detach())
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss)
            progress.update(bar, advance=1, loss=f"{losses[-1]:.3f}")
            if (step + 1) % config.checkpoint_every == 0 or step + 1 == len(steps):
                state = {"adapter": get_peft_model_state_dict(model), "optimizer": optimizer.state_dict(),
                         "step": step + 1, "losses": losses, "rng": torch.get_rng_state(),
                         "valid_before": valid_before, "seconds": time.perf_counter() - started,
                         "fingerprint": fingerprint}  # fmt: skip
                torch.save(state, checkpoint.with_suffix(".tmp"))
                checkpoint.with_suffix(".tmp").replace(checkpoint)
    model.eval()
    return model, {
        "steps": len(steps),
        "resumed_at_step": done,
        "train_loss_first": losses[0] if losses else None,
        "train_loss_last": losses[-1] if losses else None,
        "valid_loss_before": valid_before,
        "valid_loss_after": mean_loss(model, valid, pad, config.batch_size, half),
        "precision": "bf16" if half else "fp32",
        "train_seconds": time.perf_counter() - started,
    }
