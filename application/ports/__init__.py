"""The ports the use cases need, one module per family; adapters fulfil them."""
