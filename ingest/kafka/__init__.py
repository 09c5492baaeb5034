"""Kafka configuration, admin, and a local Apache Kafka for development and tests."""
