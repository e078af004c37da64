# Zero-shot PASCAL VOC 2012 (paper, Table 7): the class-conditional
# ImageNet-64 model segments each VOC val image once per VOC class it
# contains, conditioned on the ImageNet class that the shipped mapping gives
# for that VOC class; per-class Acc / IoU / DICE of the object region
# (IEM/ReDO polarity rule with K = 2) are printed as a table, with their
# mean. Test only:
#   python tools/test.py THIS_CONFIG imagenet64_checkpoint.pth
# Not measured here (no VOC data on the machines that built this).
_base_ = [
    './factdiff_unet-cond-k2_8xb64-500k_imagenet-64x64.py',
    '../_base_/datasets/voc12-zeroshot-64x64.py'
]
