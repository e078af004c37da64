# The plain-U-Net baseline of the main job ("DatasetDDPM-unsup" per image)
# on the built-in data: the probe-image baseline with the built-in data, as
# the study's synthetic-shapes probe config is the probe config with it (a
# test checks that setting is the main job's). One region makes the network
# an ordinary U-Net denoiser, read out by per-image k-means (K = 2) on its
# decoder's last features at t = 30.
_base_ = './plain-unet-kmeans_probe-unet-k1_1xb32-1k_simple-shapes-32x32.py'
dataset_type = 'SyntheticShapesDataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
