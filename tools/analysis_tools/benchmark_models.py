# Copyright (c) mmfactdiff contributors. All rights reserved.
"""What ``benchmark.py`` measures: the model built on a device, the plain
U-Net loss, a training step as a closure, and the looped-region reference
that folded decoding replaces."""
import os.path as osp
import sys
from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from get_flops import ForwardPath, build_model  # noqa: E402


def build_on_device(config: str, device: str, **options) -> torch.nn.Module:
    """The config's segmentor on ``device``, with ``model.<key>`` options.

    Args:
        config (str): Config file.
        device (str): Where to put the model.
        **options: Overrides of the config's ``model`` fields (e.g.
            ``with_cp=True``).

    Returns:
        nn.Module: The segmentor.
    """
    opts = {f'model.{k}': v for k, v in options.items()}
    return build_model(config, opts).to(device)


def plain_loss(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """DDPM loss of the same-width plain U-Net cut from ``model``.

    Args:
        model (nn.Module): The segmentor.
        x (Tensor): Images in [-1, 1].

    Returns:
        Tensor: The epsilon MSE.
    """
    t = model.scheduler.sample_timesteps(x.shape[0], x.device)
    noise = torch.randn_like(x)
    x_t = model.scheduler.add_noise(x, noise, t)
    eps = ForwardPath(model, 'plain').plain_unet(x_t, t)[0]
    return F.mse_loss(eps.float(), noise.float())


def train_step_fn(model: torch.nn.Module,
                  x: torch.Tensor,
                  plain: bool = False,
                  autocast_dtype: Optional[torch.dtype] = None,
                  loss_fn: Optional[Callable] = None) -> Callable[[], None]:
    """One training step (forward, backward, Adam) as a closure.

    Args:
        model (nn.Module): The segmentor.
        x (Tensor): Images in [-1, 1].
        plain (bool): Train the same-width plain U-Net (encoder and one
            decoder) instead of the factorized model. Defaults to False.
        autocast_dtype (torch.dtype, optional): Mixed precision dtype.
            Defaults to None.
        loss_fn (callable, optional): Replaces ``model.loss`` (e.g. a
            compiled version). Defaults to None.

    Returns:
        callable: The step.
    """
    model.train()
    if plain:
        params = [
            p for m in (model.backbone, model.decoder.decoders[0])
            for p in m.parameters()
        ]
    else:
        params = list(model.parameters())
    optim = torch.optim.Adam(params, lr=1e-4)
    loss_fn = loss_fn or model.loss
    device_type = x.device.type

    def step() -> None:
        with torch.autocast(
                device_type,
                dtype=autocast_dtype,
                enabled=autocast_dtype is not None):
            if plain:
                loss = plain_loss(model, x)
            else:
                loss = sum(loss_fn(x, None).values())
        loss.backward()
        optim.step()
        optim.zero_grad(set_to_none=True)

    return step


def looped_regions(decoder: torch.nn.Module, feats: Sequence[torch.Tensor],
                   masks: torch.Tensor) -> torch.Tensor:
    """Benchmark-only reference: the K regions decoded one pass at a time
    (what folding K into the batch replaces; equal outputs are tested in
    the decoder's tests)."""
    return torch.stack([
        decoder.forward_region(feats, masks[:, i:i + 1], region=i)
        for i in range(masks.shape[1])
    ],
                       dim=1)
