"""Release tooling: the version in every place it is written, and the template without the
SAM transform for service-managed StackSets."""
