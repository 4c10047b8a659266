"""Page layouts (one module per page) and shared pieces: ids, theme, figures, components."""
