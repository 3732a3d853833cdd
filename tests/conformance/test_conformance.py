"""The shared conformance suite (../shared/conformance): every case on the CPU backend.
(Compiling every case for sm_80 / sm_90a is tests/backend_cuda/test_compile_only.py.)"""
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
RUN = pathlib.Path(os.environ.get("TILELANG_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance")) / "run.py"

pytestmark = pytest.mark.skipif(not RUN.exists(), reason=f"conformance suite not found at {RUN}")


def run_suite(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, env=env, timeout=900)
    lines = proc.stdout.strip().splitlines()
    summary = lines[-1] if lines else proc.stderr[-2000:]
    failures = "\n".join(l for l in lines if l.startswith("FAIL"))
    return proc.returncode, summary, failures


def test_every_case_passes_on_the_cpu_backend():
    rc, summary, failures = run_suite("--target", "cpu")
    assert rc == 0 and " 0 failed" in summary, f"{summary}\n{failures}"

