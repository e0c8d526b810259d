"""The local render service the OFX plugin talks to (Unix socket + shared memory)."""
