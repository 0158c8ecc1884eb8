"""Fine-tuning the embedded LLM on curated examples (issue 35): LoRA on the CPU, merged back into a GGUF file that
the embedded backend loads (`agenticrec llm finetune`)."""
