"""Compiler passes over the tile IR, one per module; `pipeline.py` lists them in order."""
