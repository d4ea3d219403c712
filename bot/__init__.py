"""The ClassMood desktop process: capture -> detect -> classify -> track -> aggregate -> store/show."""
