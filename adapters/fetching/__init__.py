"""Documents brought in by URL: an HTTP fetcher that reaches public addresses only."""
