"""奖励激励: tips verified, points and proposals, the ledger, the month's report."""
