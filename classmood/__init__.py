"""The top floor: the ``classmood`` command that people type (run, analyze, sessions, report, purge, eval)."""
