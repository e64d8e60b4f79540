"""Set-based units of work that the flows call: each handles a whole file, batch or stage."""
