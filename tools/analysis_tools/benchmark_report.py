# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The report of ``benchmark.py``: the performance issue's targets with
their verdicts, and the results section of ``docs/benchmarks.md``."""
import os.path as osp
from typing import Dict, List, Optional

MD_START = '<!-- benchmark-results:start -->'
MD_END = '<!-- benchmark-results:end -->'
#: timing noise allowed by "no slower than" comparisons
NOISE = 1.05


def evaluate_targets(result: Dict[str, object]) -> List[Dict[str, object]]:
    """The issue's targets, each with the measured value and a verdict.

    Args:
        result (dict): The benchmark result (``configs`` list).

    Returns:
        list[dict]: ``config``, ``target``, ``measured`` (str), ``met``
        (bool or None when not measured).
    """
    rows = []
    for r in result['configs']:
        name = r['name']
        paths = r['paths']
        fl, tm = paths['flops_per_image'], paths['times']
        flop_ratio = fl['fast'] / fl['full']
        time_ratio = tm['fast']['median_s'] / tm['full']['median_s']
        rows.append(
            dict(
                config=name,
                target='fast path / full forward time <= 1.1 x '
                'their FLOP ratio',
                measured=f'{time_ratio:.3f} vs 1.1 x {flop_ratio:.3f} = '
                f'{1.1 * flop_ratio:.3f}',
                met=time_ratio <= 1.1 * flop_ratio))
        flop_ratio = fl['full'] / fl['plain']
        time_ratio = (
            tm['train_factorized']['median_s'] / tm['train_plain']['median_s'])
        rows.append(
            dict(
                config=name,
                target='factorized / plain U-Net training step '
                '<= 1.1 x their FLOP ratio',
                measured=f'{time_ratio:.3f} vs 1.1 x {flop_ratio:.3f} = '
                f'{1.1 * flop_ratio:.3f}',
                met=time_ratio <= 1.1 * flop_ratio))
        folded = r['folded']
        no_slower = all(f['ratio'] <= NOISE for f in folded)
        faster = [f for f in folded if f['k'] >= 3]
        rows.append(
            dict(
                config=name,
                target=f'folded decoding no slower than the K-loop'
                f' at any K (folded/loop <= {NOISE})',
                measured=', '.join(f'K={f["k"]}: {f["ratio"]:.3f}'
                                   for f in folded),
                met=no_slower))
        rows.append(
            dict(
                config=name,
                target='folded decoding faster than the K-loop at '
                'K >= 3 (folded/loop < 1)',
                measured=', '.join(f'K={f["k"]}: {f["ratio"]:.3f}'
                                   for f in faster) or 'no K >= 3 measured',
                met=all(f['ratio'] < 1 for f in faster) if faster else None))
        seg = r['segmentation']
        rows.append(
            dict(
                config=name,
                target='segmenting one image >= 10x faster than a '
                '3-timestep full U-Net feature pass (DDPM-seg)',
                measured=f'{seg["speedup"]:.2f}x (FLOP ratio '
                f'{seg["flops"]["ddpmseg"] / seg["flops"]["fast"]:.2f}x)',
                met=seg['speedup'] >= 10))
        red = r['memory']['activation_reduction']
        rows.append(
            dict(
                config=name,
                target='gradient checkpointing cuts training '
                'activation memory by >= 40%',
                measured='n/a' if red is None else f'{100 * red:.1f}%',
                met=None if red is None else red >= 0.4))
        data = r['data']
        rows.append(
            dict(
                config=name,
                target='data loader faster than training '
                'consumption (never the bottleneck)',
                measured=f'{data["loader_imgs_per_s"]:.0f} vs '
                f'{data["train_imgs_per_s"]:.1f} img/s '
                f'({data["ratio"]:.0f}x)',
                met=data['ratio'] >= 1))
    return rows


def _ms(t: Dict[str, object]) -> str:
    return f'{1e3 * t["median_s"]:.1f}'


def _mib(b: Optional[int]) -> str:
    return 'skipped' if b is None else f'{b / 2**20:.0f}'


def _verdict(met: Optional[bool]) -> str:
    return 'not measured' if met is None else ('met' if met else '**missed**')


def render_markdown(result: Dict[str, object]) -> str:
    """The results section of ``docs/benchmarks.md``.

    Args:
        result (dict): The benchmark result.

    Returns:
        str: Markdown (without the markers).
    """
    m = result['machine']
    lines = [
        f'Measured {m["date"]} at commit `{m["commit"]}`' +
        (' (**--quick: smoke-test sizes, not a measurement**)'
         if result['quick'] else '') + '.', '', '```bash', result['command'],
        '```', '',
        f'Machine: {m["cpu"]}, {m["cpu_count"]} cores, torch threads '
        f'{m["torch_threads"]}' + (f', GPU {m["gpu"]}' if 'gpu' in m else '') +
        f'; device `{m["device"]}`; python {m["python"]}, torch '
        f'{m["torch"]}, mmengine {m["mmengine"]}, mmcv {m["mmcv"]}, mmseg '
        f'{m["mmseg"]}. Times are medians of {result["repeats"]} runs after '
        f'{result["warmup"]} warm-up run(s). FLOPs count a multiply-add as '
        'one (fvcore convention), per image.', '', '### Targets', '',
        '| config | target | measured | verdict |', '| --- | --- | --- | --- |'
    ]
    for t in result['targets']:
        lines.append(f'| {t["config"]} | {t["target"]} | {t["measured"]} | '
                     f'{_verdict(t["met"])} |')
    for r in result['configs']:
        p = r['paths']
        fl, tm, b = p['flops_per_image'], p['times'], p['batch']
        lines += [
            '', f'### {r["name"]} ({r["size"]}x{r["size"]}, K = {r["k"]})', '',
            f'Forward paths and training steps, batch {b}:', '',
            '| what | GFLOPs / image | ms / batch | ms / image |',
            '| --- | --- | --- | --- |'
        ]
        for key, label, f in (('full', 'full factorized forward', fl['full']),
                              ('fast', 'segmentation fast path', fl['fast']),
                              ('plain', 'plain same-width U-Net forward',
                               fl['plain']),
                              ('train_factorized', 'training step, factorized',
                               3 * fl['full']), ('train_plain',
                                                 'training step, plain U-Net',
                                                 3 * fl['plain'])):
            lines.append(f'| {label} | {f / 1e9:.3f}' +
                         (' (~3x fwd)' if key.startswith('train') else '') +
                         f' | {_ms(tm[key])} | '
                         f'{1e3 * tm[key]["median_s"] / b:.1f} |')
        lines += [
            '', f'Decoding K regions, batch {b} (decoder only, no grad):', '',
            '| K | folded ms | K-loop ms | folded / loop |',
            '| --- | --- | --- | --- |'
        ]
        for f in r['folded']:
            lines.append(f'| {f["k"]} | {_ms(f["folded"])} | '
                         f'{_ms(f["looped"])} | {f["ratio"]:.3f} |')
        s = r['sampling']
        lines += [
            '', '| sampling (1 image) | steps | s / image | how |',
            '| --- | --- | --- | --- |'
        ]
        for key in ('ddpm', 'ddim'):
            x = s[key]
            how = (f'extrapolated from {x["measured_steps"]} steps'
                   if x['extrapolated'] else 'measured')
            lines.append(f'| {key.upper()} | {x["steps"]} | '
                         f'{x["seconds_per_image"]:.2f} | {how} |')
        seg = r['segmentation']
        lines += [
            '', '| segmenting one image | GFLOPs | ms |',
            '| --- | --- | --- |',
            f'| fast path | {seg["flops"]["fast"] / 1e9:.3f} | '
            f'{_ms(seg["fast"])} |',
            f'| DDPM-seg feature pass (3 timesteps) | '
            f'{seg["flops"]["ddpmseg"] / 1e9:.3f} | {_ms(seg["ddpmseg"])} |'
        ]
        mem = r['memory']
        kind = ('CUDA allocated'
                if m['device'].startswith('cuda') else 'CPU RSS')
        lines += [
            '', f'Training-step memory, batch {mem["no_cp"]["batch"]}, '
            f'{mem["no_cp"]["size"]}x{mem["no_cp"]["size"]}, fresh process '
            f'each ({kind}, MiB over the state before the step):', '',
            '| gradient checkpointing | activations after forward | '
            'step peak | forward s |', '| --- | --- | --- | --- |'
        ]
        for key, label in (('no_cp', 'off'), ('with_cp', 'on')):
            x = mem[key]
            lines.append(f'| {label} | {_mib(x["activation_bytes"])} | '
                         f'{_mib(x["peak_bytes"])} | {x["forward_s"]:.1f} |')
        d = r['data']
        lines += [
            '', f'Data: train loader (batch {d["batch_size"]}, '
            f'{d["num_workers"]} workers, with the data preprocessor) '
            f'{d["loader_imgs_per_s"]:.0f} img/s; training consumes '
            f'{d["train_imgs_per_s"]:.1f} img/s; the loader takes '
            f'{100 * d["loader_share"]:.1f}% of a serial step.'
        ]
        if r.get('switches'):
            sw = r['switches']
            lines += [
                '', f'Switches, training step, batch {sw["batch"]}:', '',
                '| switch | ms / step | speed-up | first call s |',
                '| --- | --- | --- | --- |'
            ]
            for key, x in sw['rows'].items():
                first = ('' if x.get('first_call_s') is None else
                         f'{x["first_call_s"]:.1f}')
                lines.append(f'| {key} | {_ms(x)} | {x["speedup"]:.2f} | '
                             f'{first} |')
    return '\n'.join(lines) + '\n'


def check_markdown_target(path: str) -> None:
    """Fail before measuring if ``--md`` could not take the results: an
    existing file must hold the markers; a new one must be writable."""
    from mmfactdiff.utils import ensure_writable
    if osp.isfile(path):
        with open(path) as f:
            text = f.read()
        if MD_START not in text or MD_END not in text:
            raise ValueError(
                f'--md {path} exists but has no {MD_START} ... {MD_END} '
                'markers: add them where the results should go, or give a '
                'new file name')
    else:
        ensure_writable(path, '--md')


def write_markdown(path: str, section: str) -> None:
    """Replace the text between the result markers of ``path`` (a new file
    gets the markers and the section).

    Args:
        path (str): Markdown file with :data:`MD_START` and :data:`MD_END`,
            or a file that does not exist yet.
        section (str): New content.
    """
    if not osp.exists(path):
        with open(path, 'w') as f:
            f.write(f'{MD_START}\n{section}{MD_END}\n')
        return
    with open(path) as f:
        text = f.read()
    if MD_START not in text or MD_END not in text:
        raise ValueError(f'{path} has no {MD_START} ... {MD_END} markers')
    head, rest = text.split(MD_START, 1)
    _, tail = rest.split(MD_END, 1)
    with open(path, 'w') as f:
        f.write(f'{head}{MD_START}\n{section}{MD_END}{tail}')
