"""Interactive toys of notebook 01: each a pure model plus a thin ipywidgets/ipympl widget."""
