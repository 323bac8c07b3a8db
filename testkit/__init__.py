"""What tests and benchmarks share: in-memory fakes of the ports, wire-format stand-ins for
the model providers, and valid entities. Never imported by the service itself."""
