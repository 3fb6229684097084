"""StarGAN training pieces: `losses` (adversarial WGAN-GP, domain classification, reconstruction)."""
