"""Fine-tuning the embedded SmolLM2 on the CPU: examples and their item splits, then a few LoRA steps, the merged
GGUF checked against PyTorch's logits, loaded by the embedded backend, and a rerun that resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from agenticrec.errors import AgenticRecError, DataError
from agenticrec.finetune.config import FinetuneConfig
from agenticrec.finetune.examples import Example, in_curriculum, read_examples, split_by_item
from agenticrec.finetune.lora import CHECKPOINT
from agenticrec.finetune.run import MODEL, run_finetune
from agenticrec.llm import LLMClient, LLMConfig
from agenticrec.llm.backends.embedded import default_model_path

pytest.importorskip("peft")
pytest.importorskip("gguf")

SHADES = ["ruby", "coral", "plum", "rose", "berry", "brick", "wine", "peach", "nude", "cherry", "mauve", "scarlet"]


CATEGORIES = ["Makeup", "Hair Care", "Skin Care"]


def example(k: int) -> dict:
    shade = SHADES[k % len(SHADES)]
    question = f"Item: {shade} matte lipstick no. {k}. Which category fits it: Makeup, Hair Care or Skin Care?"
    return {"task": "choice", "item": f"lip-{k}", "messages": [{"role": "user", "content": question}],
            "options": CATEGORIES, "answer": "Makeup"}  # fmt: skip


def naming(k: int) -> dict:
    name = json.dumps({"name": f"Matte Lipsticks {k}", "description": "Long-wearing lipsticks with a matte finish"})
    return {"task": "naming", "item": f"group-{k}", "messages": [{"role": "user", "content": "Name the group."}],
            "answer": name}  # fmt: skip


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_examples_are_validated_and_split_by_item(tmp_path: Path) -> None:
    rows = [example(k) for k in range(40)] + [naming(k) for k in range(40)]
    examples = read_examples(write(tmp_path / "ok.jsonl", rows))
    splits = split_by_item(examples, valid=0.2, test=0.2)
    items = {name: {e.item for e in split} for name, split in splits.items()}
    assert sum(len(s) for s in splits.values()) == 80 and all(items.values())
    assert not (items["train"] & items["valid"] or items["train"] & items["test"] or items["valid"] & items["test"])
    assert [e.task for e in in_curriculum([Example.model_validate(r) for r in rows[::-1]])][:40] == ["choice"] * 40
    with pytest.raises(DataError, match=r"bad\.jsonl:2: not an example"):
        read_examples(write(tmp_path / "bad.jsonl", [example(0), {"task": "choice", "item": "x"}]))
    with pytest.raises(DataError, match="no examples"):
        read_examples(write(tmp_path / "empty.jsonl", []))


def test_examples_that_fail_their_task_checks_are_refused_with_counts_per_reason(tmp_path: Path) -> None:
    rows = [
        example(0),
        example(1) | {"answer": "Fragrance"},
        example(2) | {"answer": "Perfume"},
        example(3) | {"options": None},
        naming(4) | {"answer": "Matte Lipsticks"},
        example(5) | {"messages": [{"role": "user", "content": "?"}, {"role": "assistant", "content": "Makeup"}]},
    ]
    with pytest.raises(DataError) as refused:
        read_examples(write(tmp_path / "curated.jsonl", rows))
    assert str(refused.value) == (
        f"{tmp_path / 'curated.jsonl'}: 5 of 6 examples fail the checks (the answer is not one of the options: 3; "
        "the answer is not a descriptor with a name: 1; the chat does not end with the user's turn: 1)"
    )


def test_a_task_with_too_few_training_examples_stops_the_run(tmp_path: Path) -> None:
    data = write(tmp_path / "examples.jsonl", [example(k) for k in range(30)] + [naming(k) for k in range(3)])
    config = FinetuneConfig(valid_share=0.0, test_share=0.0, min_examples_per_task=10)
    with pytest.raises(DataError, match=r"too few training examples per task \(naming 3; at least 10"):
        run_finetune(data, tmp_path / "tuned", default_model_path(), config)
    assert not (tmp_path / "tuned").exists()


@pytest.mark.slow
def test_lora_steps_merge_into_a_gguf_the_engine_loads(tmp_path: Path) -> None:
    data = write(tmp_path / "examples.jsonl", [example(k) for k in range(24)])
    config = FinetuneConfig(rank=2, alpha=4, targets=["q_proj", "v_proj"], lr=3e-3, epochs=1, batch_size=4,
                            valid_share=0.2, test_share=0.2, threads=2, min_examples_per_task=8,
                            precision="bf16")  # fmt: skip
    out = tmp_path / "tuned"
    summary = run_finetune(data, out, default_model_path(), config)
    assert summary["precision"] == "bf16"  # trained under bf16 autocast; the adapter and the merge stay fp32
    assert summary["layers_replaced"] == 2 * 30  # q and v of SmolLM2's 30 blocks
    assert summary["train_loss_last"] < summary["train_loss_first"]
    assert summary["valid_loss_after"] < summary["valid_loss_before"]
    gap, base_gap = summary["logit_gap"], summary["base_logit_gap"]
    assert gap["top1_agreement"] >= 0.9 and gap["mean_abs"] <= 2 * base_gap["mean_abs"]
    assert sum(summary["examples"].values()) == 24 and (out / "test.jsonl").is_file()

    llm = LLMConfig.model_validate({"backends": {"smollm2": {"kind": "embedded", "model_path": str(out / MODEL)}},
                                    "progress": False})  # fmt: skip
    with LLMClient(llm) as client:
        picks = client.choose("annotator", [example(99)["messages"]], [["Makeup", "Hair Care", "Skin Care"]])
    assert picks[0].index == 0

    again = run_finetune(data, out, default_model_path(), config)  # the checkpoint holds every step
    assert again["resumed_at_step"] == again["steps"] == summary["steps"]
    assert again["valid_loss_before"] == summary["valid_loss_before"]  # carried by the checkpoint
    carried = torch.load(out / CHECKPOINT, weights_only=False)["seconds"]  # the first run's training
    assert carried < again["train_seconds"] < again["seconds"]
    with pytest.raises(AgenticRecError, match="other examples or settings"):
        run_finetune(data, out, default_model_path(), config.model_copy(update={"rank": 4}))


def test_a_long_batch_is_split_into_micro_batches_with_the_same_loss_and_gradient() -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    from agenticrec.finetune.lora import IGNORE, answer_tokens, collate, micro_batches

    rows = [([5 + k] * (6 + 3 * k), [IGNORE] * (4 + 2 * k) + [7 + k] * (2 + k)) for k in range(4)]
    parts = micro_batches(rows, tokens=29)
    assert [len(p) for p in parts] == [2, 1, 1] and [r for p in parts for r in p] == rows  # 2 x 9 ≤ 29 < 3 x 12

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2))  # fmt: skip
    model(**collate(rows, pad=0)).loss.backward()
    whole = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    for part in parts:
        (model(**collate(part, pad=0)).loss * (answer_tokens(part) / answer_tokens(rows))).backward()
    for full, summed in zip(whole, (p.grad for p in model.parameters())):
        assert torch.allclose(full, summed, atol=1e-6)
