"""Training and test material: film-degradation synthesis, clean sources, datasets."""
