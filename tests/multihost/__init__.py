"""Several hosts on one PostgreSQL: namespaces, real processes, real faults (issue 12)."""
