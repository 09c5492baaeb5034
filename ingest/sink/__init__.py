"""The sink daemon: Kafka topics into the lake, exactly once."""
