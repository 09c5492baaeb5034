"""Reproducible benchmarks: ``smartcity bench <experiment>``; results as JSON, markdown and PNG."""
