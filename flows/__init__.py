"""Prefect flows, deployments, reports and the ``smartcity`` command line."""
