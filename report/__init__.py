"""The post-class report: what a session's rows mean (``data``), its figures (``plots``) and its sinks.

Reads storage only through ``db.queries`` and the schema; writes an HTML page, a CSV zip or a JSON
document. Terminal printing and exit codes belong to the CLI.
"""

FORMATS = ("html", "csv", "json")  # what ``classmood report --format`` takes; one sink each
