"""The development broker: a real Apache Kafka (KRaft) on 127.0.0.1 from Maven Central jars.

For laptops, tests and benchmarks only; nothing at run time depends on it.
"""
