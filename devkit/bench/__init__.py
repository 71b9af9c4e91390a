"""./dev bench: the benchmark (measure.py) and the report it writes (report.py)."""
