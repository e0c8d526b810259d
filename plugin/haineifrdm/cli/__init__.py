"""Command-line interface: ``haineifrdm <command>``."""
