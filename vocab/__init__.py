"""The ground floor: the words every other package speaks, importing nothing of the project.

Frame types (``types``), errors and their exit codes (``errors``), emotion labels and valence
(``labels``), the back ends' protocols (``protocols``), typed settings (``settings``), box
geometry (``geometry``) and time formatting (``timefmt``).
"""
