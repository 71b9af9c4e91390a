"""The health check of every Custom::PullThroughCacheRule (issue 20): health.check, health.app."""
