# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Install mmfactdiff.

``pip install -e .`` for development. Like the OpenMMLab packages, the
wheel/sdist also carries ``configs/`` and ``tools/`` under
``mmfactdiff/.mim``, the layout openmim looks in for ``mim train
mmfactdiff <config>`` and ``mim test`` (tests/test_tools/test_mim.py
runs both on a non-editable install). openmim finds that layout in a
regular install and in a legacy ``setup.py develop`` one, not in pip's
PEP 660 editable install (its path lookup misses the import hook).
Config bases of the form ``'mmfactdiff::...'`` do NOT resolve: mmengine
only knows its own list of OpenMMLab packages (``MODULE2PACKAGE``);
inherit by path instead.
The pinned, tested environment is made by ``tools/setup_env.sh``.
"""
import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    scope = {}
    with open(osp.join(HERE, 'mmfactdiff', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(name: str) -> list:
    """The requirements listed in ``requirements/<name>.txt`` (one per
    line; blank lines and comments skipped)."""
    with open(osp.join(HERE, 'requirements', name + '.txt')) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


# Direct needs only (requirements/*.txt); tools/setup_env.sh installs the
# exact tested pins (and why each exists is in docs/installation.md).
RUNTIME = parse_requirements('runtime')
MIM = parse_requirements('mminstall')
TESTS = parse_requirements('tests')


def add_mim_extension() -> None:
    """Put configs/ and tools/ into mmfactdiff/.mim: symlinks for editable
    installs, copies when building a distribution."""
    if any(a in sys.argv for a in ('sdist', 'bdist_wheel', 'install')):
        mode = 'copy'
    elif any(a in sys.argv for a in ('develop', 'egg_info', 'editable_wheel')):
        mode = 'symlink'  # editable installs see the live configs/tools
    else:
        return
    mim_path = osp.join(HERE, 'mmfactdiff', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    # model-index.yml: the metafile index openmim reads (`mim search`)
    for name, src_rel in (('configs', 'configs'), ('tools', 'tools'),
                          ('model-index.yml', 'configs/model-index.yml')):
        src = osp.join(HERE, src_rel)
        dst = osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmfactdiff',
        version=get_version(),
        description='Factorized diffusion for unsupervised image generation '
        'and segmentation, as an mmsegmentation plugin',
        long_description=open(osp.join(HERE, 'README.md')).read(),
        long_description_content_type='text/markdown',
        keywords='diffusion, unsupervised segmentation, mmsegmentation',
        packages=find_packages(
            exclude=('configs', 'tools', 'tests', 'docs', 'projects')),
        include_package_data=True,
        package_data={
            'mmfactdiff': [
                '.mim/model-index.yml',
                '.mim/configs/**/*',
                '.mim/tools/**/*',
                # class mappings read at run time (zero-shot VOC protocol)
                'datasets/class_maps/*.json'
            ]
        },
        python_requires='>=3.8',
        license='Apache License 2.0',
        install_requires=RUNTIME,
        extras_require=dict(tests=TESTS, mim=MIM),
        zip_safe=False)
