"""Tests that kill the mutants of ``core/`` the rest of the suite let survive (issue 18)."""
