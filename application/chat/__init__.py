"""Answering a visitor's question, one way through: admit it, recall a cached answer or
retrieve sources and generate one, then record the exchange. One path serves the JSON and
the streaming API."""
