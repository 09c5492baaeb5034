"""Live alerting: event-time windows and alert rules over the raw topics, exactly once.

* :mod:`ingest.alerts.settings`: :class:`AlertSettings` (``[alerts]``), durations such as ``20m``;
* :mod:`ingest.alerts.windows`: tumbling windows, per-partition watermarks, grace, idle close;
* :mod:`ingest.alerts.rules`: alert state machines with hysteresis, and device silence;
* :mod:`ingest.alerts.engine`: readings in, ``Alert`` and ``BusWindowStats`` records out (no Kafka);
* :mod:`ingest.alerts.state`: what is kept per device, and its changelog form;
* :mod:`ingest.alerts.records`: a transition as an ``Alert`` with a readable message;
* :mod:`ingest.alerts.changelog`: the compacted state topic;
* :mod:`ingest.alerts.daemon`: the consumer-group member and its transactions (the guarantee);
* :mod:`ingest.alerts.console`: the readable line per alert; :mod:`ingest.alerts.metrics`: Prometheus;
* :mod:`ingest.alerts.bench`: end-to-end latency and throughput on a broker.
"""
