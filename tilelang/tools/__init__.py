"""User tools around the compiler: layout pictures (`plot_layout`; matplotlib loads when drawing)."""
from .plot_layout import bank_table, fragment_tables, plot_layout  # noqa: F401

__all__ = ["plot_layout", "bank_table", "fragment_tables"]
