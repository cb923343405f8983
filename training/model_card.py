"""The ``README.md`` model card of an exported adapter, rendered from its registry record. Pure.

The card says what a reader needs to use and trust the adapter without codemill: the base model
to load it on, the Delta table versions and example counts it was trained on, its metrics, the
training configuration, the adapter it continued from, and what its license means.
"""

import json

from common.rows import ModelRecord

# Where a base's own license is known; any other base's license is for its user to check.
BASE_LICENSES = {
    "smollm2": "Apache-2.0 (HuggingFaceTB/SmolLM2-135M)",
    "tiny": "trained from scratch by codemill on your own code: yours",
}


def render_model_card(record: ModelRecord) -> str:
    """Markdown with a Hugging Face metadata header, for ``README.md`` beside the adapter."""
    base_license = BASE_LICENSES.get(record.base_model, "see the base model's own license")
    sections = [
        _front_matter(record),
        f"# codemill adapter {record.version}\n",
        f"A LoRA adapter fine-tuned by codemill on one team's code. Status in the registry when "
        f"exported: **{record.status}**"
        + (f" ({record.reason})" if record.reason else "")
        + f"; created {record.created_at.isoformat()}.\n",
        "## Base model\n",
        f"- name: `{record.base_model}`\n- weights: `{record.base_path}`\n",
        "## Usage\n",
        "```python\n"
        "from peft import PeftModel\n"
        "from transformers import AutoModelForCausalLM\n\n"
        f'base = AutoModelForCausalLM.from_pretrained("{record.base_path or record.base_model}")\n'
        'model = PeftModel.from_pretrained(base, "path/to/this/directory")\n'
        "```\n",
        "## Training data\n",
        _table(
            ("table", "Delta version", "examples"),
            [
                (name, str(record.data_versions.get(name, "")), str(record.examples.get(name, "")))
                for name in sorted(record.data_versions.keys() | record.examples.keys())
            ],
        ),
        "## Metrics\n",
        _table(("metric", "value"), [(k, f"{v:.4g}") for k, v in sorted(record.metrics.items())]),
        "## Training configuration\n",
        f"```json\n{_pretty_json(record.training_config)}\n```\n",
        "## Lineage\n",
        f"Continued from adapter `{record.parent_version}`.\n"
        if record.parent_version
        else "Trained from the base model (no parent adapter).\n",
        "## License\n",
        "The adapter's weights were learned from your team's source code and may reproduce parts "
        "of it: share them only where that code may go. The base weights stay under the base "
        f"model's license: {base_license}.\n",
    ]
    return "\n".join(sections)


def _front_matter(record: ModelRecord) -> str:
    lines = ["---", "library_name: peft", "tags:", "- codemill", "- lora"]
    lines.append(f"base_model: {json.dumps(record.base_model)}")
    lines.append(f"version: {json.dumps(record.version)}")
    return "\n".join([*lines, "---", ""])


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    if not rows:
        return "none recorded\n"
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True)
    except json.JSONDecodeError:  # recorded as given; the card shows it verbatim
        return text
