"""Plain helper functions shared by test modules (fixtures live in tests/plugins)."""
