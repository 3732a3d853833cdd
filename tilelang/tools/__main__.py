"""`python -m tilelang.tools {accumulator,swizzle,plan} ... -o out.png`: draw a layout."""
from .plot_layout import main

raise SystemExit(main())
