"""The demo workspace: realistic sample data so the console can be tried at once."""
