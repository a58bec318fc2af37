"""Bookshelf: a minimal Litestar book host with the shisho-resync button."""
