"""Benchmarks of Galileio Desktop against the web app's algorithms: ``python bench/run.py``."""
