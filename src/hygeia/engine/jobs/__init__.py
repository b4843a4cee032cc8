"""The batch jobs: each module plans partitions (I/O on the client) and holds the pure partition function."""
