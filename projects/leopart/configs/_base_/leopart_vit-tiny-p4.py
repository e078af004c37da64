# Leopart on the ViT-tiny with 4x4 patches (./vit-tiny-p4.py), from RANDOM
# initialisation (no DINO weights can be downloaded here; set
# model.pretrained=PATH for a local DINO or Leopart file of the same
# architecture). The head is the official one but 512 wide (the official
# 2048 would cost more than the ViT on a CPU); 300 prototypes,
# temperature 0.1, Sinkhorn eps 0.05 x 3, roi_align 7x7, loss on every
# patch ('all'), no queue.
_base_ = './vit-tiny-p4.py'
model = dict(
    type='Leopart',
    patch_size=4,
    teacher_momentum=0.9995,
    teacher_momentum_end=1.0,
    pretrained=None,
    backbone={{_base_.vit_tiny_p4}},
    head=dict(
        type='LeopartHead',
        in_channels=192,
        hidden_channels=512,
        out_channels=256,
        num_layers=3,
        num_prototypes=300,
        temperature=0.1,
        epsilon=0.05,
        sinkhorn_iterations=3,
        roi_size=7,
        queue_length=0))
