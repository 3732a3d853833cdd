#!/usr/bin/env bash
# Everything that needs the GPU, in one go (for one device-tool call): conformance on CUDA,
# the benchmarks, the autotuner (twice: the second run is a cache read), the GPU check
# scripts and the examples. Each step's log goes to /tmp/gpu_logs/<step>.txt and is appended
# to $OUT/all_logs.txt (./gpu_logs.txt without $OUT); a summary of the steps prints last.
# Usage (repo root): [SKIP="step ..."] [BEFORE=dir] scripts/gpu_all.sh [conformance dir]
#   (default ../shared/conformance). BEFORE names an older checkout of this repo (tilelang/ and
#   bench/ of another commit, e.g. made with `git archive <commit> tilelang bench examples`):
#   its GEMM / attention benchmarks run between two runs of ours (A/B/A), for before/after figures.
#   PEER=dir holding peer_bench.py and tilelang-site.tar.xz (../shared/peer/README.md): the same
#   programs timed on ours and on the reference TileLang, JSON lines in $OUT/peer_{ours,reference}.jsonl.
#   UPSTREAM=dir holding a copy of ../shared/upstream: its corpus in --mode gpu, $OUT/upstream_gpu.json.
#   ONLY="step ..." runs just those steps.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TILELANG_CACHE_DIR="${TILELANG_CACHE_DIR:-/tmp/tilelang-cache}"
conf="${1:-../shared/conformance}"
logs=/tmp/gpu_logs; mkdir -p "$logs"
if [ -n "${OUT:-}" ]; then all="$OUT/all_logs.txt"; else all=gpu_logs.txt; fi
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
summary=()
step() {  # step NAME TIMEOUT CMD...: run, keep the log, print its tail and a status line
  local name=$1 limit=$2; shift 2
  case " ${SKIP:-} " in *" $name "*) summary+=("$(printf '%-26s skipped' "$name")"); return;; esac
  if [ -n "${ONLY:-}" ]; then case " $ONLY " in *" $name "*) ;; *) return;; esac; fi
  echo "=== $name"; local t0=$SECONDS
  timeout "$limit" "$@" >"$logs/$name.txt" 2>&1; local rc=$?
  { echo "===== $name (rc=$rc)"; cat "$logs/$name.txt"; } >>"$all"
  tail -n "${TAIL:-3}" "$logs/$name.txt"
  summary+=("$(printf '%-26s rc=%-3s %4ss' "$name" "$rc" $((SECONDS - t0)))")
}
step conformance_cuda 240 python "$conf/run.py" --target cuda
TAIL=30 step bench 300 python bench/run_all.py
if [ -n "${BEFORE:-}" ]; then
  TAIL=12 step bench_before 240 env PYTHONPATH="$PWD/$BEFORE" TILELANG_CACHE_DIR=/tmp/tilelang-cache-before \
    python "$BEFORE/bench/run_all.py" -k bench_
  TAIL=12 step bench_again 240 python bench/run_all.py -k bench_
fi
step autotune_gemm 150 python examples/autotune_gemm.py
step autotune_again 60 python examples/autotune_gemm.py
step check_runtime 60 python tests/gpu/check_runtime.py
step check_gemm 90 python tests/gpu/check_gemm.py
step check_wgmma 90 python tests/gpu/check_wgmma.py
step check_compiler 90 python tests/gpu/check_compiler.py
step check_layouts 60 python tests/layout/check_layouts_gpu.py cuda
step quickstart 60 python examples/quickstart.py
for ex in gemm gemm_epilogue softmax rmsnorm flash_attention dequant_gemm_int4; do
  step "example_$ex" 60 python "examples/$ex.py"
done
res="${OUT:-/tmp}"
if [ -n "${UPSTREAM:-}" ]; then
  TAIL=25 step upstream_gpu 420 python "$UPSTREAM/run_upstream.py" "$UPSTREAM/corpus" --mode gpu -j 14 \
    --gpus 1 --timeout 120 --out "$res/upstream_gpu.json"
fi
if [ -n "${PEER:-}" ]; then
  mkdir -p /tmp/peer_site && tar -C /tmp/peer_site -xJf "$PEER/tilelang-site.tar.xz"
  TAIL=12 step peer_ours 240 sh -c "python $PEER/peer_bench.py > $res/peer_ours.jsonl"
  TAIL=12 step peer_reference 300 env PYTHONPATH=/tmp/peer_site \
    LD_LIBRARY_PATH=/tmp/peer_site/z3/lib:/tmp/peer_site/tvm_ffi/lib \
    sh -c "python $PEER/peer_bench.py > $res/peer_reference.jsonl"
fi
echo "=== summary"
printf '%s\n' "${summary[@]}"
