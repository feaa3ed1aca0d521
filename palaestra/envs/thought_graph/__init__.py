"""ThoughtGraph-v0: reasoning as actions over an interactive graph of thoughts (see `env`)."""
