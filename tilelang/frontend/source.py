"""Reading a Python function's source: its AST and where each node sits in the user's file."""
from __future__ import annotations

import ast
import dataclasses
import inspect

from ..errors import Span, TileLangSyntaxError


@dataclasses.dataclass
class ParsedFunction:
    node: ast.FunctionDef
    file: str
    line_offset: int  # add to an AST lineno to get the file's line
    col_offset: int   # add to an AST col_offset to get the file's column

    def span(self, node) -> Span:
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return Span(self.file, self.node.lineno + self.line_offset)
        end = getattr(node, "end_col_offset", None)
        if getattr(node, "end_lineno", lineno) != lineno:
            end = None
        return Span(self.file, lineno + self.line_offset, node.col_offset + self.col_offset,
                    None if end is None else end + self.col_offset)


_CACHE: dict = {}


def parse_function(fn) -> ParsedFunction:
    """Parse fn's source once per code object."""
    code = getattr(fn, "__code__", None)
    if code is None:
        raise TileLangSyntaxError(f"{fn!r} is not a Python function")
    parsed = _CACHE.get(code)
    if parsed is not None:
        return parsed
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        raise TileLangSyntaxError(
            f"cannot read the source of {getattr(fn, '__qualname__', fn)!r}: kernels must be defined in a file "
            "(not in an interactive prompt or exec string)") from None
    indent = len(lines[0]) - len(lines[0].lstrip())
    body = "".join(line[indent:] if line[:indent].isspace() else line.lstrip() if not line.strip() else line
                   for line in lines)
    try:
        tree = ast.parse(body)
    except SyntaxError as e:
        file = inspect.getsourcefile(fn) or code.co_filename
        raise TileLangSyntaxError(f"cannot parse the kernel source: {e.msg}",
                                  Span(file, (e.lineno or 1) + start - 1)) from None
    node = tree.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise TileLangSyntaxError(f"expected a function definition for {fn.__qualname__}")
    parsed = ParsedFunction(node, inspect.getsourcefile(fn) or code.co_filename, start - 1, indent)
    _CACHE[code] = parsed
    return parsed


def closure_vars(fn) -> dict:
    """The values of fn's free variables (cells that are still empty are left out)."""
    out = {}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            out[name] = cell.cell_contents
        except ValueError:
            pass
    return out
