"""Compiling and calling kernels: tilelang.compile, @tilelang.jit, JITKernel."""
from .jit import compile, jit, JITImpl
from .kernel import JITKernel
from ..target import Target, parse_target

__all__ = ["compile", "jit", "JITImpl", "JITKernel", "Target", "parse_target"]
