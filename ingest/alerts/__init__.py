"""Live alerting: event-time windows and alert rules over the raw topics, exactly once.

* :mod:`smartcity.ingest.alerts.settings`: :class:`AlertSettings` (``[alerts]``), durations such as ``20m``;
* :mod:`smartcity.ingest.alerts.windows`: tumbling windows, per-partition watermarks, grace, idle close;
* :mod:`smartcity.ingest.alerts.rules`: alert state machines with hysteresis, and device silence;
* :mod:`smartcity.ingest.alerts.engine`: readings in, ``Alert`` and ``BusWindowStats`` records out (no Kafka);
  around it :mod:`~smartcity.ingest.alerts.engine_types` (outputs, counters, stream and partition state),
  :mod:`~smartcity.ingest.alerts.inputs` (usable rows), :mod:`~smartcity.ingest.alerts.partitions`
  (assignment, clocks, changelog form), :mod:`~smartcity.ingest.alerts.ruleset` (thresholds, alert records)
  and :mod:`~smartcity.ingest.alerts.closing` (closing windows, bus window records);
* :mod:`smartcity.ingest.alerts.state`: what is kept per device, and its changelog form;
* :mod:`smartcity.ingest.alerts.records`: a transition as an ``Alert`` with a readable message;
* :mod:`smartcity.ingest.alerts.changelog`: the compacted state topic;
* :mod:`smartcity.ingest.alerts.daemon`: the consumer-group member and its transactions (the guarantee);
* :mod:`smartcity.ingest.alerts.console`: the readable line per alert;
  :mod:`smartcity.ingest.alerts.metrics`: Prometheus;
* :mod:`smartcity.bench.alert_latency`: end-to-end latency and throughput on a broker (with
  :mod:`smartcity.bench.alert_daemon` and :mod:`smartcity.bench.alert_workload`).
"""
