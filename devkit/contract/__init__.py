"""./dev contract: what follows from the property contract (src/handler/contract.py)."""
