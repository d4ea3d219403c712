"""Developer tools: synthetic test data, benchmarks. Not imported by the running app."""
