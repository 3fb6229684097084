"""StarGAN with LIT: `losses` (WGAN-GP, domain classification, reconstruction), `stargan` (the
training model), `distill` (LIT and L2 generator distillers), `samples` (PNG grids) and
`experiment` (a whole resumable CelebA run, what `trainers.stargan` calls)."""
