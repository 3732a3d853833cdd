"""Per-op CUDA lowering of the tile IR (tile_ops.py is the pass; one module per tile op)."""
