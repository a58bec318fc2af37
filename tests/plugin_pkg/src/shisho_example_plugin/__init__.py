"""An example third-party shisho plugin (installed from tests/plugin_pkg by `make install`)."""
