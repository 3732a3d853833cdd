"""GPU check of layout-inference paths (run: python tests/layout/check_layouts_gpu.py [cuda|cpu]):
non-power-of-two reductions (line plans), holes, replicated small fragments, projected row
vectors, an annotated padded shared layout. Prints PASS/FAIL per kernel and a count."""
import sys
import torch
import tilelang
import tilelang.language as T

target = sys.argv[1] if len(sys.argv) > 1 else "cuda"
dev = "cuda" if target == "cuda" else "cpu"
results = []

def check(name, fn):
    try:
        fn()
        results.append(("PASS", name, ""))
    except Exception as e:
        results.append(("FAIL", name, f"{type(e).__name__}: {str(e)[:1500]}"))

def odd_reduce():
    M, N = 48, 40
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), Y: T.Tensor((M,), "float32")):
        with T.Kernel(1, threads=128):
            x = T.alloc_fragment((M, N), "float32")
            s = T.alloc_fragment((M,), "float32")
            T.copy(X[0, 0], x)
            T.reduce_sum(x, s, dim=1)
            T.copy(s, Y[0])
    k = tilelang.compile(main, out_idx=[1], target=target)
    x = torch.randn(M, N, device=dev)
    torch.testing.assert_close(k(x), x.sum(1), rtol=1e-4, atol=1e-4)

def holes_atomic():
    @T.prim_func
    def main(X: T.Tensor((64,), "float32"), Out: T.Tensor((1,), "float32")):
        with T.Kernel(1, threads=128):
            for i in T.Parallel(64):
                T.atomic_add(Out[0], X[i])
    k = tilelang.compile(main, target=target)
    x = torch.randn(64, device=dev); o = torch.zeros(1, device=dev)
    k(x, o)
    torch.testing.assert_close(o, x.sum().reshape(1), rtol=1e-4, atol=1e-4)

def odd_parallel():
    @T.prim_func
    def main(X: T.Tensor((3, 5), "float32"), Y: T.Tensor((3, 5), "float32")):
        with T.Kernel(1, threads=4):
            x = T.alloc_fragment((3, 5), "float32")
            T.copy(X[0, 0], x)
            for i, j in T.Parallel(3, 5):
                x[i, j] = x[i, j] * 2.0 + i
            T.copy(x, Y[0, 0])
    k = tilelang.compile(main, out_idx=[1], target=target)
    x = torch.randn(3, 5, device=dev)
    torch.testing.assert_close(k(x), x * 2 + torch.arange(3, device=dev)[:, None].float())

def projected_rows():
    bm, bn = 64, 32
    @T.prim_func
    def main(X: T.Tensor((bm, bn), "float32"), V: T.Tensor((bm,), "float32"), Y: T.Tensor((bm, bn), "float32")):
        with T.Kernel(1, threads=128):
            x = T.alloc_fragment((bm, bn), "float32")
            v = T.alloc_fragment((bm,), "float32")
            T.copy(X[0, 0], x)
            for i in T.Parallel(bm):
                v[i] = V[i] * 3.0
            for i, j in T.Parallel(bm, bn):
                x[i, j] = x[i, j] * v[i]
            T.copy(x, Y[0, 0])
    k = tilelang.compile(main, out_idx=[2], target=target)
    x = torch.randn(bm, bn, device=dev); v = torch.randn(bm, device=dev)
    torch.testing.assert_close(k(x, v), x * v[:, None] * 3)

def small_replicated():
    @T.prim_func
    def main(X: T.Tensor((16,), "float16"), Y: T.Tensor((16,), "float32")):
        with T.Kernel(1, threads=128):
            v = T.alloc_fragment((16,), "float32")
            T.copy(X[0], v)
            for i in T.Parallel(16):
                v[i] = v[i] + 1.0
            T.copy(v, Y[0])
    k = tilelang.compile(main, out_idx=[1], target=target)
    x = torch.randn(16, device=dev).half()
    torch.testing.assert_close(k(x), x.float() + 1)

def column_reduce_odd():
    @T.prim_func
    def main(X: T.Tensor((24, 16), "float32"), Y: T.Tensor((16,), "float32")):
        with T.Kernel(1, threads=64):
            x = T.alloc_fragment((24, 16), "float32")
            m = T.alloc_fragment((16,), "float32")
            T.copy(X[0, 0], x)
            T.reduce_max(x, m, dim=0)
            T.copy(m, Y[0])
    k = tilelang.compile(main, out_idx=[1], target=target)
    x = torch.randn(24, 16, device=dev)
    torch.testing.assert_close(k(x), x.max(0).values)

def padded_shared():
    import tilelang.layout as L
    @T.prim_func
    def main(X: T.Tensor((32, 64), "float16"), Y: T.Tensor((32, 64), "float16")):
        with T.Kernel(1, threads=128):
            S_ = T.alloc_shared((32, 64), "float16")
            T.annotate_layout({S_: L.padded((32, 64), 8)})
            x = T.alloc_fragment((32, 64), "float16")
            T.copy(X[0, 0], S_)
            T.copy(S_, x)
            for i, j in T.Parallel(32, 64):
                x[i, j] = x[i, j] * 2.0
            T.copy(x, Y[0, 0])
    k = tilelang.compile(main, out_idx=[1], target=target)
    x = torch.randn(32, 64, device=dev).half()
    torch.testing.assert_close(k(x), x * 2)

def odd_rmsnorm():
    bm, N = 6, 40
    @T.prim_func
    def main(X: T.Tensor((bm, N), "float32"), Y: T.Tensor((bm, N), "float32")):
        with T.Kernel(1, threads=128):
            x = T.alloc_fragment((bm, N), "float32")
            sq = T.alloc_fragment((bm, N), "float32")
            ss = T.alloc_fragment((bm,), "float32")
            T.copy(X[0, 0], x)
            for i, j in T.Parallel(bm, N):
                sq[i, j] = x[i, j] * x[i, j]
            T.reduce_sum(sq, ss, dim=1)
            for i, j in T.Parallel(bm, N):
                x[i, j] = x[i, j] / T.sqrt(ss[i])
            T.copy(x, Y[0, 0])
    k = tilelang.compile(main, out_idx=[1], target=target)
    x = torch.randn(bm, N, device=dev)
    torch.testing.assert_close(k(x), x / x.pow(2).sum(1, keepdim=True).sqrt(), rtol=1e-4, atol=1e-4)

for f in [odd_rmsnorm, odd_reduce, holes_atomic, odd_parallel, projected_rows, small_replicated, column_reduce_odd, padded_shared]:
    check(f.__name__, f)
for r in results:
    print(*r)
print(sum(r[0] == "PASS" for r in results), "passed", sum(r[0] == "FAIL" for r in results), "failed")
