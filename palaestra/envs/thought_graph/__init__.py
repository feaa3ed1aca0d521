"""ThoughtGraph-v0 (in progress, not registered yet): reasoning as actions over a thought graph."""
