"""S3 storage backend."""
