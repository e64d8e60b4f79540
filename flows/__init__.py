"""The stages of the prevention cycle, one Prefect flow module each."""
