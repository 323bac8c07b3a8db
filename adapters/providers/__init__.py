"""Plumbing shared by every adapter that calls a model provider over the network (chat
models and embedders): errors in the core's terms, bounded retries, deadlines and a
circuit breaker per provider. Provider-neutral: no SDK is imported here except to
recognise its transport errors. The one module adapter families may share."""
