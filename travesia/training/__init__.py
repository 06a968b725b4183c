"""Training mode: a separate database of synthetic people, scripted exercises per role, marked on every page."""
