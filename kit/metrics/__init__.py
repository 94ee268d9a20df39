"""The analyses: one module each, seeing only the `changes` and `syncs` relations."""
