"""The pipeline: capture -> detect -> classify -> track -> smooth -> aggregate, one stage a module."""
