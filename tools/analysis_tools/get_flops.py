# Copyright (c) mmfactdiff contributors. All rights reserved.
"""FLOPs and parameters of a factorized diffusion model, path by path.

mmseg's ``get_flops.py`` counts one ``forward``; a factorized diffusion
model has several forwards that cost very different amounts, so this tool
reports each of them on the same input:

- ``full``: the denoiser at one timestep: encoder + middle block, mask
  generator, and the decoder once per region (K passes folded into the
  batch) -- what training and sampling run;
- ``fast``: the segmentation fast path of ``predict`` (noise to
  ``test_cfg.t``, encoder + middle block, mask generator; no decoder);
- ``plain``: a plain U-Net of the same width (encoder + middle block + the
  decoder run once on unmasked skips: the model with K = 1 and no mask
  generator);
- ``ddpmseg``: the DDPM-segmentation feature pass (Baranchuk et al.):
  three ``plain`` passes at t = 50, 150, 250 whose decoder-block features
  are upsampled to the input size and concatenated.

Counts use mmengine's ``FlopAnalyzer`` (fvcore's convention: one fused
multiply-add counts as one FLOP; element-wise activations are not counted)
plus a handle for ``scaled_dot_product_attention``, which it does not know.

    python tools/analysis_tools/get_flops.py CONFIG [--shape 64 [64]] \
        [--paths full fast plain ddpmseg] [--cfg-options k=v ...]
"""
import argparse
import json
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from torch import Tensor

PATHS = ('full', 'fast', 'plain', 'ddpmseg')
#: DDPM-seg's timesteps (ddpm-segmentation ``steps=[50, 150, 250]``, of
#: T = 1000; scaled to the model's T)
DDPMSEG_STEPS = (50, 150, 250)
#: DDPM-seg's blocks 5, 6, 7, 8, 12 of guided-diffusion's 18 output blocks,
#: as positions along the decoder (mapped onto our decoder's block count)
DDPMSEG_BLOCK_POSITIONS = (5 / 17, 6 / 17, 7 / 17, 8 / 17, 12 / 17)


def ddpmseg_blocks(num_blocks: int) -> List[int]:
    """Decoder block indices used by the DDPM-seg feature pass.

    Args:
        num_blocks (int): Number of output blocks of the decoder.

    Returns:
        list[int]: Sorted, distinct block indices.
    """
    return sorted(
        {round(p * (num_blocks - 1))
         for p in DDPMSEG_BLOCK_POSITIONS})


