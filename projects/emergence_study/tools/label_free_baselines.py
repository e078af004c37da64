# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Score the label-free baselines on a config's test split, as its model.

For CONFIG (any segmentation config of the project), the model is replaced
by each parameter-free baseline in turn, keeping the config's data
preprocessor, test pipeline, test split and evaluators, and the standard
runner's test loop scores it exactly as ``tools/test.py`` scores the model:

- ``all-foreground``: every pixel one region;
- ``centred ellipse``: the centred ellipse of half the image's width and
  height;
- ``colour k-means``: per-image k-means (K = the model's number of regions,
  default 2) on the pixels' standardised RGB values, from one k-means++
  initialisation;
- ``colour k-means (best of 4)``: the same, keeping the lowest-inertia of
  four initialisations (scikit-learn's ``KMeans(n_init=4)`` rule).

The metrics are written as rows of ``--out`` (see ``record_results.py``)
with ``iterations=0`` and ``labels_used=0``. Baselines that need training
(the plain U-Net's k-means) are configs of this project, trained and tested
with the standard tools.

    python projects/emergence_study/tools/label_free_baselines.py \\
        configs/factdiff/CONFIG.py --dataset synthetic_shapes \\
        --out docs/data/results/synthetic_shapes.json
"""
import argparse
import glob
import os.path as osp
import sys
import tempfile

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from record_results import METRICS, REPO, _device_from_log, update_results

BASELINES = {
    'all-foreground': dict(type='PriorMaskSegmentor', shape='all'),
    'centred ellipse':
    dict(type='PriorMaskSegmentor', shape='centred_ellipse'),
    'colour k-means': dict(type='ColourKMeansSegmentor'),
    # the lowest-inertia of 4 runs, as scikit-learn's KMeans(n_init=4),
    # which the reference probe's own baseline script used
    'colour k-means (best of 4)': dict(type='ColourKMeansSegmentor', n_init=4),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('--dataset', required=True, help='dataset name of rows')
    p.add_argument('--out', required=True, help='results JSON to update')
    p.add_argument(
        '--work-dir',
        default=None,
        help='where the test runs write their logs (default: a '
        'temporary folder)')
    p.add_argument(
        '--only',
        nargs='+',
        choices=sorted(BASELINES),
        help='run only these baselines')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=None,
        help='key=value overrides of CONFIG (e.g. a data_root)')
    p.add_argument(
        '--resources',
        action='store_true',
        help='also record seconds per image and peak memory '
        '(TestResourceHook; run one baseline a process for a clean peak)')
    p.add_argument(
        '--method-suffix',
        default='',
        help='appended to each baseline\'s method name, to tell rows of '
        'another split apart (e.g. ", 236 held-out photos")')
    return p.parse_args(argv)


def baseline_config(config: str, name: str, work_dir: str, cfg_options=None):
    """CONFIG with its model replaced by the baseline ``name``."""
    from mmengine.config import Config, DictAction
    cfg = Config.fromfile(config)
    if cfg_options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--o', *cfg_options]).o)
    model = dict(
        BASELINES[name], data_preprocessor=cfg.model.data_preprocessor)
    if name.startswith('colour k-means'):
        model['num_regions'] = int(cfg.model.decode_head.num_classes)
    cfg.model = model
    cfg.custom_imports = dict(
        imports=list(cfg.custom_imports['imports']) +
        ['projects.emergence_study.emergence_study'],
        allow_failed_imports=False)
    cfg.work_dir = work_dir
    cfg.load_from = None
    # the runner's hooks that touch weights have nothing to do here
    cfg.custom_hooks = []
    cfg.default_hooks.pop('checkpoint', None)
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from mmengine.runner import Runner

    import mmfactdiff  # noqa: F401
    import projects.emergence_study.emergence_study  # noqa: F401

    config = osp.relpath(osp.abspath(args.config), REPO)
    root = args.work_dir or tempfile.mkdtemp(prefix='baselines_')
    rows = []
    for name in args.only or sorted(BASELINES):
        work_dir = osp.join(root, name.replace(' ', '_'))
        cfg = baseline_config(args.config, name, work_dir, args.cfg_options)
        cfg.visualizer.name = f'baseline-{name}'
        if args.resources:
            cfg.custom_hooks = [dict(type='TestResourceHook')]
        runner = Runner.from_cfg(cfg)
        metrics = dict(runner.test())
        if args.resources:
            for key in ('sec_per_img', 'peak_rss_GB', 'peak_cuda_GB'):
                scalar = runner.message_hub.log_scalars.get(f'test/{key}')
                if scalar is not None:
                    metrics[key] = scalar.current()
        device = _device_from_log(
            sorted(glob.glob(osp.join(work_dir, '2*')))[-1])
        for key, value in metrics.items():
            if key in METRICS:
                rows.append(
                    dict(
                        dataset=args.dataset,
                        method=name + args.method_suffix,
                        config=config,
                        cfg_options=args.cfg_options,
                        seed=None,
                        metric=METRICS[key],
                        value=value,
                        iterations=0,
                        labels_used=0,
                        weights='none',
                        device=device,
                        run=osp.relpath(work_dir)))
        print(name, {k: v for k, v in metrics.items() if k in METRICS})
    total = update_results(args.out, rows)
    print(f'{len(rows)} rows -> {args.out} ({total} rows)')


if __name__ == '__main__':
    main()
