#!/usr/bin/env bash
# Everything that needs the GPU, in one go (for one device-tool call):
#   conformance on CUDA, the GPU check scripts, the profiler/autotuner example, the benchmarks.
# Usage (repo root): scripts/gpu_all.sh [conformance dir]   (default ../shared/conformance)
# Logs go to $OUT (or ./gpu_logs); the benchmark table prints last.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TILELANG_CACHE_DIR="${TILELANG_CACHE_DIR:-/tmp/tilelang-cache}"
conf="${1:-../shared/conformance}"
logs="${OUT:-gpu_logs}"; mkdir -p "$logs"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
step() { local name=$1; shift; echo "=== $name"; local t0=$SECONDS; "$@" >"$logs/$name.txt" 2>&1; local rc=$?
         tail -n "${TAIL:-4}" "$logs/$name.txt"; echo "--- $name rc=$rc ($((SECONDS - t0)) s)"; }
step conformance_cuda python "$conf/run.py" --target cuda
step check_runtime python tests/gpu/check_runtime.py
step check_gemm python tests/gpu/check_gemm.py
[ -f tests/gpu/check_compiler.py ] && step check_compiler python tests/gpu/check_compiler.py
step autotune_gemm python examples/autotune_gemm.py
step quickstart python examples/quickstart.py
TAIL=40 step bench python bench/run_all.py
