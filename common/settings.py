"""The one settings object, read once at the edge (CLI, worker start) and passed down.

Environment variables use the ``CODEMILL_`` prefix; a section's fields are reached with one
underscore (``CODEMILL_KAFKA_BOOTSTRAP`` is ``kafka.bootstrap``). A ``codemill.toml`` in the
working directory may set the same keys, as ``[kafka] bootstrap = "…"`` or flat
``kafka_bootstrap = "…"``; the environment wins over the file.
"""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KafkaSettings(Section):
    bootstrap: str = Field("", description="bootstrap servers; empty starts the embedded broker")
    partitions: int = Field(4, ge=1, description="partitions of each topic codemill creates")
    replication: int = Field(1, ge=1, description="replication factor of the topics it creates")
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")

    def client_config(self) -> dict[str, str | int | float | bool]:
        """librdkafka settings for this cluster (bootstrap plus security)."""
        config: dict[str, str | int | float | bool] = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password.get_secret_value()
        return config


class LakeSettings(Section):
    uri: str = Field("", description="Delta root; empty means $CODEMILL_HOME/lake; s3://… in prod")
    storage_options: dict[str, str] = Field(default_factory=dict)
    batch_size: int = Field(5000, ge=1, description="sink micro-batch: at most this many records")
    batch_seconds: float = Field(0.5, gt=0, description="sink micro-batch: at most this long")
    compact_every_seconds: float = Field(300, gt=0, description="how often every table compacts")
    compact_every_writes: int = Field(50, ge=1, description="sink compacts a table this often")


class WebhookSettings(Section):
    secret: SecretStr | None = Field(None, description="GitHub HMAC secret / GitLab token")
    host: str = "0.0.0.0"
    port: int = 8080
    max_body_bytes: int = Field(25 * 1024 * 1024, ge=1024)
    delivery_cache: int = Field(10_000, ge=0, description="delivery ids remembered for dedup")


class GitSettings(Section):
    token: SecretStr | None = Field(None, description="token for https remotes")
    username: str = "x-access-token"
    max_file_bytes: int = Field(512 * 1024, ge=1)


class IngestSettings(Section):
    commits_per_event: int = Field(200, ge=1, description="backfill: commits in one push event")
    context_lines: int = Field(30, ge=0, description="lines before a symbol kept as its context")
    processes: int = Field(0, ge=0, description="extraction processes per worker; 0 = one a core")
    augment_fraction: float = Field(
        0.2, ge=0, le=1, description="share of snippets given augmented variants (rename, …)"
    )
    error_fix_fraction: float = Field(
        0.2, ge=0, le=1, description="share of snippets given an injected error (error_fix)"
    )
    min_snippet_chars: int = Field(16, ge=1, description="shorter snippets are not stored")
    max_snippet_chars: int = Field(20_000, ge=1, description="longer snippets are not stored")
    max_snippet_lines: int = Field(500, ge=1, description="longer snippets are not stored")
    anonymize: list[str] = Field(
        default_factory=list,
        description="identifiers (people, hosts) replaced by stable pseudonyms in every row",
    )


class WorkerSettings(Section):
    host: str = Field("127.0.0.1", description="Faust worker web host; 0.0.0.0 in a cluster")
    port: int = Field(6066, description="Faust worker web port (metrics, health)")
    session_timeout: float = Field(
        15.0, gt=0, description="seconds before a dead worker's partitions move to another"
    )


