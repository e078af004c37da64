# The reference probe's images (SimpleShapesDataset): one flat-coloured disc
# or square with a faint stripe texture on a two-colour gradient, generated
# on the fly. Same splits, pipelines and metrics as the built-in data.
_base_ = './synthetic_shapes-32x32.py'
dataset_type = 'SimpleShapesDataset'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        num_samples=10000,
        img_size={{_base_.img_size}},
        seed=0,
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        num_samples=128,
        img_size={{_base_.img_size}},
        seed=1,
        test_mode=True,
        pipeline={{_base_.val_pipeline}}))
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        num_samples=128,
        img_size={{_base_.img_size}},
        seed=1,
        test_mode=True,
        pipeline={{_base_.test_pipeline}}))
