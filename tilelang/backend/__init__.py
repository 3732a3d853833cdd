"""Backends turn a PrimFunc into something that runs: `build(func, target, options) -> Artifact`.

An Artifact has `source` (text shown by get_kernel_source), `launch(args, sizes)` taking the
arguments in parameter order (tensors and scalars) and the bound symbolic sizes, and
`device_kind` ("cpu" or "cuda").
"""
from __future__ import annotations
from .cuda import build as build_cuda
from .cpu import build as build_cpu


def build(func, target, options: dict):
    if target.kind == "cpu":

        return build_cpu(func, options)

    return build_cuda(func, target, options)
