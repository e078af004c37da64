# Diagnostic, not a benchmark: the main job's model and schedule on simpler
# images, close to those of the method spec's probe: an ellipse or a
# square with stripes on a plain two-colour gradient (2 shape kinds, no
# background waves, no checkers; the same places, sizes and colours as the
# built-in data's ellipses and squares would have). It asks whether the gap
# to the probe's IoU comes from the harder built-in images
# (docs/emergence.md).
_base_ = './factdiff_unet-tiny-k2-tau-anneal_1xb32-500_synthetic-32x32.py'
simple_images = dict(
    num_kinds=2, background_waves=(0, 0), textures=('stripe', ))
train_dataloader = dict(dataset=simple_images)
val_dataloader = dict(dataset=simple_images)
test_dataloader = dict(dataset=simple_images)
