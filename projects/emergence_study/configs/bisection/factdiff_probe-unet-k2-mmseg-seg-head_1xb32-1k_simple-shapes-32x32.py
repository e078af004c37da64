# Bisection step: the probe config with mmseg's conv_seg as the mask
# generator's output (a 1x1 conv initialised normal, std 0.01) instead of
# the decoder's 3x3 output conv with PyTorch's default initialisation.
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py'
model = dict(
    decode_head=dict(
        seg_kernel_size=1,
        init_cfg=dict(
            _delete_=True,
            type='Normal',
            std=0.01,
            override=dict(name='conv_seg'))))
