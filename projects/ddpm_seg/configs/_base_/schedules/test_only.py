# Evaluation-only models (FeatureKMeansSegmentor): mmengine's Runner wants
# train_dataloader, train_cfg and optim_wrapper all set or all unset, and
# the repository's config test builds the training set, so the training
# settings are placeholders (the model's loss raises).
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=1)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.))
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
