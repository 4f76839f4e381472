"""Stream in: one StreamStack per AMS realm (queues, ingest Lambda, raw bucket, Glue catalog, Athena)."""
