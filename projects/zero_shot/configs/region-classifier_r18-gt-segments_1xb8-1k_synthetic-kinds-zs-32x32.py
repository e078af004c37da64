# The segment classifier of the factorized-regions config given the
# ground-truth segments at test time instead (an oracle that reads labels
# at test time): what the classifier can name when the segments are
# perfect, the ceiling of any mask source on this split.
_base_ = './region-classifier_r18-factdiff-k2_1xb8-1k_synthetic-kinds-zs-32x32.py'  # noqa: E501
model = dict(mask_source=None)
