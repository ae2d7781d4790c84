#!/usr/bin/env bash
# The CUDA columns of the matrix: run on a machine with a GPU, PyTorch and JAX (CUDA builds).
# Writes its results files to ${OUT:-docs/results}. Each run streams, so a run cut short keeps what it finished.
set -u
out=${OUT:-docs/results}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if ! python3 -c "import conformance.adapters" 2>/dev/null; then
  python3 -m pip install -q --no-deps --no-index --no-build-isolation --target /tmp/conformance-site . || exit 1
  export PYTHONPATH=/tmp/conformance-site
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
run() { (cd /tmp && timeout "$1" python3 -m conformance run "${@:2}" --quiet --timeout 120); }
# every dtype, eager, with gradients, on the GPU; a NaN probability trips a CUDA device-side assert in torch's
# BCE, which costs a worker restart per check: those cases run on their own, after the rest
run "${EAGER_SECONDS:-300}" --frameworks torch,jax --devices cuda --dtypes float16,bfloat16,float32,float64 \
    --grad --exclude 'nan-probability*' --out "$out/results-cuda-eager.jsonl"
run "${ASSERT_SECONDS:-60}" --frameworks torch --devices cuda --dtypes float32 --cases 'nan-probability*' \
    --out "$out/results-cuda-device-assert.jsonl"
# compiled modes (torch.compile, jax.jit) on the tutorial cases and the precision probes
run "${COMPILED_SECONDS:-150}" --frameworks torch,jax --devices cuda --modes compiled --grad \
    --cases 'tutorial*,near-zero*,extreme*,float16-saturation,cancelling*' --out "$out/results-cuda-compiled.jsonl"
# the language-model-scale case, on the GPU
run "${LARGE_SECONDS:-90}" --frameworks torch,jax --devices cuda --large --cases 'lm-*' \
    --dtypes float32,bfloat16 --out "$out/results-cuda-lm.jsonl"
ls -l "$out"
