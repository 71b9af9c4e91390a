"""./dev demo: what a user does, offline."""
