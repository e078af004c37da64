# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Check that a config rebuilds the reference probe's network exactly.

The probe (``factorized_probe.py``, a standalone script of the method spec)
is not importable: it trains when run. This tool executes only its
definitions (everything before its diffusion schedule), builds its model
with random weights, copies them into the plugin model built from CONFIG,
and compares, on the same inputs:

- the parameter counts;
- the read-out masks (eval mode, softmax) and the noise prediction;
- a training-mode forward with the same Gumbel noise draw (same RNG state)
  and the gradients of the loss with respect to every parameter.

It prints the largest absolute differences and exits non-zero if any is
above ``--atol``. GroupNorm's eps is 1e-6 in the plugin and PyTorch's 1e-5
in the probe; the comparison sets the plugin's to 1e-5 so that what is
left is floating-point rounding (``--keep-eps`` compares as built: then
the outputs differ by about 1e-4).

    S=projects/emergence_study
    python $S/tools/probe_equivalence.py \\
        $S/configs/factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py \\
        --probe /path/to/reference/factorized_probe.py
"""
import argparse
import sys
from typing import Dict

import torch


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config', help='the plugin config of the probe')
    p.add_argument(
        '--probe',
        required=True,
        help='path of the reference factorized_probe.py')
    p.add_argument('--atol', type=float, default=1e-4)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument(
        '--keep-eps',
        action='store_true',
        help="keep the plugin's GroupNorm eps (1e-6)")
    return p.parse_args(argv)


def load_probe(path: str) -> dict:
    """The probe's definitions (classes, ``temb``, ``make_batch``), without
    running its training: its source up to the schedule, executed with a
    fixed argv (32x32, gumbel, K = 2)."""
    with open(path) as f:
        src = f.read()
    head, sep, _ = src.partition('\nT = 1000')
    if not sep:
        raise ValueError(f'{path}: no "T = 1000" line; is this the probe?')
    argv, sys.argv = sys.argv, [path, '32', '1', 'gumbel', '1', '4', '0']
    try:
        scope: dict = {'__name__': 'probe'}
        exec(compile(head, path, 'exec'), scope)
    finally:
        sys.argv = argv
    return scope


def _block(prefix_src: str, prefix_dst: str) -> Dict[str, str]:
    """Key map of one residual block (probe RB -> TimestepResBlock)."""
    names = dict(
        n1='in_layers.0',
        c1='in_layers.2',
        e='emb_proj.0',
        n2='out_norm',
        c2='out_layers.2',
        sk='skip')
    return {
        f'{prefix_src}.{a}.{p}': f'{prefix_dst}.{b}.{p}'
        for a, b in names.items()
        for p in ('weight', 'bias')
    }


def key_map(num_enc_blocks: int = 3, num_dec_blocks: int = 6) -> dict:
    """Probe state-dict keys -> plugin keys."""
    m = {
        'te.0.weight': 'backbone.time_embedding.mlp.0.weight',
        'te.0.bias': 'backbone.time_embedding.mlp.0.bias',
        'te.2.weight': 'backbone.time_embedding.mlp.2.weight',
        'te.2.bias': 'backbone.time_embedding.mlp.2.bias',
        'enc.inp.weight': 'backbone.stem.weight',
        'enc.inp.bias': 'backbone.stem.bias',
    }
    for i in range(num_enc_blocks):
        # input blocks alternate residual blocks and (parameter-free) pools
        m.update(_block(f'enc.b.{i}', f'backbone.input_blocks.{2 * i}.0'))
    m.update(_block('enc.mid', 'backbone.middle_block.0'))
    for i in range(num_dec_blocks):
        m.update(_block(f'mg.b.{i}', f'decode_head.trunk.blocks.{i}.0'))
        m.update(
            _block(f'dec.b.{i}', f'decoder.decoders.0.trunk.blocks.{i}.0'))
    for p in ('weight', 'bias'):
        m[f'mg.out.0.{p}'] = f'decode_head.out_norm.0.{p}'
        m[f'mg.out.2.{p}'] = f'decode_head.conv_seg.{p}'
        m[f'dec.out.0.{p}'] = f'decoder.decoders.0.out.0.{p}'
        m[f'dec.out.2.{p}'] = f'decoder.decoders.0.out.2.{p}'
    return m


def copy_weights(probe: torch.nn.Module, model: torch.nn.Module) -> dict:
    """Copy the probe's weights into the plugin model; returns the map."""
    src = probe.state_dict()
    dst = model.state_dict()
    m = {k: v for k, v in key_map().items() if k in src}
    missing = sorted(set(src) - set(m))
    # the segmentor's own record of T has no counterpart in the probe
    unused = sorted(set(dst) - set(m.values()) - {'scheduler_timesteps'})
    if missing or unused:
        raise ValueError(f'keys without a counterpart: probe {missing}, '
                         f'plugin {unused}')
    new = {}
    for k_src, k_dst in m.items():
        w = src[k_src]
        if w.shape != dst[k_dst].shape:
            raise ValueError(f'{k_src} {tuple(w.shape)} -> {k_dst} '
                             f'{tuple(dst[k_dst].shape)}')
        if k_src == 'te.0.weight':
            # sinusoid layout: the probe is [sin | cos], the plugin
            # [cos | sin] (guided-diffusion's): swap the input halves
            half = w.shape[1] // 2
            w = torch.cat([w[:, half:], w[:, :half]], dim=1)
        new[k_dst] = w
    model.load_state_dict(new, strict=True)
    return m


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import mmfactdiff  # noqa: F401

    init_default_scope('mmseg')
    probe = load_probe(args.probe)
    torch.manual_seed(args.seed)
    ref = probe['FD']()
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    if not args.keep_eps:
        for m in model.modules():
            if isinstance(m, torch.nn.GroupNorm):
                m.eps = 1e-5
    n_ref = sum(p.numel() for p in ref.parameters())
    n_new = sum(p.numel() for p in model.parameters())
    kmap = copy_weights(ref, model)
    print(f'parameters: probe {n_ref:,}, plugin {n_new:,}')

    gen = torch.Generator().manual_seed(args.seed)
    x0, _ = probe['make_batch'](8, gen)
    t = torch.randint(0, 1000, (8, ), generator=gen)
    x_t = x0 + 0.3 * torch.randn(x0.shape, generator=gen)
    diffs = {}

    ref.eval(), model.eval()
    with torch.no_grad():
        m_ref = ref.masks(x_t, t)[3]
        eps_ref = ref(x_t, t)[0]
        eps_new, m_new = model.denoise(x_t, t)
    diffs['eval masks'] = (m_ref - m_new).abs().max().item()
    diffs['eval eps'] = (eps_ref - eps_new).abs().max().item()

    ref.train(), model.train()
    noise = torch.randn(x_t.shape, generator=gen)
    torch.manual_seed(args.seed + 1)
    eps_ref, m_ref = ref(x_t, t)
    torch.manual_seed(args.seed + 1)
    eps_new, m_new = model.denoise(x_t, t)
    diffs['train masks (Gumbel)'] = (m_ref - m_new).abs().max().item()
    diffs['train eps'] = (eps_ref - eps_new).abs().max().item()
    torch.nn.functional.mse_loss(eps_ref, noise).backward()
    torch.nn.functional.mse_loss(eps_new, noise).backward()
    grads_new = dict(model.named_parameters())
    worst = 0.
    for k_src, p in ref.named_parameters():
        g_new = grads_new[kmap[k_src]].grad
        g_ref = p.grad
        if k_src == 'te.0.weight':
            half = g_ref.shape[1] // 2
            g_ref = torch.cat([g_ref[:, half:], g_ref[:, :half]], dim=1)
        worst = max(worst, (g_ref - g_new).abs().max().item())
    diffs['gradients'] = worst

    ok = n_ref == n_new
    for name, d in diffs.items():
        print(f'max |probe - plugin| {name}: {d:.2e}')
        ok = ok and d <= args.atol
    print('EQUIVALENT' if ok else 'DIFFERENT')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
