"""Test-only tools that are not fixtures: the fake Stripe server and ways to drive it."""
