"""Everything that talks to Kafka: clients and admin, the local broker, simulators and producers,
the sink daemon and the alerting consumers."""
