"""跟进督促: the visit cadence, how risks end, capacity, the supervision ladder, the day's sweep."""
