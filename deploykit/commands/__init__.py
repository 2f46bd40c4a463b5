"""One module per command; each exposes a `run_*` function returning the exit code."""
