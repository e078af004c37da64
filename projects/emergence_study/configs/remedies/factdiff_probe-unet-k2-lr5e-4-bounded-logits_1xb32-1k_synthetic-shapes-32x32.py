# A remedy on the built-in data: Adam 5e-4 (the only rate whose runs
# reached 80, and the most collapsed ones) with the mask generator's logits
# bounded to [-3, 3] (BoundedLogitsMaskHead of the study project): no
# region's probability falls below sigmoid(-6) = 0.25%, so a region that
# lost every pixel is still sampled and still gets a gradient.
_base_ = './factdiff_probe-unet-k2-lr5e-4_1xb32-1k_synthetic-shapes-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(decode_head=dict(type='BoundedLogitsMaskHead', bound=3.0))
