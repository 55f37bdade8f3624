"""gankit: the machinery behind a six-notebook course on Generative Adversarial Networks."""
