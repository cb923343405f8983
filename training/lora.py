"""The LoRA adapter a run trains: new from the settings, or continued from the live model's.

Every linear layer gets low-rank weights (``lora_target_modules``, peft's ``all-linear`` by
default). The fill-in-the-middle tokens a base lacked were added with fresh embeddings, so their
rows of the embedding matrix train too (peft's ``trainable_token_indices``), and only those rows:
the adapter stays small.
"""

from collections.abc import Sequence
from pathlib import Path

from peft import LoraConfig, PeftModel, get_peft_model
from transformers import PreTrainedModel

from common.settings import TrainingSettings


def lora_config(training: TrainingSettings, token_ids: Sequence[int]) -> LoraConfig:
    named = training.lora_target_modules
    targets: str | list[str] = named
    if named != "all-linear":
        targets = [name.strip() for name in named.split(",") if name.strip()]
    return LoraConfig(
        r=training.lora_r,
        lora_alpha=training.lora_alpha,
        lora_dropout=training.lora_dropout,
        target_modules=targets,
        trainable_token_indices=list(token_ids) or None,
        task_type="CAUSAL_LM",
    )


def with_adapter(
    model: PreTrainedModel,
    training: TrainingSettings,
    token_ids: Sequence[int],
    parent: Path | None = None,
) -> PeftModel:
    """``model`` with a trainable adapter: ``parent``'s (an incremental run) or a new one."""
    if parent is not None:
        return PeftModel.from_pretrained(model, str(parent), is_trainable=True)
    return get_peft_model(model, lora_config(training, token_ids))
