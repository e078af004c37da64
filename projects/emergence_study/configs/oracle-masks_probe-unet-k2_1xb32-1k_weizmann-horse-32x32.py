# Diagnostic (reads labels): the probe network's decoder trained on the
# photos' ground-truth figure/ground regions (OracleMaskSegmentor) with the
# plain U-Net's recipe (K = 2 instead of 1 in
# plain-unet_probe-unet-k1_1xb32-1k_weizmann-horse-32x32.py).
# tools/oracle_gain.py compares the two runs' denoising losses: does
# decoding horse and background separately help at all?
_base_ = './plain-unet_probe-unet-k1_1xb32-1k_weizmann-horse-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(type='OracleMaskSegmentor', decode_head=dict(num_classes=2))
img_size = 32
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # before Resize: masks at 32x32
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(with_masks=True, pipeline=train_pipeline))
