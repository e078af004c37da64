# The probe config on the built-in data (SyntheticShapesDataset): the
# bisection's data step, and the base of the remedy configs that are
# measured on the built-in data.
_base_ = './factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py'
dataset_type = 'SyntheticShapesDataset'
train_dataloader = dict(dataset=dict(type=dataset_type))
val_dataloader = dict(dataset=dict(type=dataset_type))
test_dataloader = dict(dataset=dict(type=dataset_type))
