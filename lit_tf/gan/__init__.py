"""StarGAN training: `losses` (WGAN-GP, domain classification, reconstruction) and the `stargan` model."""
