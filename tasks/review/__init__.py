"""复盘问效: periods and scopes, the figures in SQL, changes and their test, findings and reports."""
