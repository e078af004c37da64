# Copyright (c) mmfactdiff contributors. All rights reserved.
import json
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmfactdiff.registry import MODELS
from .clip_text_checkpoint import load_clip_text_checkpoint


@MODELS.register_module()
class ClassEmbeddings(BaseModule):
    """One L2-normalised embedding per class name, for classifying segments
    against class names (ZegFormer's and PADing's class side).

    Two sources, exactly one of them set:

    - ``text_encoder``: mmseg's ``CLIPTextEncoder`` config (its
      ``templates`` are the prompts, averaged per class as CLIP does; the
      vocabulary is ``class_names``), with ``clip_checkpoint`` a LOCAL
      OpenAI CLIP state dict. The embeddings are computed once, by
      :meth:`init_weights`, and kept as a buffer, so a trained model's
      checkpoint carries them and testing needs neither CLIP nor its
      weights;
    - ``vectors``: a local file of class vectors, the word-vector option of
      both originals: ``.npy`` (C, D) in ``class_names`` order, or ``.json``
      mapping each class name to its vector. Read at construction.

    Args:
        class_names (Sequence[str]): The classes, in label order.
        text_encoder (dict, optional): ``CLIPTextEncoder`` config.
        clip_checkpoint (str, optional): Local CLIP file for
            ``text_encoder`` (required with it: random text weights would
            embed nothing).
        vectors (str, optional): Local class-vector file.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 class_names: Sequence[str],
                 text_encoder: Optional[dict] = None,
                 clip_checkpoint: Optional[str] = None,
                 vectors: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.class_names: List[str] = [str(c) for c in class_names]
        if not self.class_names:
            raise ValueError('ClassEmbeddings: class_names is empty')
        if (text_encoder is None) == (vectors is None):
            raise ValueError('ClassEmbeddings: set exactly one source, '
                             'text_encoder (+ clip_checkpoint) or vectors')
        if text_encoder is not None and clip_checkpoint is None:
            raise ValueError('ClassEmbeddings: text_encoder needs '
                             'clip_checkpoint=PATH (a local CLIP file; '
                             'nothing is downloaded)')
        self.text_encoder_cfg = text_encoder
        self.clip_checkpoint = clip_checkpoint
        if vectors is not None:
            table = self._read_vectors(vectors)
        else:
            width = int(text_encoder.get('output_dims', 512))
            table = torch.zeros(len(self.class_names), width)
        self.register_buffer('embeddings', table)

    def _read_vectors(self, path: str) -> Tensor:
        if not osp.isfile(path):
            raise FileNotFoundError(f'ClassEmbeddings: no vectors file '
                                    f'{path}')
        if path.endswith('.npy'):
            table = np.load(path, allow_pickle=False)
            if table.ndim != 2 or table.shape[0] != len(self.class_names):
                raise ValueError(
                    f'{path}: expected ({len(self.class_names)}, D) class '
                    f'vectors in class_names order, got {table.shape}')
        elif path.endswith('.json'):
            with open(path) as f:
                by_name = json.load(f)
            missing = [c for c in self.class_names if c not in by_name]
            if missing:
                raise KeyError(f'{path}: no vector for {missing[:5]}')
            table = np.asarray([by_name[c] for c in self.class_names],
                               dtype=np.float32)
            if table.ndim != 2:
                raise ValueError(f'{path}: vectors of different lengths')
        else:
            raise ValueError(f'{path}: class vectors must be .npy or .json')
        table = torch.as_tensor(table, dtype=torch.float32)
        if not torch.isfinite(table).all() or (table.norm(dim=1) == 0).any():
            raise ValueError(f'{path}: a class vector is zero or not finite')
        return F.normalize(table, dim=1)

    @torch.no_grad()
    def init_weights(self) -> None:
        """Encode the class names with CLIP (text-encoder source only)."""
        super().init_weights()
        if self.text_encoder_cfg is None:
            return
        cfg = dict(self.text_encoder_cfg)
        cfg.update(vocabulary=self.class_names, cat_bg=False)
        encoder = MODELS.build(cfg)
        load_clip_text_checkpoint(encoder, self.clip_checkpoint)
        embeds = encoder.template_encode(self.class_names)
        self.embeddings.copy_(F.normalize(embeds.float(), dim=1))

    def forward(self) -> Tensor:
        """The (C, D) unit-norm class embeddings."""
        return self.embeddings


def build_seen_class_side(owner: str, class_embeddings: dict,
                          seen_classes: Sequence[int],
                          num_classes: int) -> Tuple[nn.Module, torch.Tensor]:
    """Build a head's :class:`ClassEmbeddings` and check its seen classes.

    Args:
        owner (str): The head's name, for the errors.
        class_embeddings (dict): :class:`ClassEmbeddings` config.
        seen_classes (Sequence[int]): Class indices trained on.
        num_classes (int): The head's ``num_classes``.

    Returns:
        tuple: The embeddings module and the sorted seen indices (a long
        tensor).
    """
    module = MODELS.build(class_embeddings)
    names = module.class_names
    if len(names) != num_classes:
        raise ValueError(f'{owner}: num_classes={num_classes} but '
                         f'class_embeddings names {len(names)} classes')
    seen = sorted({int(c) for c in seen_classes})
    if not seen or seen[0] < 0 or seen[-1] >= num_classes:
        raise ValueError(f'{owner}: seen_classes must be class indices in '
                         f'[0, {num_classes}), got {list(seen_classes)}')
    return module, torch.tensor(seen)
