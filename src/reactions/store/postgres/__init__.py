"""PostgreSQL as the shared system of record for several servers (REACTIONS_DATABASE_URL),\nwith each server's DuckDB file as its analytics replica."""
