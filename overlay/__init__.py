"""The host's overlay: the class mood at a glance, always on top, never in the way.

Importing this package loads no Qt; the Qt modules are imported by ``overlay.app`` and the
widgets themselves, so the pure parts (``overlay.alerts``, ``overlay.trend``,
``overlay.badge_layout``) are usable and testable without a display.

Entry point: ``overlay.app.run_with_overlay(pipeline, source, config, recorder, control, on_frame)``.
"""
