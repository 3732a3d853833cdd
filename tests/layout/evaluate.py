"""A tiny evaluator for integer index expressions, so tests can check that the expressions a
layout emits agree with its integer tables."""
from tilelang.ir import expr as E

_OPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "//": lambda a, b: a // b, "%": lambda a, b: a % b, "&": lambda a, b: a & b,
    "|": lambda a, b: a | b, "^": lambda a, b: a ^ b, "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, "and": lambda a, b: a and b, "or": lambda a, b: a or b,
    "min": min, "max": max,
}


def evaluate(e, env: dict):
    """Value of `e` with Vars replaced by env[var] (ints pass through)."""
    if isinstance(e, (bool, int)):
        return e
    if isinstance(e, E.IntImm):
        return e.value
    if isinstance(e, E.Var):
        return env[e]
    if isinstance(e, E.Binary):
        return _OPS[e.op](evaluate(e.a, env), evaluate(e.b, env))
    if isinstance(e, E.Unary):
        v = evaluate(e.a, env)
        return {"-": lambda: -v, "~": lambda: ~v, "not": lambda: not v}[e.op]()
    if isinstance(e, E.Select):
        return evaluate(e.true_value, env) if evaluate(e.cond, env) else evaluate(e.false_value, env)
    if isinstance(e, E.Cast):
        return evaluate(e.value, env)
    raise TypeError(f"cannot evaluate {e!r}")


def int_vars(*names):
    return tuple(E.Var(E.int32, n) for n in names)
