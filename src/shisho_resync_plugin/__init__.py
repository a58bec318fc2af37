"""shisho_resync_plugin: the Litestar plugin."""
