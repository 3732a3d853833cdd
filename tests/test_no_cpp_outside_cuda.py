"""C++ spellings live only in tilelang/backend/cuda/ (its codegen, spelling table and header):
every other module, docstrings and comments included, names intrinsics and scopes neutrally."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "tilelang"
CUDA = ROOT / "backend" / "cuda"

SPELLINGS = ("tl::", "__syncthreads", "__syncwarp", "__shfl", "__global__", "__device__", "__shared__",
             "__grid_constant__", "__launch_bounds__", "reinterpret_cast", "#include", "asm(", "asm volatile",
             "extern \"C\"")
PATTERN = re.compile("|".join(re.escape(s) for s in SPELLINGS))

# lines whose owners are converting them right now (the gemm lowering's operand types)
PENDING = {
    ("layout/mma.py", 'return (f"tl::WgmmaOperand<{_DESC_SWIZZLE_MODE[self.swizzle_bytes]}, {self.lbo}, {self.sbo}, "'),
    ("layout/mma.py", 'f"{self.mn_stride}, tl::Ints<{ks}>>")'),
}


def offending_lines():
    for path in sorted(ROOT.rglob("*.py")):
        if CUDA in path.parents:
            continue
        rel = path.relative_to(ROOT).as_posix()
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if PATTERN.search(line) and (rel, line.strip()) not in PENDING:
                yield f"tilelang/{rel}:{n}: {line.strip()}"


def test_no_cpp_spelling_outside_backend_cuda():
    found = list(offending_lines())
    assert not found, "C++ spellings outside tilelang/backend/cuda/:\n" + "\n".join(found)


def test_the_scan_sees_a_spelling():
    assert PATTERN.search("    __syncthreads();") and PATTERN.search("x = tl::min<int>(a, b)")
    assert not PATTERN.search("T.sync_threads()  # threadIdx.x")
