# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def seen_segments(gt_sem_seg: Tensor, size: Sequence[int], seen: Tensor,
                  num_classes: int,
                  ignore_index: int) -> Tuple[Tensor, Tensor, Tensor]:
    """The training segments of one image under a seen/unseen split.

    Args:
        gt_sem_seg (Tensor): Labels (1, H, W) of the image.
        size (Sequence[int]): Size to read them at (nearest neighbour).
        seen (Tensor): Indices of the seen classes.
        num_classes (int): Number of classes (labels at or above it, other
            than ``ignore_index``, are treated as not seen).
        ignore_index (int): Label of pixels that belong to no class.

    Returns:
        tuple: The seen classes present (sorted), their masks (S, *size),
        and the pixels of seen classes (*size), the ones a loss scores.
    """
    gt = F.interpolate(
        gt_sem_seg.long()[None].float(), size=size, mode='nearest')[0,
                                                                    0].long()
    is_seen = torch.zeros(num_classes + 1, dtype=torch.bool, device=gt.device)
    is_seen[seen] = True
    valid = (gt != ignore_index) & is_seen[gt.clamp(0, num_classes)]
    labels = gt[valid].unique()
    masks = torch.stack([gt == c for c in labels]) if len(labels) else \
        gt.new_zeros((0, *size), dtype=torch.bool)
    return labels, masks, valid