class ForwardPath(nn.Module):
    """One forward path of a ``FactorizedDiffusionSegmentor`` as a module
    that takes only the image, for FLOP counters and timers.

    Args:
        model (nn.Module): A ``FactorizedDiffusionSegmentor``.
        path (str): One of ``'full'``, ``'fast'``, ``'plain'``,
            ``'ddpmseg'`` (see the module docstring).
        timestep (int, optional): Timestep of the ``full`` and ``plain``
            paths; None is T / 2 (``fast`` uses ``test_cfg.t``; ``ddpmseg``
            its own three, scaled to T). Defaults to None.
    """

    def __init__(self,
                 model: nn.Module,
                 path: str,
                 timestep: Optional[int] = None) -> None:
        super().__init__()
        if path not in PATHS:
            raise ValueError(f'path must be one of {PATHS}, got {path!r}')
        # imported here: the package loads in main(), after argument parsing
        from mmfactdiff.models.decoders import ConcatMasksUNetDecoder
        if path in ('plain', 'ddpmseg') and isinstance(model.decoder,
                                                       ConcatMasksUNetDecoder):
            raise ValueError('a plain U-Net cannot be cut from a '
                             'ConcatMasksUNetDecoder (its blocks expect the '
                             'masks); use a ParallelUNetDecoder config')
        self.model = model
        self.path = path
        num_t = model.scheduler.num_train_timesteps
        self.timestep = num_t // 2 if timestep is None else timestep
        self.ddpmseg_steps = [s * num_t // 1000 for s in DDPMSEG_STEPS]

    def _t(self, x: Tensor, t: Union[int, Tensor]) -> Tensor:
        if torch.is_tensor(t):
            return t
        return torch.full((x.shape[0], ), t, device=x.device)

    def plain_unet(self,
                   x: Tensor,
                   t: Union[int, Tensor],
                   keep: Sequence[int] = ()) -> tuple:
        """The same-width plain U-Net: encoder, then ONE decoder pass on
        unmasked skips.

        Args:
            x (Tensor): Noisy images (B, C, H, W).
            t (int | Tensor): Timestep, or one per image (B, ).
            keep (Sequence[int]): Decoder blocks whose outputs to return.

        Returns:
            tuple: ``eps`` (B, C, H, W) and the kept block outputs (list).
        """
        feats = self.model.extract_feat(x, self._t(x, t))
        dec = self.model.decoder.decoders[0]
        trunk = dec['trunk']
        kept: List[Tensor] = []
        handles = [
            trunk.blocks[i].register_forward_hook(
                lambda mod, args, out: kept.append(out)) for i in keep
        ]
        try:
            h = trunk(
                list(feats[:-1]), feats[-1],
                feats.emb if self.model.decoder.emb_channels else None)
        finally:
            for handle in handles:
                handle.remove()
        return dec['out'](h), kept

    def forward(self, x: Tensor) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Run the path on images ``x`` (B, C, H, W) in [-1, 1].

        Returns:
            Tensor: ``full``: the noise prediction; ``fast``: soft masks;
            ``plain``: the noise prediction; ``ddpmseg``: the concatenated
            pixel features (B, C_total, H, W) and the three noise
            predictions (3, B, C, H, W), as a tuple.
        """
        model = self.model
        if self.path == 'full':
            return model.denoise(x, self._t(x, self.timestep))[0]
        if self.path == 'fast':
            metas = [dict(img_shape=tuple(x.shape[-2:]))] * x.shape[0]
            return model.encode_decode(x, metas)
        if self.path == 'plain':
            return self.plain_unet(x, self.timestep)[0]
        blocks = ddpmseg_blocks(len(model.decoder.decoders[0]['trunk'].blocks))
        noise = torch.randn(
            x.shape[1:], generator=torch.Generator().manual_seed(0)).to(x)
        feats, eps = [], []
        for t in self.ddpmseg_steps:
            x_t = model.scheduler.add_noise(x, noise.expand_as(x), t)
            out, kept = self.plain_unet(x_t, t, keep=blocks)
            eps.append(out)
            feats += [
                F.interpolate(
                    f, size=x.shape[-2:], mode='bilinear', align_corners=False)
                for f in kept
            ]
        # DDPM-seg runs the whole U-Net at every step; returning the noise
        # predictions keeps a tracer from pruning the unused last blocks
        return torch.cat(feats, dim=1), torch.stack(eps)


def _sdpa_flop(inputs: list, outputs: list) -> int:
    """FLOPs of ``aten::scaled_dot_product_attention``: ``q k^T`` and
    ``attn v``, each ``B * heads * Lq * Lk * d`` multiply-adds."""
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(i) for i in inputs[:3])
    batch = 1
    for d in q[:-2]:
        batch *= d
    return batch * q[-2] * k[-2] * q[-1] + batch * q[-2] * k[-2] * v[-1]


def count_flops(module: nn.Module, inputs: Tensor) -> int:
    """FLOPs of ``module(inputs)`` (fvcore convention, see above).

    Args:
        module (nn.Module): Module taking one tensor.
        inputs (Tensor): Its input.

    Returns:
        int: FLOPs of one call.
    """
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(module, (inputs, ))
    analyzer.set_op_handle('aten::scaled_dot_product_attention', _sdpa_flop)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    with torch.no_grad():
        return int(analyzer.total())


def path_params(model: nn.Module, path: str) -> int:
    """Parameters a path uses.

    Args:
        model (nn.Module): A ``FactorizedDiffusionSegmentor``.
        path (str): One of :data:`PATHS`.

    Returns:
        int: Parameter count.
    """
    parts = dict(
        full=[model.backbone, model.decode_head, model.decoder],
        fast=[model.backbone, model.decode_head],
        plain=[model.backbone, model.decoder.decoders[0]],
        ddpmseg=[model.backbone, model.decoder.decoders[0]])[path]
    if path == 'full' and model.sub_mask_head is not None:
        parts.append(model.sub_mask_head)
    if path == 'fast' and model.sub_mask_head is not None:
        parts.append(model.sub_mask_head)
    return sum(p.numel() for m in parts for p in m.parameters())


def path_flops(model: nn.Module,
               shape: Sequence[int],
               paths: Sequence[str] = PATHS,
               batch_size: int = 1) -> Dict[str, dict]:
    """FLOPs and parameters of each path on a ``batch_size`` of images.

    Args:
        model (nn.Module): A ``FactorizedDiffusionSegmentor`` (eval mode is
            set here).
        shape (Sequence[int]): Image size (H, W).
        paths (Sequence[str]): Which paths. Defaults to all.
        batch_size (int): Batch size of the counted call. Defaults to 1.

    Returns:
        dict: ``{path: {'flops': int, 'params': int}}``.
    """
    model.eval()
    param = next(model.parameters())
    x = torch.zeros(
        batch_size, model.backbone.in_channels, *shape, device=param.device)
    return {
        p:
        dict(
            flops=count_flops(ForwardPath(model, p), x),
            params=path_params(model, p))
        for p in paths
    }


def build_model(config: str, cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the (untrained) model of a config.

    Args:
        config (str): Config file.
        cfg_options (dict, optional): Overrides. Defaults to None.

    Returns:
        nn.Module: The segmentor.
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import mmfactdiff  # noqa: F401  (registers the modules)
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return MODELS.build(cfg.model)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='FLOPs of the factorized model, path by path')
    p.add_argument('config', help='config file path')
    p.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=None,
        help='input image size (one or two ints); default: the config\'s '
        'test_cfg.img_size')
    p.add_argument('--paths', nargs='+', choices=PATHS, default=list(PATHS))
    p.add_argument('--json', help='also write the numbers to this file')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value pairs')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, dict]:
    """Print (and return) the per-path FLOPs of a config's model.

    Args:
        argv (list[str], optional): Command line; default ``sys.argv``.

    Returns:
        dict: ``{path: {'flops', 'params'}}`` plus ``'input_shape'``.
    """
    from mmengine.analysis.print_helper import _format_size
    args = parse_args(argv)
    if args.json:
        from mmfactdiff.utils import ensure_writable
        ensure_writable(args.json, '--json')
    model = build_model(args.config, args.cfg_options)
    if args.shape is None:
        size = model.test_cfg.get('img_size', 64)
        shape = (size, size) if isinstance(size, int) else tuple(size)
    else:
        shape = tuple(args.shape) * (2 if len(args.shape) == 1 else 1)
    if len(shape) != 2:
        raise ValueError('--shape takes one or two ints')
    result = path_flops(model, shape, args.paths)
    split = '=' * 30
    print(f'{split}\nCompute type: one {shape[0]}x{shape[1]} image, '
          f'K = {model.out_channels}')
    full = result.get('full', {}).get('flops')
    for name, r in result.items():
        ratio = f'  ({r["flops"] / full:.3f} x full)' if full else ''
        print(f'{name:>8}: Flops {_format_size(r["flops"])}{ratio}, '
              f'Params {_format_size(r["params"])}')
    print(f'{split}\nFLOPs count one multiply-add as one (fvcore/mmengine '
          'convention); element-wise activations are not counted.')
    out = dict(result, input_shape=list(shape))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == '__main__':
    main()
