"""library_host: the reference host app of shisho-resync."""
