"""What every screen reaches: help, the command line, the one confirmation, screens opened by name."""
