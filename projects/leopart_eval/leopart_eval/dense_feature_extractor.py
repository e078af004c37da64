# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Any backbone's dense features as an mmseg model's test output."""
import math
from typing import List, Optional, Sequence, Union

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor, nn

from mmfactdiff.registry import MODELS
from .value_checks import is_int


@MODELS.register_module()
class DenseFeatureExtractor(BaseSegmentor):
    """A frozen backbone (and neck) whose features are the prediction.

    It makes ANY mmseg backbone evaluable by :class:`DenseClusterMetric`
    through the standard ``tools/test.py``: ``predict`` runs the backbone
    (then the optional neck) on the batch, takes the feature level(s)
    ``in_index`` and writes each image's ``(C, h, w)`` map to its data
    sample's ``seg_logits`` (as ``PixelData``), where the metric reads it
    (``feature_field='seg_logits'``). There is no head and no
    ``pred_sem_seg``: the clusters are formed over the whole split by the
    metric, not per image.

    Per image, the padding that the data preprocessor added (metainfo
    ``img_padding_size`` or ``padding_size``, in input pixels) is cropped
    from the features (rounded to feature cells) and a test-time flip is
    undone, as mmseg's ``postprocess_result`` does for logits. The map is
    then kept at the feature resolution (``output_size=None``: Leopart
    clusters patch tokens and resizes the cluster map to the masks) or
    resized bilinearly to the image's ``ori_shape``
    (``output_size='ori_shape'``; memory grows with the image size).

    Weights come from the checkpoint given to ``tools/test.py`` (the
    runner's ``load_from``): it must hold every ``backbone.*`` (and
    ``neck.*``) key of this model, or loading raises, naming the missing
    keys (features of a half-loaded backbone would be scored without a
    word). Other keys, e.g. a factorized model's mask generator and
    decoder, are skipped with mmengine's unexpected-key warning. A
    backbone's ``init_cfg`` is not applied by mmengine's test loop (only
    training calls ``init_weights``). The model is evaluation-only:
    ``loss`` raises, every parameter is frozen and the modules stay in
    eval mode.

    Args:
        backbone (dict): mmseg backbone config; its ``forward(inputs)``
            returns a tensor or a tuple of ``(B, C_i, h_i, w_i)`` maps.
        neck (dict, optional): Neck config applied to the backbone's
            outputs. Defaults to None.
        in_index (int | Sequence[int]): Output level(s) to return. Several
            levels are resized bilinearly to the size of the first one and
            concatenated along channels (a hypercolumn). Defaults to -1
            (the last).
        output_size (str, optional): None keeps the feature resolution;
            ``'ori_shape'`` resizes to each image's original size.
            Defaults to None.
        align_corners (bool): ``align_corners`` of the bilinear resizes.
            Defaults to False.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config;
            use the normalisation the backbone was trained with.
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    OUTPUT_SIZES = (None, 'ori_shape')

    def __init__(self,
                 backbone: ConfigType,
                 neck: OptConfigType = None,
                 in_index: Union[int, Sequence[int]] = -1,
                 output_size: Optional[str] = None,
                 align_corners: bool = False,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if output_size not in self.OUTPUT_SIZES:
            raise ValueError(f'output_size must be one of {self.OUTPUT_SIZES}'
                             f', got {output_size!r}')

        levels = in_index if isinstance(in_index, (list, tuple)) else None
        if not (is_int(in_index) or (levels and all(is_int(i)
                                                    for i in levels))):
            raise ValueError('in_index must be an int or a non-empty list of '
                             f'ints, got {in_index!r}')
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.in_index = in_index
        self.output_size = output_size
        self.align_corners = align_corners
        for param in self.parameters():
            param.requires_grad_(False)
        self.train(False)
        self.register_load_state_dict_post_hook(self._check_loaded)

    @staticmethod
    def _check_loaded(module: nn.Module, incompatible_keys) -> None:
        """Refuse a checkpoint that misses backbone or neck weights."""
        missing = [
            k for k in incompatible_keys.missing_keys
            if k.startswith(('backbone.', 'neck.'))
            and not k.endswith('num_batches_tracked')
        ]
        if missing:
            raise RuntimeError(
                f'DenseFeatureExtractor: the checkpoint lacks {len(missing)} '
                f'backbone/neck weights (e.g. {missing[:3]}): its keys must '
                "be this model's backbone.* (and neck.*) names, as in a "
                'tools/train.py checkpoint of a model with the same '
                'backbone config; convert other checkpoints first')

    def train(self, mode: bool = True) -> 'DenseFeatureExtractor':
        """Stay in eval mode: the features come from a frozen model."""
        return super().train(False)

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """The selected feature level(s) of a batch.

        Args:
            inputs (Tensor): Preprocessed images ``(B, 3, H, W)``.

        Returns:
            Tensor: ``(B, C, h, w)`` features.
        """
        outs = self.backbone(inputs)
        if self.neck is not None:
            outs = self.neck(outs)
        if torch.is_tensor(outs):
            outs = [outs]
        outs = list(outs)
        indices = [self.in_index] if isinstance(self.in_index,
                                                int) else self.in_index
        for i in indices:
            if not -len(outs) <= i < len(outs):
                raise IndexError(
                    f'in_index {i} is out of range: the backbone'
                    f'{" and neck" if self.neck is not None else ""} '
                    f'return {len(outs)} feature maps')
        feats = [outs[i] for i in indices]
        for i, f in zip(indices, feats):
            if f.dim() != 4:
                raise ValueError(f'feature level {i} must be (B, C, h, w), '
                                 f'got {tuple(f.shape)}')
        size = feats[0].shape[2:]
        feats = [feats[0]] + [
            resize(
                f,
                size=size,
                mode='bilinear',
                align_corners=self.align_corners) for f in feats[1:]
        ]
        return torch.cat(feats, dim=1)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """The batch's features (``extract_feat``); there is no decoder.

        Args:
            inputs (Tensor): Preprocessed images ``(B, 3, H, W)``.
            batch_img_metas (list[dict]): Image metas (unused).

        Returns:
            Tensor: ``(B, C, h, w)`` features.
        """
        return self.extract_feat(inputs)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: Optional[List[SegDataSample]] = None) -> Tensor:
        """``mode='tensor'``: the batch's features ``(B, C, h, w)``."""
        return self.extract_feat(inputs)

    def loss(self, inputs: Tensor, data_samples: List[SegDataSample]) -> dict:
        """Not trainable.

        Raises:
            RuntimeError: Always; train the backbone elsewhere and evaluate
                its checkpoint with ``tools/test.py``.
        """
        raise RuntimeError(
            'DenseFeatureExtractor is evaluation-only (frozen features): '
            'train the backbone with its own model and evaluate the '
            'checkpoint with tools/test.py')

    def _crop_padding(self, feat: Tensor, input_size: Sequence[int],
                      meta: dict) -> Tensor:
        """Drop the feature cells of the preprocessor's padding."""
        padding = meta.get('img_padding_size', meta.get('padding_size'))
        if not padding or not any(padding):
            return feat
        left, right, top, bottom = padding
        h, w = feat.shape[-2:]
        scale_h, scale_w = h / input_size[0], w / input_size[1]
        top_f = int(math.floor(top * scale_h))
        left_f = int(math.floor(left * scale_w))
        # keep every cell that holds image content
        bottom_f = h - int(math.ceil((input_size[0] - bottom) * scale_h))
        right_f = w - int(math.ceil((input_size[1] - right) * scale_w))
        return feat[:, top_f:h - bottom_f, left_f:w - right_f]

    def predict(
        self,
        inputs: Tensor,
        data_samples: Optional[List[SegDataSample]] = None
    ) -> List[SegDataSample]:
        """Features of each image in its data sample's ``seg_logits``.

        Args:
            inputs (Tensor): Preprocessed images ``(B, 3, H, W)``.
            data_samples (list[SegDataSample], optional): The batch's
                samples (metainfo: ``ori_shape``, padding, flip). None
                makes new ones and returns the maps as they are.

        Returns:
            list[SegDataSample]: The samples, each with ``seg_logits``
            holding its ``(C, h, w)`` features.
        """
        with torch.no_grad():
            feats = self.extract_feat(inputs)
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(feats.shape[0])]
            metas = [None] * feats.shape[0]
        else:
            metas = [s.metainfo for s in data_samples]
        for feat, sample, meta in zip(feats, data_samples, metas):
            if meta is not None:
                feat = self._crop_padding(feat, inputs.shape[-2:], meta)
                if meta.get('flip', False):
                    direction = meta.get('flip_direction', 'horizontal')
                    feat = feat.flip(
                        dims=(2, ) if direction == 'horizontal' else (1, ))
                if self.output_size == 'ori_shape':
                    feat = resize(
                        feat[None],
                        size=tuple(meta['ori_shape'][:2]),
                        mode='bilinear',
                        align_corners=self.align_corners)[0]
            sample.set_data({'seg_logits': PixelData(data=feat)})
        return data_samples
