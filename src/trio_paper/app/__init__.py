"""The application layer: one module per command, the run lifecycle, the one resume flow."""
