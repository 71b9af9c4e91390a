"""./dev health: the health check (src/health/) from a workstation, as a table or JSON."""
