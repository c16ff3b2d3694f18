"""The data pipeline: CSV -> validated frame -> splits -> scaling -> time features -> windows."""