class TrainingSettings(Section):
    """The product document's ``TrainingConfig`` plus LoRA, data mix and blessing settings."""

    epochs: float = Field(1.0, gt=0, description="passes over the training mix")
    batch_size: int = Field(8, ge=1, description="sequences per optimizer step (per worker)")
    learning_rate: float = Field(2e-4, gt=0)
    warmup_steps: int = Field(10, ge=0)
    evaluation_strategy: Literal["steps", "epoch"] = "epoch"
    eval_steps: int = Field(200, ge=1, description="with evaluation_strategy=steps")
    save_strategy: Literal["steps", "epoch", "best"] = "steps"
    save_steps: int = Field(100, ge=1, description="a checkpoint every this many steps")
    max_grad_norm: float = Field(1.0, gt=0)
    fp16: bool = Field(
        True,
        description="mixed precision where the hardware has it: bfloat16 on GPUs and on CPUs "
        "that multiply it natively (AVX512-BF16, AMX), float16 on older GPUs",
    )
    max_seq_len: int = Field(512, ge=16, description="tokens per training sequence")
    max_steps: int = Field(0, ge=0, description="stop after this many steps; 0 = by epochs")
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="peft's default; 0.05 costs a third of SmolLM2's CPU speed (a dropout copy "
        "of every adapted layer's input)",
    )
    lora_target_modules: str = Field("all-linear", description="peft target_modules")
    num_workers: int = Field(1, ge=1, description="Ray Train workers")
    use_gpu: bool = Field(False, description="train on GPUs (nccl) instead of CPUs (gloo)")
    cpus_per_worker: int = Field(0, ge=0, description="0 = every CPU Ray has, over the workers")
    tables: list[str] = Field(
        default_factory=lambda: ["completion", "refactoring", "naming", "error_fix", "feedback"],
        description="tables the training mix draws from",
    )
    max_examples: int = Field(10_000, ge=1, description="the mix is capped at this many")
    min_examples: int = Field(32, ge=1, description="fewer than this refuses to train")
    holdout_fraction: float = Field(
        0.1, gt=0, lt=1, description="the most recent commits' share held out for evaluation"
    )
    replay_ratio: float = Field(
        0.5, ge=0, description="incremental: older rows replayed per new row, against forgetting"
    )
    feedback_weight: float = Field(
        3.0, ge=0, description="loss weight of a developer's correction (a dataset row's is 1)"
    )
    eval_examples: int = Field(200, ge=1, description="held-out examples an evaluation uses")
    eval_generations: int = Field(
        32, ge=1, description="of those, how many are completed by generation (slow on a CPU)"
    )
    bless_min_delta: float = Field(
        0.0, description="a candidate must beat the live model's accuracy by this much"
    )
    bless_max_perplexity_ratio: float = Field(
        1.0, gt=0, description="its perplexity may be at most this times the live model's"
    )
    seed: int = 0


class ServingSettings(Section):
    host: str = Field("127.0.0.1", description="the inference API's address; 0.0.0.0 in a cluster")
    port: int = Field(8000, description="the inference API's port (Ray Serve's HTTP proxy)")
    max_batch_size: int = Field(16, ge=1, description="requests a replica completes together")
    batch_wait_ms: float = Field(
        0.0, ge=0, description="how long a batch waits to fill (0: it takes what is queued)"
    )
    max_tokens: int = Field(256, ge=1, description="the largest max_tokens a request may ask")
    max_prompt_chars: int = Field(32_000, ge=1, description="larger prompts are refused (413)")
    quantize: bool = Field(
        False, description="transformers engine: int8 dynamic quantization on CPUs (fast, lossy)"
    )
    cuda_graphs: bool = Field(
        True, description="transformers engine on GPUs: decode each token as a CUDA graph replay"
    )
    cache_size: int = Field(
        4096, ge=0, description="greedy completions kept per router (0: no cache)"
    )
    feedback: bool = Field(
        True, description="collect developers' feedback (off: /v1/feedback stores nothing)"
    )
    remembered_completions: int = Field(
        100_000, ge=1, description="recent completions kept to tie feedback to its version"
    )
    engine: Literal["auto", "transformers", "llamacpp"] = Field(
        "auto", description="inference engine; auto: llama.cpp on CPUs, transformers on GPUs"
    )
    weight_type: Literal["auto", "bf16", "q8_0", "f16"] = Field(
        "auto", description="llama.cpp weights; auto: bf16 where the CPU has it, else q8_0"
    )
    rate_limit: float = Field(
        20.0, ge=0, description="completions a second per API key (0: no limit); over it, 429"
    )
    rate_burst: int = Field(40, ge=1, description="completions a key may send at once")
    max_in_flight: int = Field(
        256, ge=1, description="requests a router replica takes at once; over it, 429"
    )
    routers: int = Field(
        1, ge=1, description="router replicas (HTTP ingress); the rate limit is shared among them"
    )
    replicas: int = Field(1, ge=1, description="model replicas per version at start")
    max_replicas: int = Field(1, ge=1, description="autoscaling: most replicas per version")
    target_ongoing_requests: float = Field(
        8.0, gt=0, description="autoscaling: requests per replica Serve aims for"
    )
    cpus_per_replica: float = Field(1.0, gt=0, description="Ray CPUs a model replica takes")
    gpus_per_replica: float = Field(0.0, ge=0, description="Ray GPUs a model replica takes")
    threads: int = Field(0, ge=0, description="threads a model replica uses; 0: its CPUs")


