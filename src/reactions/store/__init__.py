"""The write path: the connection and schema, the one writer (Store) with its tap and view
writers, the derived tables it keeps, and every other write through Store.writing()."""
