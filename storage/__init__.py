"""The lake: format writers (Parquet/HDF5/CSV), layout and exactly-once file commit, compaction,
and the DuckDB catalog."""
