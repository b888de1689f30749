"""Work that reads through metrics and writes through the store: integrity scans, on demand and
on the server's schedule."""
