"""MLE-v0: machine-learning competitions worked in a sandbox (see `palaestra.envs.mle.env`)."""
