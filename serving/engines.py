"""Which engine serves a version: llama.cpp on CPUs (the merged model converted once to GGUF),
``transformers`` on GPUs and for any model llama.cpp cannot take (``CODEMILL_SERVING_ENGINE``:
auto, transformers, llamacpp)."""

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from common.settings import Settings
from serving.requests import Engine

if TYPE_CHECKING:
    from serving.gguf import WeightType

log = logging.getLogger("ray.serve")


def load_engine(version: str, base: str, adapter: Path | None, settings: Settings) -> Engine:
    """The engine answering for ``version`` (its ``base`` with ``adapter`` merged)."""
    import torch  # here: the router, which imports the serving package, never loads a model

    chosen = settings.serving.engine
    if chosen == "auto":
        chosen = "transformers" if torch.cuda.is_available() else "llamacpp"
    if chosen == "llamacpp":
        try:
            # llama.cpp's threads spin while they wait: on a busy node they would starve the
            # other replicas (measured: 4 ms became 6.8 s beside another busy process).
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from serving.llamacpp import LlamaCppEngine

            return LlamaCppEngine.load(
                base,
                version,
                adapter,
                cache_dir=settings.models_dir.resolve() / "gguf",
                threads=replica_threads(settings),
                weight_type=weight_type(settings),
                max_tokens=settings.serving.max_tokens,
            )
        except Exception as error:
            if settings.serving.engine == "llamacpp":
                raise
            log.warning("llama.cpp cannot serve %s (%s): transformers serves it", version, error)
    from serving.engine import TransformersEngine

    serving = settings.serving
    return TransformersEngine.load(
        base,
        version,
        adapter,
        quantize=serving.quantize,
        cuda_graphs=serving.cuda_graphs,
        max_batch_size=serving.max_batch_size,
        gpu_share=serving.gpus_per_replica or 1.0,
    )


def replica_threads(settings: Settings) -> int:
    """Threads a model replica computes with: ``CODEMILL_SERVING_THREADS``, else its CPUs, so
    that a stable version and its canary on one node do not fight over the same cores."""
    return settings.serving.threads or max(1, int(settings.serving.cpus_per_replica))


def weight_type(settings: Settings) -> "WeightType":
    """bfloat16 where the CPU multiplies it (99 % next-token agreement with float32 on SmolLM2),
    else 8-bit (95 %), unless ``CODEMILL_SERVING_WEIGHT_TYPE`` says."""
    if settings.serving.weight_type != "auto":
        return settings.serving.weight_type
    from training.tiny import native_bf16

    return "bf16" if native_bf16() else "q8_0"
