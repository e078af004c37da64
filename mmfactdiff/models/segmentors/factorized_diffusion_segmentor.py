# Copyright (c) mmfactdiff contributors. All rights reserved.
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.utils import ConfigType, OptConfigType, OptSampleList, SampleList
from torch import Tensor

from mmfactdiff.registry import DIFFUSION_SCHEDULERS, MODELS
from mmfactdiff.visualization import region_meta
from ..utils import (LossGuard, UNetFeatures, check_finite_images,
                     check_state_dict_shapes, check_trunk, fill_part_config,
                     labels_from_metas, mask_and_fold, mask_statistics,
                     region_gain_losses, resize_masks)
from .diffusion_sampling_mixin import DiffusionSamplingMixin

DEFAULT_TEST_CFG = dict(
    mode='whole', t=30, num_noise_draws=1, noise_seed=0, region_gain=False)


@MODELS.register_module()
class FactorizedDiffusionSegmentor(DiffusionSamplingMixin, EncoderDecoder):
    """Factorized diffusion model (Yuan & Maire, NeurIPS 2024).

    A DDPM denoiser cut into an encoder (``backbone``, with the middle
    block), a mask generator (``decode_head``: K region masks from the
    bottleneck and all skips) and one decoder shared by all regions
    (``decoder``: one pass per region on masked skips). The noise
    prediction is ``sum_k m_k * eps_k``, so the network can only denoise by
    splitting the image into regions.

    .. code:: text

     loss():     x0 -> add_noise(t ~ U) -> backbone -> decode_head -> masks
                 -> decoder(feats, masks) -> loss_denoise(eps_hat, eps)
                 (no labels; mask statistics returned as log variables)
     predict():  x -> add_noise(test_cfg.t, fixed seed) -> backbone
                 -> decode_head -> softmax -> (avg over draws) -> argmax
                 (the decoder is never run)
     sample():   x_T ~ N(0, I) -> [denoise -> scheduler.step] * steps
                 -> images, masks at the last step
                 (DiffusionSamplingMixin)

    Hierarchical model: with ``sub_mask_head``, a level-2 mask generator
    (shared over parent regions) reads ``h_mid`` and the skips masked by
    each parent mask ``m_i`` and splits it again; the leaves
    ``m_i * m_{j|i}`` (K1 * K2 of them) go to the decoder and to
    ``predict``.

    Class-conditional model: set ``num_classes`` on the backbone and
    ``cond_label_key`` here; the label is read from each sample's metainfo.

    Args:
        backbone (dict): Encoder config (e.g. ``DiffusionUNetEncoder``).
        decode_head (dict): Mask generator config (``MaskGeneratorHead``);
            ``num_classes`` is K. ``in_channels``, ``in_strides`` and
            ``emb_channels`` are filled from the backbone when missing.
        decoder (dict): Decoder config (``ParallelUNetDecoder``), filled
            likewise, plus ``num_regions``.
        scheduler (dict): Noise scheduler config, from
            ``DIFFUSION_SCHEDULERS``. Defaults to a linear DDPM, T=1000.
        trunk (dict, optional): The U-Net output half (the trunk) that the
            mask generator(s) and the decoder are built from, stated once:
            any of ``TRUNK_KEYS`` (``channels``, ``channel_mults``,
            ``attention_strides``, ``num_groups``, ...), copied into the
            ``decode_head``, ``sub_mask_head`` and ``decoder`` configs. A key
            goes either here or in the parts, not both (an error names it),
            so ``--cfg-options model.trunk.channels=64`` changes every half.
            Defaults to None.
        sub_mask_head (dict, optional): Level-2 mask generator config for
            the hierarchical model. Defaults to None.
        cond_label_key (str, optional): Metainfo key of the class label for
            class-conditional models. Defaults to None.
        loss_denoise (dict): Config of the denoising loss, a registered
            loss module. Defaults to ``dict(type='DenoisingMSELoss')``.
        train_cfg (dict, optional): Unused (kept for the mmseg signature);
            must be empty: training options are constructor arguments.
        test_cfg (dict, optional): ``t`` (noise level of the segmentation
            read-out, default 30), ``num_noise_draws`` (masks averaged over
            this many noise draws, default 1), ``noise_seed`` (default 0),
            ``mode`` (``'whole'`` or ``'slide'``), ``img_size`` (for
            :meth:`sample`), optional ``region_names`` / ``region_palette``
            (for :attr:`dataset_meta`), ``region_gain`` (default False:
            :meth:`predict` also returns each image's label-free region
            gain losses, read by ``RegionGainMetric``).
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config;
            use ``mean=std=[127.5] * 3`` for inputs in [-1, 1].
        with_cp (bool, optional): Gradient checkpointing switch for the
            whole model: when set, overrides ``with_cp`` of the backbone,
            mask generator(s) and decoder (activations of every residual
            and attention block are recomputed in the backward pass).
            None leaves each part's own setting. Defaults to None.
        channels_last (bool): Keep the 4D weights and the encoder input in
            the ``torch.channels_last`` memory format (faster convolutions
            on GPUs with tensor cores; same results). Defaults to False.
        nonfinite_loss (str): What a NaN or infinite loss term does:
            ``'stop'`` raises before the update (the weights and the last
            checkpoint stay good); ``'skip'`` drops that step's update with
            a warning naming the term and iteration, and stops once
            ``max_skipped_steps`` steps in a row were skipped. Defaults to
            'stop'.
        max_skipped_steps (int): Consecutive skipped steps after which a
            ``'skip'`` run stops. Defaults to 10.
        loss_spike_ratio (float, optional): Also treat a finite loss term
            above this multiple of the median of its last 100 values as a
            fault (stop or skip as ``nonfinite_loss`` says). None checks
            only for NaN and inf. Defaults to None.
        pretrained (str, optional): Unused; kept for the mmseg signature.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 decoder: ConfigType,
                 scheduler: ConfigType = dict(type='DDPMNoiseScheduler'),
                 loss_denoise: ConfigType = dict(type='DenoisingMSELoss'),
                 trunk: OptConfigType = None,
                 sub_mask_head: OptConfigType = None,
                 cond_label_key: Optional[str] = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptConfigType = None,
                 with_cp: Optional[bool] = None,
                 channels_last: bool = False,
                 nonfinite_loss: str = 'stop',
                 max_skipped_steps: int = 10,
                 loss_spike_ratio: Optional[float] = None) -> None:
        BaseSegmentor.__init__(
            self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        trunk = check_trunk(trunk)
        if with_cp is not None:
            backbone, decode_head, decoder = (
                dict(cfg, with_cp=with_cp)
                for cfg in (backbone, decode_head, decoder))
            if sub_mask_head is not None:
                sub_mask_head = dict(sub_mask_head, with_cp=with_cp)
        self.backbone = MODELS.build(backbone)
        self._init_decode_head(
            fill_part_config(decode_head, trunk, self.backbone))
        if self.decode_head.num_classes < 1:
            raise ValueError('decode_head.num_classes (K, the number of '
                             'regions) must be >= 1, got '
                             f'{self.decode_head.num_classes}')
        self.sub_mask_head = None
        if sub_mask_head is not None:
            self.sub_mask_head = MODELS.build(
                fill_part_config(sub_mask_head, trunk, self.backbone))
            # predict() and the decoder see the K1 * K2 leaves
            self.num_classes = self.out_channels = (
                self.decode_head.out_channels *
                self.sub_mask_head.out_channels)
        decoder = fill_part_config(decoder, trunk, self.backbone)
        if decoder.get('num_regions', None) is None:
            decoder['num_regions'] = self.out_channels
        self.decoder = MODELS.build(decoder)
        self.scheduler = (
            DIFFUSION_SCHEDULERS.build(scheduler) if isinstance(
                scheduler, dict) else scheduler)
        # T travels with the weights: a read-out at t = 30 of a model
        # trained with another T would be another noise level
        self.register_buffer('scheduler_timesteps',
                             torch.tensor(len(self.scheduler)))
        self.loss_denoise = MODELS.build(loss_denoise)
        self.cond_label_key = cond_label_key
        self.loss_guard = LossGuard(nonfinite_loss, max_skipped_steps,
                                    loss_spike_ratio)
        if train_cfg:
            raise ValueError(
                f'FactorizedDiffusionSegmentor takes no train_cfg options, '
                f'got {sorted(train_cfg)} (usage_balance_weight was removed: '
                'it measured worse than training without it, '
                'projects/emergence_study/history.md); set the loss with '
                '`loss_denoise`')
        self.train_cfg = ConfigDict()
        test = copy.deepcopy(DEFAULT_TEST_CFG)
        test.update(test_cfg or {})
        self.test_cfg = ConfigDict(test)
        self.channels_last = channels_last
        if channels_last:
            # converts the 4D parameters; later .to(device) and checkpoint
            # loading preserve the format
            self.to(memory_format=torch.channels_last)

    # -- region names for mmseg's inference APIs ----------------------------
    @property
    def dataset_meta(self) -> dict:
        """``classes`` and ``palette`` of the K regions, for visualisers.

        mmseg's ``init_model``, ``show_result_pyplot`` and
        ``MMSegInferencer`` read ``model.dataset_meta`` to name and colour
        the predicted ids. The regions are unsupervised, so they are named
        ``('region 0', 'region 1', ...)`` unless ``test_cfg.region_names``
        (K names) is set; ``test_cfg.region_palette`` (K RGB triples)
        overrides the default colours (:func:`region_palette`).
        """
        return region_meta(self.out_channels,
                           self.test_cfg.get('region_names', None),
                           self.test_cfg.get('region_palette', None))

    @dataset_meta.setter
    def dataset_meta(self, meta: Optional[dict]) -> None:
        """Keep assigned metainfo aside as ``source_dataset_meta``.

        ``init_model`` and ``MMSegInferencer`` assign the checkpoint's
        training-set metainfo (or Cityscapes'): its classes name the data's
        labels, not the K regions, so it must not rename them.
        """
        self.source_dataset_meta = meta

    # -- shared pieces ------------------------------------------------------
    def _cond_labels(self, metas: Optional[Sequence],
                     device: torch.device) -> Optional[Tensor]:
        """Class labels from sample metainfo (class-conditional models)."""
        return labels_from_metas(metas, self.cond_label_key, device)

    def extract_feat(self,
                     inputs: Tensor,
                     t: Union[Tensor, int, None] = None,
                     labels: Optional[Tensor] = None) -> UNetFeatures:
        """Encoder + middle block at timestep ``t``."""
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return self.backbone(inputs, t, labels)

    def _leaf_masks(self, feats: UNetFeatures, masks: Tensor) -> Tensor:
        """Hierarchical model: split each parent region into K2."""
        b, k1 = masks.shape[:2]
        folded = mask_and_fold(feats[:-1], masks)
        folded.append(feats[-1].repeat_interleave(k1, dim=0))
        emb = feats.emb.repeat_interleave(k1, dim=0) \
            if feats.emb is not None else None
        logits = self.sub_mask_head(UNetFeatures(folded, emb))
        cond = self.sub_mask_head.masks(logits)
        cond = resize_masks(cond, masks.shape[-2:]).unflatten(0, (b, k1))
        return (masks[:, :, None] * cond).flatten(1, 2)

    def _masks_and_probs(self, feats: UNetFeatures, size: Sequence[int],
                         sample: bool) -> Tuple[Tensor, Tensor]:
        """Region masks at ``size`` and the probabilities behind them.

        The probabilities are the generator's softmax even when the masks
        are hard Gumbel samples (whose entropy is 0 and whose spatial
        variation comes from the noise): the statistics read them. For a
        hierarchical model both are the leaves' masks.
        """
        logits = self.decode_head(feats)
        probs = logits.softmax(dim=1)
        hard = sample and self.training
        masks = resize_masks(
            self.decode_head.masks(logits) if hard else probs, size)
        if self.sub_mask_head is not None:
            masks = self._leaf_masks(feats, masks)
            return masks, masks
        return masks, (resize_masks(probs, size) if hard else masks)

    def region_masks(self,
                     feats: UNetFeatures,
                     size: Sequence[int],
                     sample: bool = True) -> Tensor:
        """Masks (B, K, H, W) summing to one, at ``size``.

        ``sample=True`` uses the heads' training-time sampling
        (``mask_sampling``) when in training mode; ``False`` always softmax.
        """
        return self._masks_and_probs(feats, size, sample)[0]

    def denoise(self,
                x_t: Tensor,
                t: Union[Tensor, int],
                labels: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Full forward: the noise prediction and the region masks.

        Args:
            x_t (Tensor): Noised images (B, C, H, W).
            t (Tensor | int): Timesteps.
            labels (Tensor, optional): Class labels of a conditional model.

        Returns:
            tuple: ``eps_hat`` (B, C, H, W) and masks (B, K, H, W).
        """
        eps_hat, masks, _ = self._denoise(x_t, t, labels)
        return eps_hat, masks

    def _denoise(self, x_t: Tensor, t: Union[Tensor, int],
                 labels: Optional[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """:meth:`denoise` plus the probabilities behind the masks."""
        feats = self.extract_feat(x_t, t, labels)
        masks, probs = self._masks_and_probs(
            feats, x_t.shape[-2:], sample=True)
        return self.decoder(feats, masks), masks, probs

    # -- modes ----------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Denoising loss. Reads no segmentation labels.

        Returns:
            dict: the denoising loss (key ``loss_denoise.loss_name``) and
            the mask statistics of :func:`mask_statistics` (log variables:
            their keys hold no ``'loss'``, so mmengine logs them and passes
            them to hooks without back-propagating them).
        """
        labels = self._cond_labels(data_samples, inputs.device)
        t = self.scheduler.sample_timesteps(inputs.shape[0], inputs.device)
        noise = torch.randn_like(inputs)
        x_t = self.scheduler.add_noise(inputs, noise, t)
        eps_hat, _, probs = self._denoise(x_t, t, labels)
        losses = {
            self.loss_denoise.loss_name: self.loss_denoise(eps_hat, noise)
        }
        losses.update(mask_statistics(probs))
        return losses

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, Tensor]:
        """mmengine's ``train_step``; with ``nonfinite_loss='skip'`` a
        step whose loss :meth:`parse_losses` refused is dropped instead of
        stopping the run (:class:`LossGuard`)."""
        try:
            log_vars = super().train_step(data, optim_wrapper)
        except FloatingPointError as e:
            return self.loss_guard.handle(e)
        self.loss_guard.passed()
        return log_vars

    def parse_losses(self, losses: dict) -> Tuple[Tensor, dict]:
        """mmengine's ``parse_losses``, refusing a NaN, infinite (or, with
        ``loss_spike_ratio``, exploding) loss term.

        Raised before the backward pass and the optimizer step, so the
        weights, the optimizer state and every checkpoint on disk stay as
        they were after the last good iteration.

        Raises:
            FloatingPointError: names the faulty term(s), their values
                and the iteration.
        """
        self.loss_guard.check(losses)
        return super().parse_losses(losses)

    def predict_regions(self,
                        inputs: Tensor,
                        t: Optional[int] = None,
                        num_noise_draws: Optional[int] = None,
                        noise_seed: Optional[int] = None,
                        labels: Optional[Tensor] = None,
                        img_paths: Optional[Sequence[str]] = None) -> Tensor:
        """The one-pass read-out: region probabilities of clean images.

        Encoder, middle block and mask generator(s) only (the decoder is
        never run), on the images noised to level ``t``. Every caller
        (``predict``, ``tensor`` mode, the analysis and study tools) goes
        through this method.

        Args:
            inputs (Tensor): Preprocessed images (B, C, H, W).
            t (int, optional): Noise level. Defaults to ``test_cfg.t``.
            num_noise_draws (int, optional): Masks are averaged over this
                many noise draws. Defaults to ``test_cfg.num_noise_draws``.
            noise_seed (int, optional): Seed of the draws' generator, reset
                at every call (deterministic). Defaults to
                ``test_cfg.noise_seed``.
            labels (Tensor, optional): Class labels (B, ) of a
                class-conditional model.
            img_paths (Sequence[str], optional): The images' files, named
                by the error that refuses NaN or infinite pixels.

        Returns:
            Tensor: Probabilities (B, K, H, W) at the input size (the leaves
            of a hierarchical model). Every image of the batch gets the same
            draws, so its masks do not depend on the batch it is in.
        """
        check_finite_images(inputs, img_paths)
        cfg = self.test_cfg
        t = int(cfg.t if t is None else t)
        draws = int(cfg.num_noise_draws if num_noise_draws is
                    None else num_noise_draws)
        seed = int(cfg.noise_seed if noise_seed is None else noise_seed)
        if draws < 1:
            raise ValueError(f'num_noise_draws must be >= 1, got {draws}')
        if not 0 <= t < len(self.scheduler):
            raise ValueError(
                f'read-out noise level t={t} is outside the scheduler\'s '
                f'[0, {len(self.scheduler)})')
        masks = 0.
        for noise in self._readout_noise(inputs, seed, draws):
            x_t = self.scheduler.add_noise(inputs, noise.expand_as(inputs), t)
            feats = self.extract_feat(x_t, t, labels)
            masks = masks + self.region_masks(
                feats, inputs.shape[-2:], sample=False)
        return masks / draws

    @staticmethod
    def _readout_noise(inputs: Tensor, seed: int, draws: int):
        """The read-out's noise draws, from a generator reset to ``seed``.

        Each is one (C, H, W) draw shared by the batch: drawing (B, C, H, W)
        made an image's noise depend on its batch size and position.
        """
        gen = torch.Generator().manual_seed(seed)
        for _ in range(draws):
            yield torch.randn(inputs.shape[1:], generator=gen).to(inputs)

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """mmseg's ``predict``; with ``test_cfg.region_gain`` each sample
        also gets ``region_gain_losses`` (2, ): the denoising losses of the
        image with one region and with the model's own regions, at the
        read-out's ``t`` and first noise draw (``region_gain_losses`` of
        ``mmfactdiff.models.utils``; no labels are read)."""
        results = super().predict(inputs, data_samples)
        if self.test_cfg.get('region_gain', False):
            noise, = self._readout_noise(inputs, int(self.test_cfg.noise_seed),
                                         1)
            losses = region_gain_losses(self, inputs, noise,
                                        int(self.test_cfg.t))
            for sample, pair in zip(results, losses.cpu()):
                sample.set_field(pair, 'region_gain_losses')
        return results

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        # before any weight is copied: mmengine's non-strict loading would
        # only warn and leave a half-loaded model
        check_state_dict_shapes(self, state_dict, prefix)
        key = prefix + 'scheduler_timesteps'
        if key not in state_dict:  # checkpoints written before T was saved
            state_dict[key] = self.scheduler_timesteps.clone()
        elif int(state_dict[key]) != len(self.scheduler):
            raise ValueError(
                f'checkpoint was trained with {int(state_dict[key])} '
                f'diffusion timesteps, the model\'s scheduler has '
                f'{len(self.scheduler)}: set model.scheduler.'
                f'num_train_timesteps={int(state_dict[key])}')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Soft masks (B, K, H, W) of :meth:`predict_regions` at the
        ``test_cfg`` settings, class labels read from the metas."""
        labels = self._cond_labels(batch_img_metas, inputs.device)
        return self.predict_regions(
            inputs,
            labels=labels,
            img_paths=[m.get('img_path') for m in batch_img_metas])

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """``tensor`` mode: the soft region masks (B, K, H, W)."""
        metas = ([s.metainfo for s in data_samples] if data_samples is not None
                 else [dict(img_shape=inputs.shape[2:])] * inputs.shape[0])
        return self.encode_decode(inputs, metas)
