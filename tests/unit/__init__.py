"""Pure tests: the core, the messages, settings and parsers; no I/O, milliseconds each."""
