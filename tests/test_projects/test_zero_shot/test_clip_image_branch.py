# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/zero_shot: ZegFormer's CLIP image branch (CLIPImageClassifier,
the CLIP image-weight converter, ZegFormerSegmentor's fusion)."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from test_projects.test_zero_shot.test_pading import _model_cfg

from projects.zero_shot.zero_shot import (CLIPImageClassifier,
                                          ZegFormerSegmentor, mask_boxes)

W, LAYERS, HEADS, PATCH, SIZE, OUT = 16, 2, 2, 8, 32, 8
VIT = dict(
    type='VisionTransformer',
    img_size=SIZE,
    patch_size=PATCH,
    embed_dims=W,
    num_layers=LAYERS,
    num_heads=HEADS,
    mlp_ratio=4,
    out_indices=-1,
    qkv_bias=True,
    with_cls_token=True,
    output_cls_token=True,
    patch_bias=False,
    pre_norm=True,
    final_norm=True,
    norm_cfg=dict(type='LN', eps=1e-5),
    act_cfg=dict(type='QuickGELU'))


def _clip_state(seed=0):
    """A tiny OpenAI-CLIP state dict (ViT image tower + one text key)."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.2

    sd = {
        'visual.conv1.weight': r(W, 3, PATCH, PATCH),
        'visual.class_embedding': r(W),
        'visual.positional_embedding': r((SIZE // PATCH)**2 + 1, W),
        'visual.ln_pre.weight': 1 + r(W),
        'visual.ln_pre.bias': r(W),
        'visual.ln_post.weight': 1 + r(W),
        'visual.ln_post.bias': r(W),
        'visual.proj': r(W, OUT),
        'logit_scale': torch.tensor(2.5),
        'token_embedding.weight': r(10, OUT),  # text tower: ignored
    }
    for i in range(LAYERS):
        p = f'visual.transformer.resblocks.{i}.'
        sd.update({
            p + 'ln_1.weight': 1 + r(W),
            p + 'ln_1.bias': r(W),
            p + 'attn.in_proj_weight': r(3 * W, W),
            p + 'attn.in_proj_bias': r(3 * W),
            p + 'attn.out_proj.weight': r(W, W),
            p + 'attn.out_proj.bias': r(W),
            p + 'ln_2.weight': 1 + r(W),
            p + 'ln_2.bias': r(W),
            p + 'mlp.c_fc.weight': r(4 * W, W),
            p + 'mlp.c_fc.bias': r(4 * W),
            p + 'mlp.c_proj.weight': r(W, 4 * W),
            p + 'mlp.c_proj.bias': r(W),
        })
    return sd


def _reference_embed(sd, images):
    """CLIP's VisionTransformer.forward, written from CLIP's definition."""
    x = F.conv2d(images, sd['visual.conv1.weight'], stride=PATCH)
    x = x.flatten(2).transpose(1, 2)
    cls = sd['visual.class_embedding'].expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], 1) + sd['visual.positional_embedding']

    def ln(x, name):
        return F.layer_norm(x, (W, ), sd[name + '.weight'], sd[name + '.bias'])

    x = ln(x, 'visual.ln_pre')
    for i in range(LAYERS):
        p = f'visual.transformer.resblocks.{i}.'
        h = ln(x, p + 'ln_1').transpose(0, 1)
        a = F.multi_head_attention_forward(
            h,
            h,
            h,
            W,
            HEADS,
            sd[p + 'attn.in_proj_weight'],
            sd[p + 'attn.in_proj_bias'],
            None,
            None,
            False,
            0.,
            sd[p + 'attn.out_proj.weight'],
            sd[p + 'attn.out_proj.bias'],
            need_weights=False)[0]
        x = x + a.transpose(0, 1)
        h = F.linear(
            ln(x, p + 'ln_2'), sd[p + 'mlp.c_fc.weight'],
            sd[p + 'mlp.c_fc.bias'])
        h = h * torch.sigmoid(1.702 * h)  # QuickGELU
        x = x + F.linear(h, sd[p + 'mlp.c_proj.weight'],
                         sd[p + 'mlp.c_proj.bias'])
    out = ln(x[:, 0], 'visual.ln_post') @ sd['visual.proj']
    return F.normalize(out, dim=-1)


def _classifier(tmp_path, **kwargs):
    torch.save(_clip_state(), tmp_path / 'clip.pth')
    return MODELS.build(
        dict(
            type='CLIPImageClassifier',
            encoder=VIT,
            output_dims=OUT,
            checkpoint=str(tmp_path / 'clip.pth'),
            crop_size=SIZE,
            **kwargs))


def test_clip_image_weights_give_clips_embeddings(tmp_path):
    init_default_scope('mmseg')
    clf = _classifier(tmp_path)
    assert isinstance(clf, CLIPImageClassifier)
    crops = torch.randn(3, 3, SIZE, SIZE)
    with torch.no_grad():
        ours = clf.embed(crops)
    assert torch.allclose(
        ours, _reference_embed(_clip_state(), crops), atol=1e-5)
    assert clf.logit_scale.item() == pytest.approx(2.5)
    # an initialisation reloads the file instead of replacing it
    clf.init_weights()
    with torch.no_grad():
        assert torch.allclose(clf.embed(crops), ours, atol=1e-6)
    # a ResNet tower or a foreign key is refused with the file's name
    bad = _clip_state()
    bad['visual.layer1.0.conv1.weight'] = torch.zeros(1)
    torch.save(bad, tmp_path / 'bad.pth')
    with pytest.raises(KeyError, match='bad.pth'):
        MODELS.build(
            dict(
                type='CLIPImageClassifier',
                encoder=VIT,
                output_dims=OUT,
                checkpoint=str(tmp_path / 'bad.pth')))
    with pytest.raises(ValueError, match='crop_style'):
        _classifier(tmp_path, crop_style='box')


def test_mask_boxes_and_crops():
    m = torch.zeros(3, 10, 12, dtype=torch.bool)
    m[0, 2:6, 3:8] = True  # rows 2-5, columns 3-7
    m[2, :, 4] = True  # one column: no area, the whole image
    boxes = mask_boxes(m)
    assert boxes[0].tolist() == [3., 2., 7., 5.]
    assert boxes[1].tolist() == [0., 0., 12., 10.]  # empty
    assert boxes[2].tolist() == [0., 0., 12., 10.]


def test_cropmask_crops_hide_the_rest_of_the_image(tmp_path):
    init_default_scope('mmseg')
    clf = _classifier(tmp_path, mean=(0., 0., 0.), std=(1., 1., 1.))
    img = torch.full((1, 3, SIZE, SIZE), 100.)
    img[..., :16, :] = 200.
    masks = torch.zeros(1, 1, SIZE, SIZE, dtype=torch.bool)
    masks[..., 20:30, 4:28] = True  # inside the 100-valued half
    crop = clf.crops(img, masks)[0]
    assert crop.shape == (3, SIZE, SIZE)
    # inside the box the masked image is 100 (the 200 rows are outside)
    assert crop[:, 4:-4, 4:-4].min() > 90 and crop.max() < 101
    clf.crop_style = 'mask'  # the whole image, zero outside the mask
    whole = clf.crops(img, masks)[0]
    assert whole[:, :16].abs().max() < 1e-4


def _segmentor_cfg(tmp_path, **kwargs):
    cfg = _model_cfg(tmp_path, vector_dims=OUT, type='ZegFormerSegmentor')
    # the CLIP branch reads RGB pixels back from the normalised inputs
    cfg['data_preprocessor'].update(
        mean=[120., 110., 100.], std=[60., 60., 60.], bgr_to_rgb=True)
    cfg.update(kwargs)
    return cfg


def test_zegformer_fuses_clip_scores_as_the_original(tmp_path):
    init_default_scope('mmseg')
    torch.save(_clip_state(), tmp_path / 'clip.pth')
    branch = dict(
        type='CLIPImageClassifier',
        encoder=VIT,
        output_dims=OUT,
        checkpoint=str(tmp_path / 'clip.pth'),
        crop_size=SIZE)
    torch.manual_seed(0)
    model = MODELS.build(_segmentor_cfg(tmp_path, clip_branch=branch))
    assert isinstance(model, ZegFormerSegmentor) and model.has_clip_branch
    # the fusion, by hand for one segment: seen a, b; unseen c
    cls = torch.log(torch.tensor([[[0.5, 0.2, 0.2, 0.1]]]))
    clip = torch.log(torch.tensor([[[0.1, 0.3, 0.4]]]))
    p_clip = torch.tensor([0.1, 0.3, 0.4, 0.1]) / 0.9  # bg logit appended
    w = 2 / 3
    seen_mean = (p_clip[0] + p_clip[1]) / 2
    want = torch.stack([
        0.5**w * seen_mean**(1 - w), 0.2**w * seen_mean**(1 - w),
        0.2**(1 - w) * p_clip[2]**w
    ])
    assert torch.allclose(model.fuse(cls, clip)[0, 0], want, atol=1e-5)
    # CLIP's weights are not saved and survive loading a checkpoint of
    # the model without them
    state = model.state_dict()
    assert not any(k.startswith('clip_branch.') for k in state)
    plain = MODELS.build(_segmentor_cfg(tmp_path))
    model.load_state_dict(plain.state_dict(), strict=True)
    crops = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        assert torch.allclose(
            model.clip_branch.embed(crops),
            _reference_embed(_clip_state(), crops),
            atol=1e-5)
    # inference with and without the branch
    model.eval()
    plain.eval()
    s = SegDataSample()
    s.set_metainfo(dict(img_shape=(16, 16), ori_shape=(16, 16)))
    data = dict(inputs=[torch.rand(3, 16, 16) * 255], data_samples=[s])
    data = model.data_preprocessor(data, False)
    with torch.no_grad():
        # predict writes into the samples: one copy each
        fused = model.predict(data['inputs'],
                              data['data_samples'])[0].seg_logits.data.clone()
        head_only = plain.predict(data['inputs'],
                                  data['data_samples'])[0].seg_logits.data
    assert fused.shape == (3, 16, 16)
    assert not torch.allclose(fused, head_only)


def test_clip_branch_settings_are_checked(tmp_path):
    init_default_scope('mmseg')
    torch.save(_clip_state(), tmp_path / 'clip.pth')
    branch = dict(
        type='CLIPImageClassifier',
        encoder=VIT,
        output_dims=OUT,
        checkpoint=str(tmp_path / 'clip.pth'),
        crop_size=SIZE)
    cfg = _segmentor_cfg(tmp_path, clip_branch=branch)
    cfg['data_preprocessor']['bgr_to_rgb'] = False
    with pytest.raises(ValueError, match='bgr_to_rgb'):
        MODELS.build(cfg)
    clf = MODELS.build(branch)
    with pytest.raises(ValueError, match='CLIP text embeddings'):
        clf(torch.rand(1, 3, 16, 16), torch.zeros(1, 2, 4, 4), torch.eye(3, 5))


def test_no_clip_weights_no_inference():
    init_default_scope('mmseg')
    clf = MODELS.build(
        dict(type='CLIPImageClassifier', encoder=VIT, output_dims=OUT))
    with pytest.raises(RuntimeError, match='clip_branch.checkpoint'):
        clf(
            torch.rand(1, 3, 16, 16), torch.zeros(1, 2, 4, 4),
            torch.eye(3, OUT))
