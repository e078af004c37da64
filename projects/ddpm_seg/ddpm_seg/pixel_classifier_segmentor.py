# Copyright (c) mmfactdiff contributors. All rights reserved.
import copy

from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.utils import ConfigType

from mmfactdiff.registry import MODELS


@MODELS.register_module()
class PixelClassifierSegmentor(EncoderDecoder):
    """mmseg's :class:`EncoderDecoder` whose decode head learns from the
    features of a fixed backbone (DDPM-seg: :class:`DiffusionFeatureBackbone`
    and :class:`PixelMLPEnsembleHead`).

    The only difference: ``decode_head.in_channels`` is filled in from the
    backbone's ``out_channels`` when the config leaves it out, so changing
    the backbone's ``steps`` or ``blocks`` (e.g. by ``--cfg-options``)
    needs no arithmetic in the config. Training, inference, sliding
    windows and post-processing are mmseg's.

    The constructor is :class:`EncoderDecoder`'s.

    Args:
        backbone (dict): Backbone config; its ``out_channels`` fill the
            head's ``in_channels``.
        decode_head (dict): Decode head config; ``in_channels`` may be
            left out (filled in) or must equal the backbone's width.
        neck (dict, optional): Neck config; with one,
            ``decode_head.in_channels`` must be given. Defaults to None.
        auxiliary_head (dict, optional): Auxiliary head config.
            Defaults to None.
        train_cfg (dict, optional): Training config. Defaults to None.
        test_cfg (dict, optional): Inference config: ``mode``
            (``'whole'`` or ``'slide'``, with ``crop_size`` and
            ``stride``). Defaults to None.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config;
            ``mean=std=[127.5] * 3`` for a diffusion U-Net's [-1, 1]
            inputs. Defaults to None.
        pretrained (str, optional): mmseg's backbone ``pretrained`` path
            (unused by :class:`DiffusionFeatureBackbone`, which takes
            ``checkpoint``). Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def _init_decode_head(self, decode_head: ConfigType) -> None:
        """Fill ``in_channels`` from the backbone, then build the head."""
        cfg = ConfigDict(copy.deepcopy(decode_head))
        width = None if self.with_neck else getattr(self.backbone,
                                                    'out_channels', None)
        if cfg.get('in_channels', None) is None:
            if width is None:
                raise ValueError(
                    'PixelClassifierSegmentor: set decode_head.in_channels '
                    '(the backbone has no out_channels to fill it from, or '
                    'a neck sits in between)')
            cfg.in_channels = width
        elif width is not None and cfg.in_channels != width:
            raise ValueError(
                f'PixelClassifierSegmentor: decode_head.in_channels='
                f'{cfg.in_channels}, but the backbone gives {width} '
                'channels: remove decode_head.in_channels (it is filled in) '
                f'or set it to {width}')
        super()._init_decode_head(cfg)
