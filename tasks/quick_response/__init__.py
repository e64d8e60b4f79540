"""快反处置: incidents opened, units dispatched, the 1-3-5 watch, the unit feed, disposal."""
