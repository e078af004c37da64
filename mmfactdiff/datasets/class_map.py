# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Reading class-mapping files (e.g. ImageNet-1k -> PASCAL VOC)."""
import json
import os.path as osp
from typing import Dict, List, Sequence, Union

#: The shipped ImageNet-1k -> VOC 2012 mapping (zero-shot VOC protocol).
IMAGENET_TO_VOC = osp.join(
    osp.dirname(osp.abspath(__file__)), 'class_maps', 'imagenet_to_voc.json')

__all__ = ['IMAGENET_TO_VOC', 'load_class_map']


def load_class_map(class_map: Union[str, dict],
                   target_classes: Sequence[str],
                   num_source_classes: int = 1000) -> Dict[str, dict]:
    """Read and check a class-mapping file.

    The file is JSON with a ``mapping`` object: one entry per target class
    name, each ``{"condition_on": int, "imagenet": [int, ...]}`` with source
    class indices in ``[0, num_source_classes)``; ``condition_on`` must be
    one of the listed indices. Other top-level keys (``description``,
    ``imagenet_names``) are documentation.

    Args:
        class_map (str | dict): Path of the JSON file, or its parsed
            content.
        target_classes (Sequence[str]): Class names that must be mapped
            (e.g. the 20 VOC object classes).
        num_source_classes (int): Number of source classes (1000 for
            ImageNet-1k). Defaults to 1000.

    Returns:
        dict[str, dict]: For every target class, ``condition_on`` (int) and
        ``imagenet`` (list of int).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: Naming the file and the field, if a target class is
            missing or an index is invalid.
    """
    source = '<dict>'
    if isinstance(class_map, str):
        source = class_map
        if not osp.isfile(class_map):
            raise FileNotFoundError(f'class map file {class_map!r} not found')
        with open(class_map) as f:
            try:
                class_map = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(
                    f'class map {source!r} is not valid JSON: {e}') from e
    mapping = class_map.get('mapping') if isinstance(class_map, dict) else None
    if not isinstance(mapping, dict):
        raise ValueError(f'class map {source!r} needs a "mapping" object')
    missing = [c for c in target_classes if c not in mapping]
    if missing:
        raise ValueError(f'class map {source!r}: "mapping" has no entry for '
                         f'{missing}')
    checked = {}
    for name in target_classes:
        entry = mapping[name]
        field = f'{source!r}: mapping.{name}'
        if not isinstance(entry, dict):
            raise ValueError(f'class map {field} must be an object with '
                             '"condition_on" and "imagenet"')
        indices: List = entry.get('imagenet')
        if not isinstance(indices, list) or not indices:
            raise ValueError(f'class map {field}.imagenet must be a '
                             'non-empty list of class indices')
        for idx in indices + [entry.get('condition_on')]:
            if isinstance(idx, bool) or not isinstance(idx, int) or \
                    not 0 <= idx < num_source_classes:
                raise ValueError(
                    f'class map {field}: {idx!r} is not a class index in '
                    f'[0, {num_source_classes})')
        if entry['condition_on'] not in indices:
            raise ValueError(f'class map {field}.condition_on '
                             f'({entry["condition_on"]}) is not one of its '
                             '"imagenet" indices')
        checked[name] = dict(
            condition_on=int(entry['condition_on']),
            imagenet=[int(i) for i in indices])
    return checked
