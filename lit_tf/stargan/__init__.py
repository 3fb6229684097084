"""StarGAN with LIT: the paper's GAN experiment's pieces.

`losses` (WGAN-GP, domain classification, reconstruction), `stargan_training` (the training model;
the networks are `lit_tf.models.stargan`), `distill` (LIT and L2 generator distillers), `samples`
(PNG grids), `metrics` (Inception score and FID, through `tfgan_compat`, TF-GAN's eval math on
TF >= 2.16) and `schedules` (the rates). A whole resumable CelebA run, what `lit-stargan` calls,
is `lit_tf.experiments.stargan`.
"""
