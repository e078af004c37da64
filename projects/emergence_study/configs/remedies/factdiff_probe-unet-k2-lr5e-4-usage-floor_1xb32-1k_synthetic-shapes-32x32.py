# A remedy measured on the built-in data: Adam 5e-4 (the only rate whose
# runs reached 80, and the most collapsed ones) plus a floor on each
# region's share of every lightly noised image (`RegionUsageFloorLoss`:
# zero while both regions cover >= 5% of an image at t < 100; on a
# collapsed model it lifts the unused region's logits so that Gumbel
# sampling explores it again).
_base_ = './factdiff_probe-unet-k2-lr5e-4_1xb32-1k_synthetic-shapes-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(
    loss_regions=dict(
        type='RegionUsageFloorLoss', floor=0.05, max_t=100, loss_weight=0.05))
