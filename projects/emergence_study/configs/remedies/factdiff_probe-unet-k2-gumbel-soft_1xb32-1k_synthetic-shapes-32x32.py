# A remedy for collapse measured on the built-in data: the main job's
# setting with relaxed Gumbel-softmax masks (the soft sample
# softmax((logits + g) / tau) forward and backward, tau 1; the reference
# probe's `gumbelsoft` mode) in place of straight-through hard masks. Why:
# with hard masks, runs collapse onto one region even when the mask
# generator learns only from noise levels at which its own regions lower
# the loss (mask_grad_max_t=100; docs/emergence.md), which points at the
# straight-through gradient rather than the objective.
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_synthetic-shapes-32x32.py'
model = dict(decode_head=dict(mask_sampling='gumbel_soft'))
