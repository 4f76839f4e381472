"""Stream in: Amazon Marketing Stream messages from SQS into S3 (gzip JSON lines), queried through Athena views."""
