# FCN probe (Leopart's second probe: mmseg's FCNHead with two 3x3 convs; label-
# using: 20 labelled photos) of the frozen encoder of the factorized model
# trained on the horse photos alone, on Weizmann Horse: the linear probe's
# config (encoder, checkpoint, data, schedule) with two convs before the
# classifier.
_base_ = ('./linear-probe_factdiff-probe-encoder-k2_1xb4-500_'
          'weizmann-horse-32x32.py')
model = dict(
    decode_head=dict(
        num_convs=2,
        channels=64,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True)))
