"""What runs the flows: the command line, schedules, triggers and `serve`."""
