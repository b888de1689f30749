"""The analyst's datasets and how they are written: the one CSV dialect, COPY into a pipe, and
the one routine that hands a file, a zip or a manifest to the CLI, the API and the UI."""
