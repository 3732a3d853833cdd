"""One error hierarchy. Every error can carry the user's source span, and prints it.

A message says what is wrong, where (file:line, the source line, a caret), and what
would be accepted.
"""
from __future__ import annotations

import dataclasses
import linecache


@dataclasses.dataclass(frozen=True)
class Span:
    """A place in the user's source: file, 1-based line, 0-based column range."""

    file: str
    line: int
    col: int = 0
    end_col: int | None = None

    def source_line(self) -> str:
        return linecache.getline(self.file, self.line).rstrip("\n")

    def render(self) -> str:
        """`file:line` plus the source line and a caret under the span."""
        text = self.source_line()
        head = f"{self.file}:{self.line}"
        if not text:
            return head
        stripped = text.lstrip()
        indent = len(text) - len(stripped)
        start = max(self.col - indent, 0)
        end = self.end_col - indent if self.end_col is not None and self.end_col > self.col else start + 1
        end = min(max(end, start + 1), len(stripped)) if stripped else start + 1
        return f"{head}\n    {stripped}\n    {' ' * start}{'^' * max(end - start, 1)}"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class TileLangError(Exception):
    """Base of all errors raised for a user's program."""

    def __init__(self, message: str, span: Span | None = None):
        super().__init__(message)
        self.message = message
        self.span = span

    def with_span(self, span: Span | None) -> "TileLangError":
        if self.span is None and span is not None:
            self.span = span
        return self

    def __str__(self) -> str:
        if self.span is None:
            return self.message
        return f"{self.span.render()}\n{type(self).__name__}: {self.message}"


class TileLangSyntaxError(TileLangError):
    """The kernel source uses a construct the frontend does not accept."""


class TileLangTypeError(TileLangError):
    """A value of the wrong kind or dtype was given to a T.* function."""


class TileLangValueError(TileLangError):
    """A value is of the right kind but out of range (extent, count, dim...)."""


class LayoutConflictError(TileLangError):
    """Two tile ops demand different layouts for one buffer."""


class LoweringError(TileLangError):
    """The compiler cannot lower a construct for the chosen target."""


class ArgumentError(TileLangError, ValueError):
    """A kernel was called with a tensor of the wrong count, shape, dtype, device or strides."""


class CompileError(TileLangError):
    """The generated device code failed to build."""


class DeviceRuntimeError(TileLangError, RuntimeError):
    """The device (or the CPU interpreter) failed while running a kernel."""
