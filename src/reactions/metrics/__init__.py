"""The read path: filters parsed from a link, the SQL they bind, and every figure the pages and
exports show, computed from the rollups and the logs. Reads only; never the writer."""
