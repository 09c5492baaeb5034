"""The ``smartcity`` command line: one front door for every part."""
