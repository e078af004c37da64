# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Replay the main job's label-free checkpoint selection on recorded runs.

The main config (``default_hooks.checkpoint.save_best='region_gain'``)
keeps the checkpoint whose EMA weights score the highest region gain
(``RegionGainMetric``) on its selection split. For runs made before that
config existed, with a checkpoint at every validation point, this tool
scores every ``iter_<n>.pth`` of each work directory with the config's
``val_dataloader`` and ``RegionGainMetric`` (the same code path as the
runner's validation: ``model.val_step``), writes a ``region_gain`` row per
checkpoint, picks the best one as the hook would (the first maximum), and
writes the run's ``fg_IoU`` at that iteration (from its recorded rows) as
a row of ``--method`` with ``selected_iteration``. It also writes how well
the gain ranks the checkpoints of these runs as their recorded foreground
IoU does (metric ``spearman_region_gain_fg_IoU``, Spearman's rho over
every scored checkpoint with an ``fg_IoU`` row, ``num_checkpoints``
beside it). No label is read by the selection.

    python projects/emergence_study/tools/region_gain_selection.py \\
        work_dirs/sel50/s0 --config $MAIN \\
        --method "factorized (main job)" \\
        --out docs/data/results/synthetic_shapes.json
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List

from mmengine.config import DictAction

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from record_results import recorded_checkpoints, update_results


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('work_dirs', nargs='+', help='work directories of runs')
    p.add_argument(
        '--config',
        required=True,
        help='config whose model, val_dataloader and model.test_cfg score '
        'the checkpoints (the main config)')
    p.add_argument(
        '--method', required=True, help='method name of the selected rows')
    p.add_argument('--out', required=True, help='results JSON to update')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='config overrides (key=value), e.g. the validation split the '
        'runs were made with')
    return p.parse_args(argv)


def region_gain_of(model, dataloader) -> float:
    """``RegionGainMetric`` of ``model`` over ``dataloader``."""
    from mmengine.evaluator import Evaluator

    from mmfactdiff.evaluation.metrics import RegionGainMetric
    evaluator = Evaluator([RegionGainMetric()])
    model.eval()
    for batch in dataloader:
        evaluator.process(model.val_step(batch), batch)
    return evaluator.evaluate(len(dataloader.dataset))['region_gain']


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    import json

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner, load_checkpoint
    from mmseg.registry import MODELS

    import mmfactdiff  # noqa: F401 (registers the modules)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if not cfg.model.get('test_cfg', {}).get('region_gain', False):
        raise ValueError(f'{args.config}: model.test_cfg.region_gain is '
                         'not set; give the main config')
    model = MODELS.build(cfg.model)
    loader = Runner.build_dataloader(cfg.val_dataloader)
    with open(args.out) as f:
        fg = {
            (r.get('run'), r['iterations']): r
            for r in json.load(f) if r['metric'] == 'fg_IoU'
        }
    new, best, pairs = [], {}, []
    for run, row, ckpt in recorded_checkpoints(args.work_dirs, args.out):
        load_checkpoint(
            model, ckpt, map_location='cpu', strict=True, logger='silent')
        gain = region_gain_of(model, loader)
        new.append(dict(row, metric='region_gain', value=gain))
        it = row['iterations']
        if (run, it) in fg:
            pairs.append((gain, fg[(run, it)]['value']))
        print(f'{run} {it}: region gain {gain:.2f}%')
        if run not in best or gain > best[run][0]:
            best[run] = (gain, it, row)
    for run, (gain, it, row) in best.items():
        if (run, it) not in fg:
            raise ValueError(f'{run}: no fg_IoU row at iteration {it} in '
                             f'{args.out}; record the run with checkpoint '
                             'and validation intervals that match')
        last = max(i for r, i in fg if r == run)
        new.append(
            dict(
                fg[(run, it)],
                method=args.method,
                iterations=last,
                selected_iteration=it,
                selection='region_gain'))
        print(f'{run}: selected iteration {it} (region gain {gain:.2f}%), '
              f'fg IoU {fg[(run, it)]["value"]}')
    if len(pairs) >= 3:
        from scipy.stats import spearmanr
        rho = spearmanr(*zip(*pairs)).statistic
        first = next(r for r in new if r['method'] == args.method)
        new.append(
            dict(
                first,
                metric='spearman_region_gain_fg_IoU',
                value=round(float(rho), 3),
                num_checkpoints=len(pairs),
                seed=None,
                selected_iteration=None))
        print(f'Spearman rho (region gain, fg IoU) over {len(pairs)} '
              f'checkpoints: {rho:.3f}')
    total = update_results(args.out, new)
    print(f'{len(new)} rows -> {args.out} ({total} rows)')
    return new


if __name__ == '__main__':
    main()
