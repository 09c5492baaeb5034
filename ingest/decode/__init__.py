"""Turn batches of Kafka message values into Arrow tables of lake rows, fast, and say exactly which
messages could not be turned and why."""
