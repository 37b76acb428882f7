"""Scheduled jobs, their runs, and the alerts they raise."""
