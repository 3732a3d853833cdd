"""Expressions (typing, promotion, folding), the printer, structural equality and hashing."""
import subprocess
import sys

import tilelang.language as T
from tilelang.ir import dtypes
from tilelang.ir import expr as E
from tilelang.ir.structural import structural_equal, structural_hash


def test_binary_promotion_follows_tvm_rules():
    i = E.Var(dtypes.int32, "i")
    h = E.Var(dtypes.float16, "h")
    assert (i + 1).dtype == "int32"
    assert (i + 1.5).dtype == "float32"          # int with a float literal
    assert (h * 2).dtype == "float16"            # literals take the variable's type
    assert (h + E.Var(dtypes.float32, "f")).dtype == "float32"
    assert dtypes.promote(dtypes.float16, dtypes.bfloat16) == "float32"
    assert dtypes.promote(dtypes.int8, dtypes.int32) == "int32"
    assert (i < 3).dtype == "bool"


def test_constant_folding_and_c_division_semantics():
    assert E.is_const(E.const(6) * 7, 42)
    assert E.is_const(E.binary("//", -7, 2), -4)       # floordiv
    assert E.is_const(E.binary("%", -7, 2), 1)         # floormod
    i = E.Var(dtypes.int32, "i")
    assert E.is_const(i * 0, 0) or not isinstance(i * 0, E.IntImm)
    assert (i + 0) is i


def test_select_and_cast_nodes():
    i = E.Var(dtypes.int32, "i")
    s = E.select(i < 4, 1.0, 2.0)
    assert isinstance(s, E.Select) and s.dtype == "float32"
    c = E.cast(i, "float16")
    assert isinstance(c, E.Cast) and c.dtype == "float16"


def gemm_program(bk):
    @T.prim_func
    def main(A: T.Tensor((128, 64), "float16"), B: T.Tensor((64, 128), "float16"), C: T.Tensor((128, 128), "float32")):
        with T.Kernel(2, 2, threads=128) as (bx, by):
            A_s = T.alloc_shared((64, bk), "float16")
            B_s = T.alloc_shared((bk, 64), "float16")
            C_f = T.alloc_fragment((64, 64), "float32")
            T.clear(C_f)
            for k in T.Pipelined(64 // bk, num_stages=2):
                T.copy(A[by * 64, k * bk], A_s)
                T.copy(B[k * bk, bx * 64], B_s)
                T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C[by * 64, bx * 64])

    return main


def test_printer_shows_a_readable_program():
    text = str(gemm_program(32))
    for line in ("@T.prim_func",
                 "def main(A: T.Tensor((128, 64), 'float16')",
                 "with T.Kernel(2, 2, threads=128) as (bx, by):",
                 "A_s = T.alloc_shared((64, 32), 'float16')",
                 "for k in T.Pipelined(2, num_stages=2):",
                 "T.gemm(A_s, B_s, C_f)",
                 "T.copy(C_f, C[by * 64:by * 64 + 64, bx * 64:bx * 64 + 64])"):
        assert line in text, (line, text)


def test_structural_equality_and_hash_are_stable():
    a, b, c = gemm_program(32), gemm_program(32), gemm_program(16)
    assert structural_equal(a, b)
    assert not structural_equal(a, c)
    assert a.structural_hash() == b.structural_hash() != c.structural_hash()
    assert structural_hash(a.body) == structural_hash(b.body)


def test_hash_is_the_same_in_another_process():
    code = ("import sys; sys.path.insert(0, %r); from test_ir import gemm_program; "
            "print(gemm_program(32).structural_hash())") % (__file__.rsplit("/", 1)[0],)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == gemm_program(32).structural_hash()


def test_import_is_light():
    code = "import sys, time; t = time.perf_counter(); import tilelang, tilelang.language; " \
           "print(time.perf_counter() - t, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "False"         # torch loads on first use, not at import
    assert float(out[0]) < 1.0
