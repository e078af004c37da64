# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict
from mmengine.runner import load_checkpoint
from mmseg.models.segmentors import EncoderDecoder
from mmseg.utils import ConfigType, SampleList
from torch import Tensor, nn

from mmfactdiff.registry import MODELS
from .zegformer_head import ZegFormerHead


@MODELS.register_module()
class PADingSegmentor(EncoderDecoder):
    """PADing (He et al., CVPR 2023) over a trained mask-classification
    model: fake features of unseen classes teach a new classifier to name
    them.

    The backbone and the :class:`ZegFormerHead` are the stage-1 model,
    trained on the seen classes (the ZegFormer config), loaded from
    ``frozen_checkpoint`` and frozen. Each training iteration runs PADing's
    two steps, each with its own optimizer (``optim_wrapper`` is an
    ``OptimWrapperDict`` with ``generator`` and ``classifier``, built by
    :class:`SubmoduleOptimWrapperConstructor`):

    1. generator: the stage-1 queries matched to the seen-class segments
       (the head's Hungarian matching) are the real features; the
       :class:`PrimitiveGenerator` makes one fake feature from the class
       embedding of each, trained with the moment-matching loss
       (:class:`GMMNLoss`) against them, a cross-entropy of the new
       classifier on the fakes over the seen classes (weight
       ``cls_weight``, 0.001) and the semantic-structure loss (weight
       ``structure_weight``, 0.001) with fakes of the unseen classes;
    2. classifier: a linear classifier over query embeddings
       (``classifier``, C + 1 outputs with background) learns from every
       real query (matched ones their class, the others background, at
       ``no_object_weight``) and from fake features of up to
       ``num_choose`` unseen classes (at ``unseen_weight``).

    Inference replaces the head's cosine classification by the new
    classifier: ``sum_q softmax(classifier(q))[:C] * sigmoid(mask_q)``
    (the head's :meth:`~ZegFormerHead.semantic_scores`).

    Args:
        backbone (dict): Backbone config (the stage-1 model's).
        decode_head (dict): :class:`ZegFormerHead` config (the stage-1
            model's); its class embeddings and seen classes are PADing's.
        generator (dict): :class:`PrimitiveGenerator` config; its
            ``vector_dims`` and ``embed_dims`` are filled from the head
            when not given.
        gmmn_loss (dict): Moment-matching loss config. Defaults to
            ``dict(type='GMMNLoss')``.
        frozen_checkpoint (str, optional): Checkpoint of the stage-1 model
            (backbone and decode head, every weight of both: a checkpoint
            of another model is refused), loaded by :meth:`init_weights`
            before training. Training refuses to start without it. A
            trained PADing checkpoint holds the frozen part too, so testing
            needs no second file. Defaults to None.
        num_choose (int): Unseen classes given fake features in each
            classifier step. Defaults to 17 (PADing's, capped at the number
            of unseen classes); 0 trains the classifier on real seen
            features alone (an ablation).
        unseen_weight (float): Cross-entropy weight of the unseen classes in
            the classifier step. Defaults to 5.0.
        no_object_weight (float): Cross-entropy weight of the background
            (unmatched queries). Defaults to 0.1.
        cls_weight (float): Weight of the classifier's cross-entropy on
            fake seen features in the generator step. Defaults to 0.001.
        structure_weight (float): Weight of the structure loss. Defaults
            to 0.001.
        **kwargs: ``EncoderDecoder`` arguments.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 generator: ConfigType,
                 gmmn_loss: ConfigType = dict(type='GMMNLoss'),
                 frozen_checkpoint: Optional[str] = None,
                 num_choose: int = 17,
                 unseen_weight: float = 5.0,
                 no_object_weight: float = 0.1,
                 cls_weight: float = 0.001,
                 structure_weight: float = 0.001,
                 **kwargs) -> None:
        super().__init__(backbone=backbone, decode_head=decode_head, **kwargs)
        head = self.decode_head
        if not isinstance(head, ZegFormerHead):
            raise TypeError('PADingSegmentor: decode_head must be a '
                            'ZegFormerHead (a mask-classification head with '
                            f'query embeddings), got {type(head).__name__}')
        unseen = sorted(set(range(self.num_classes)) - set(head.seen.tolist()))
        if not unseen:
            raise ValueError('PADingSegmentor: decode_head.seen_classes '
                             'covers every class: there is no unseen class '
                             'to generate features for')
        self.register_buffer(
            'unseen', torch.tensor(unseen, dtype=torch.long), persistent=False)
        generator = dict(generator)
        generator.setdefault('embed_dims', head.channels)
        generator.setdefault('vector_dims',
                             head.class_embeddings.embeddings.shape[1])
        self.generator = MODELS.build(generator)
        self.gmmn_loss = MODELS.build(gmmn_loss)
        self.classifier = nn.Linear(head.channels, self.num_classes + 1)
        self.frozen_checkpoint = frozen_checkpoint
        self.num_choose = num_choose
        self.unseen_weight = unseen_weight
        self.no_object_weight = no_object_weight
        self.cls_weight = cls_weight
        self.structure_weight = structure_weight
        self._frozen_loaded = False
        self.backbone.requires_grad_(False)
        head.requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise the generator and classifier, then load the stage-1
        model (after, so that no initialisation overwrites it)."""
        super().init_weights()
        if self.frozen_checkpoint is not None:
            stage1 = nn.ModuleDict(
                dict(backbone=self.backbone, decode_head=self.decode_head))
            load_checkpoint(
                stage1,
                self.frozen_checkpoint,
                map_location='cpu',
                strict=True,
                revise_keys=[(r'^module\.', '')])
            self._frozen_loaded = True

    def train(self, mode: bool = True) -> 'PADingSegmentor':
        super().train(mode)
        # frozen: no batch statistics change, no dropout in the real
        # features
        self.backbone.eval()
        self.decode_head.eval()
        return self

    def _class_vectors(self) -> Tensor:
        return self.decode_head.class_embeddings().detach()

    def _real_queries(self, inputs: Tensor, data_samples: SampleList):
        """The frozen model's queries (B, Q, D) and each query's target
        class (B, Q): matched queries their class, others the
        background (``num_classes``)."""
        with torch.no_grad():
            head = self.decode_head
            q, masks = head.forward_queries(self.extract_feat(inputs))
            matches = head.match(head.classify(q), masks, data_samples)
        targets = q.new_full(q.shape[:2], self.num_classes, dtype=torch.long)
        for i, (q_idx, labels, _, _) in enumerate(matches):
            targets[i, q_idx] = labels
        return q, targets

    def _generator_losses(self, q: Tensor,
                          targets: Tensor) -> Dict[str, Tensor]:
        seen = self.decode_head.seen
        matched = targets != self.num_classes
        labels = targets[matched]
        if not len(labels):  # no seen-class segment in the batch
            zero = sum(p.sum() * 0 for p in self.generator.parameters())
            return dict(
                loss_gmmn=zero, loss_fake_cls=zero, loss_structure=zero)
        vectors = self._class_vectors()
        proj_seen = self.generator.projection(vectors[seen])
        proj_unseen = self.generator.projection(vectors[self.unseen])
        # index of each matched query's class among the seen classes
        to_seen = labels.new_full((self.num_classes + 1, ), -1)
        to_seen[seen] = torch.arange(len(seen), device=seen.device)
        seen_targets = to_seen[labels]
        fake_seen = self.generator.generate(proj_seen[seen_targets])
        fake_unseen = self.generator.generate(proj_unseen)
        logits = self.classifier(fake_seen)[:, seen]
        return dict(
            loss_gmmn=self.gmmn_loss(fake_seen, q[matched]),
            loss_fake_cls=self.cls_weight *
            F.cross_entropy(logits, seen_targets),
            loss_structure=self.structure_weight *
            self.generator.structure_loss(fake_seen, proj_seen, seen_targets,
                                          fake_unseen, proj_unseen))

    def _classifier_losses(self, q: Tensor,
                           targets: Tensor) -> Dict[str, Tensor]:
        feats, labels = q.flatten(0, 1), targets.flatten()
        n = min(self.num_choose, len(self.unseen))
        if n:  # num_choose=0: the ablation without generated features
            chosen = self.unseen[torch.randperm(
                len(self.unseen), device=self.unseen.device)[:n]]
            with torch.no_grad():
                fake = self.generator(self._class_vectors()[chosen])
            feats = torch.cat([feats, fake])
            labels = torch.cat([labels, chosen])
        weight = feats.new_ones(self.num_classes + 1)
        weight[self.unseen] = self.unseen_weight
        weight[-1] = self.no_object_weight
        return dict(
            loss_classifier=F.cross_entropy(
                self.classifier(feats), labels, weight=weight))

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """PADing's iteration: a generator step, then a classifier step,
        each with its own optimizer."""
        if not isinstance(optim_wrapper, OptimWrapperDict) or not {
                'generator', 'classifier'
        } <= set(optim_wrapper.keys()):
            raise TypeError('PADingSegmentor trains with two optimizers: set '
                            "optim_wrapper = dict(constructor="
                            "'SubmoduleOptimWrapperConstructor', "
                            'generator=dict(...), classifier=dict(...))')
        if not self._frozen_loaded:
            raise RuntimeError(
                'PADingSegmentor: model.frozen_checkpoint is not set (or '
                'init_weights was not called): PADing trains its generator '
                'and classifier over a trained mask-classification model; '
                'train the ZegFormer config first and pass its checkpoint '
                'with --cfg-options model.frozen_checkpoint=PATH')
        data = self.data_preprocessor(data, True)
        q, targets = self._real_queries(data['inputs'], data['data_samples'])
        gen, clf = optim_wrapper['generator'], optim_wrapper['classifier']
        with gen.optim_context(self.generator):
            loss, log_vars = self.parse_losses(
                self._generator_losses(q, targets))
        gen.update_params(loss)
        # the generator step's cross-entropy reaches the classifier's
        # weights: clear it so that the classifier learns from its own loss
        clf.zero_grad()
        with clf.optim_context(self.classifier):
            loss, clf_vars = self.parse_losses(
                self._classifier_losses(q, targets))
        clf.update_params(loss)
        # two losses, two steps: no single 'loss' to log
        log_vars.pop('loss')
        clf_vars.pop('loss')
        log_vars.update(clf_vars)
        return log_vars

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Class scores (B, C, H, W): the frozen model's segments named by
        the new classifier."""
        head = self.decode_head
        q, masks = head.forward_queries(self.extract_feat(inputs))
        return head.semantic_scores(
            self.classifier(q).softmax(-1)[..., :-1], masks, batch_img_metas)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        raise NotImplementedError(
            'PADingSegmentor trains through train_step (two optimizers)')

    @property
    def unseen_classes(self) -> Sequence[int]:
        """The classes without training labels."""
        return self.unseen.tolist()
