# The usage-floor remedy on real photos: the Weizmann Horse probe config
# (32x32, trained on the images alone) with Adam 5e-4 and
# `RegionUsageFloorLoss`, the setting of the synthetic remedy config
# `factdiff_probe-unet-k2-lr5e-4-usage-floor_1xb32-1k_synthetic-shapes-32x32.py`.
# Without the floor every seed here ended with one region taking every
# pixel (docs/emergence.md, section 4).
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_weizmann-horse-32x32.py'
optim_wrapper = dict(optimizer=dict(lr=5e-4))
model = dict(
    loss_regions=dict(
        type='RegionUsageFloorLoss', floor=0.05, max_t=100, loss_weight=0.05))
