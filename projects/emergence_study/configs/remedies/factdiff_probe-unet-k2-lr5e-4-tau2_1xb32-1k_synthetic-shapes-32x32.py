# A remedy measured on the built-in data: Adam 5e-4 (the only rate whose
# runs reached 80, and the most collapsed ones) with the straight-through
# Gumbel temperature raised from 1 to 2. The forward masks are the same
# hard samples (argmax(logits + g) does not depend on tau); the backward
# softmax((logits + g) / tau) is flatter, so its gradient fades later as
# the logits grow, which is how a collapsed mask generator loses the
# gradient that could bring the other region back.
_base_ = './factdiff_probe-unet-k2-lr5e-4_1xb32-1k_synthetic-shapes-32x32.py'
model = dict(decode_head=dict(tau=2.0))
