# Diagnostic (reads labels): the probe network's decoder trained on the
# built-in data's ground-truth object/background regions
# (OracleMaskSegmentor) with the plain U-Net's recipe
# (plain-unet_probe-unet-k1_1xb32-1k_synthetic-shapes-32x32.py, K = 2
# instead of 1): the positive control of tools/oracle_gain.py.
_base_ = './plain-unet_probe-unet-k1_1xb32-1k_synthetic-shapes-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(type='OracleMaskSegmentor', decode_head=dict(num_classes=2))
