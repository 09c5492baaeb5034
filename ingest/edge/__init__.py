"""The edge gateway (devices over ZeroMQ, Zenoh and MQTT into Kafka): so far its store-and-forward
spool, :mod:`smartcity.ingest.edge.spool`."""
