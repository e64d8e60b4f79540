"""线索汇聚: files in, validated, loaded, linked to risks and graded."""