class RolloutSettings(Section):
    """The rollout controller's thresholds (see :mod:`serving.rollout`)."""

    canary_weight: float = Field(
        0.1, gt=0, le=1, description="first weight of a canary (codemill deploy --weight)"
    )
    steps: list[float] = Field(
        default_factory=lambda: [0.1, 0.25, 0.5, 1.0], description="canary weights, 1.0 = promoted"
    )
    max_error_rate: float = Field(0.05, ge=0, le=1)
    max_p95_latency_ms: float = Field(1000.0, gt=0)
    acceptance_margin: float = Field(0.05, ge=0, le=1)
    min_requests_per_step: int = Field(30, ge=1)
    min_feedback: int = Field(20, ge=1)
    interval_s: float = Field(1.0, gt=0, description="how often the controller judges")
    auto_canary: bool = Field(
        True, description="serving rolls a newly blessed version out as a canary by itself"
    )
    watch_s: float = Field(10.0, gt=0, description="how often serving looks for blessed versions")


class DriftSettings(Section):
    """The drift monitor and the retraining controller (see :mod:`training.monitor`)."""

    interval_s: float = Field(60.0, gt=0, description="how often the loop worker checks drift")
    window: int = Field(
        5000, ge=10, description="rows per window (newest of the reference and of the current)"
    )
    min_rows: int = Field(50, ge=1, description="fewer new rows than this: no verdict yet")
    num_threshold: float = Field(
        0.1, gt=0, description="normed Wasserstein distance above which a number drifted"
    )
    cat_threshold: float = Field(
        0.1, gt=0, description="Jensen-Shannon distance above which a category mix drifted"
    )
    share: float = Field(
        0.3, gt=0, le=1, description="share of drifted features that makes a kind drift"
    )
    acceptance_drop: float = Field(
        0.15, gt=0, le=1, description="fall in acceptance (or rise in corrections) that drifts"
    )
    min_feedback: int = Field(20, ge=1, description="feedback rows each window needs")
    webhook_url: str = Field("", description="Slack-compatible URL alerts are POSTed to")
    report_url: str = Field(
        "", description="base URL the alert links reports under (default: file path)"
    )
    alert_cooldown_s: float = Field(
        3600.0, ge=0, description="the same alert is sent again only after this long"
    )
    retrain: bool = Field(True, description="the loop worker retrains by itself")
    retrain_cooldown_s: float = Field(
        1800.0, ge=0, description="least time between two unattended retrains"
    )
    debounce_s: float = Field(
        30.0, ge=0, description="a trigger must hold this long before a retrain starts"
    )
    volume_rows: int = Field(
        5000, ge=1, description="retrain once this many rows came since the live model's data"
    )
    schedule_s: float = Field(
        0.0, ge=0, description="retrain at least this often when new rows came (0: never)"
    )
    port: int = Field(6067, description="the loop worker's web port (metrics, health)")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CODEMILL_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        toml_file="codemill.toml",
        extra="forbid",
    )

    home: Path = Path(".codemill")
    log_level: str = Field("warn", pattern="^(debug|info|warn|error|crit)$")
    allow_unsigned: bool = False
    api_keys: str = ""
    base_model: str = "smollm2"
    ray_address: str = ""
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    lake: LakeSettings = Field(default_factory=LakeSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    git: GitSettings = Field(default_factory=GitSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)

    @field_validator("home")
    @classmethod
    def _absolute(cls, home: Path) -> Path:
        """Absolute, so that every path made from it means the same in Ray's workers and
        replicas, which run in other working directories."""
        return home.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FlatTomlSource(settings_cls))

    def with_bootstrap(self, bootstrap: str) -> "Settings":
        """The same settings pointed at another Kafka (the embedded broker, a running stack)."""
        return self.model_copy(
            update={"kafka": self.kafka.model_copy(update={"bootstrap": bootstrap})}
        )

    @property
    def lake_uri(self) -> str:
        return self.lake.uri or str((self.home / "lake").resolve())

    def table_uri(self, table: str) -> str:
        return f"{self.lake_uri.rstrip('/')}/{table}"

    @property
    def mirrors_dir(self) -> Path:
        return self.home / "mirrors"

    @property
    def models_dir(self) -> Path:
        """Base models (``base/<name>``), adapters (``adapters/<version>``), run state."""
        return self.home / "models"


class _FlatTomlSource(TomlConfigSettingsSource):
    """``codemill.toml``, where ``kafka_bootstrap = …`` means ``[kafka] bootstrap = …``."""

    def __call__(self) -> dict[str, Any]:
        data = dict(super().__call__())
        sections = {
            name
            for name, info in Settings.model_fields.items()
            if isinstance(info.annotation, type) and issubclass(info.annotation, Section)
        }
        for key in list(data):
            head, _, rest = key.partition("_")
            if key not in Settings.model_fields and head in sections and rest:
                data.setdefault(head, {})[rest] = data.pop(key)
        return data
