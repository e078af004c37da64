# The plain-U-Net control of the main job on the built-in data: the
# probe-image control with the built-in data, as the study's
# synthetic-shapes probe config is the probe config with it (a test checks
# that setting is the main job's). One region makes the network an
# ordinary U-Net denoiser; DatasetDDPM-unsup and DDPM-seg
# (projects/ddpm_seg) read its checkpoints.
_base_ = './plain-unet_probe-unet-k1_1xb32-1k_simple-shapes-32x32.py'
dataset_type = 'SyntheticShapesDataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
