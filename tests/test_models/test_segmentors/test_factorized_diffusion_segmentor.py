# Copyright (c) mmfactdiff contributors. All rights reserved.
import copy
import uuid

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmfactdiff.models.utils import LossGuard
from tiny_models import leave_zero_init, tiny_mask_head, tiny_segmentor


def _samples(n=2, size=16, labels=False, **meta):
    out = []
    for _ in range(n):
        s = SegDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                **meta))
        if labels:
            s.gt_sem_seg = PixelData(data=torch.randint(0, 2, (1, size, size)))
        out.append(s)
    return out


def _model(**kwargs):
    # leave the zero-initialised regime so that every part matters
    return leave_zero_init(MODELS.build(tiny_segmentor(**kwargs)))


def test_loss_reads_no_labels_and_reaches_mask_generator():
    model = _model()
    x = torch.randn(2, 3, 16, 16)
    labelled, unlabelled = _samples(labels=True), _samples(labels=False)
    torch.manual_seed(3)
    with_labels = model.loss(x, labelled)
    torch.manual_seed(3)
    without = model.loss(x, unlabelled)
    # one loss; the rest are log variables (no 'loss' in their keys)
    assert [k for k in without if 'loss' in k] == ['loss_denoise']
    assert set(without) == {
        'loss_denoise', 'mask/usage_0', 'mask/usage_1', 'mask/usage_2',
        'mask/entropy', 'mask/spatial_std'
    }
    assert torch.equal(with_labels['loss_denoise'], without['loss_denoise'])
    loss, log_vars = model.parse_losses(without)
    assert torch.equal(loss, without['loss_denoise'])
    assert 'mask/entropy' in log_vars
    loss.backward()
    grad = model.decode_head.conv_seg.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    usage = torch.stack([without[f'mask/usage_{k}'] for k in range(3)])
    assert not usage.requires_grad
    assert torch.isclose(usage.sum(), torch.tensor(1.))


def test_predict_never_runs_the_decoder_and_is_deterministic():
    model = _model().eval()

    def boom(*args, **kwargs):
        raise AssertionError('decoder ran during predict')

    model.decoder.forward = boom
    model.decoder.forward_regions = boom
    x = torch.randn(2, 3, 16, 16)
    out1 = model.predict(x, _samples())
    out2 = model.predict(x, _samples())
    for a, b in zip(out1, out2):
        assert a.pred_sem_seg.data.shape == (1, 16, 16)
        assert torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)
        soft = a.seg_logits.data
        assert soft.shape == (3, 16, 16)
        assert torch.allclose(soft.sum(0), torch.ones(16, 16), atol=1e-5)
        assert torch.equal(soft.argmax(0), a.pred_sem_seg.data[0])


def test_predict_regions_is_the_read_out():
    """The one read-out, pinned against its definition: the image noised
    to t with draws from a generator seeded at every call, encoder and mask
    generator, softmax, averaged over the draws; ``tensor`` mode and
    ``predict`` return exactly that."""
    model = _model().eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        out = model.predict_regions(x, t=20, num_noise_draws=2, noise_seed=5)
        gen = torch.Generator().manual_seed(5)
        expected = 0.
        for _ in range(2):
            noise = torch.randn(x.shape[1:], generator=gen).expand_as(x)
            feats = model.backbone(
                model.scheduler.add_noise(x, noise, 20), 20, None)
            expected = expected + model.decode_head(feats).softmax(1)
        torch.testing.assert_close(out, expected / 2)
        # the test_cfg settings are the defaults of the same method
        model.test_cfg.update(t=20, num_noise_draws=2, noise_seed=5)
        torch.testing.assert_close(model(x, _samples(), mode='tensor'), out)
        preds = model.predict(x, _samples())
        torch.testing.assert_close(
            torch.stack([p.seg_logits.data for p in preds]), out)
        # an image's regions do not depend on its batch
        torch.testing.assert_close(model.predict_regions(x[1:]), out[1:])
    with pytest.raises(ValueError, match='noise level t=100'):
        model.predict_regions(x, t=100)
    with pytest.raises(ValueError, match='num_noise_draws'):
        model.predict_regions(x, num_noise_draws=0)


@pytest.mark.parametrize('value', [float('nan'), float('inf')])
def test_non_finite_images_are_refused_by_name(value):
    """NaN masks would argmax to region 0 everywhere: a silent wrong
    answer. Every read-out refuses them, naming the file when it is known."""
    model = _model().eval()
    x = torch.randn(3, 3, 16, 16)
    x[1, 0, 4, 4] = value
    samples = _samples(3)
    for i, s in enumerate(samples):
        s.set_metainfo(dict(img_path=f'img{i}.png'))
    with pytest.raises(ValueError, match=r'values: img1\.png;'):
        model.predict(x, samples)
    with pytest.raises(ValueError, match='batch index 1;'):
        model.predict_regions(x)
    model.predict_regions(x[::2])  # the finite ones still segment


def test_noise_draws_and_level_are_used():
    model = _model().eval()
    x = torch.randn(1, 3, 16, 16)
    one = model(x, _samples(1), mode='tensor')
    model.test_cfg.num_noise_draws = 3
    three = model(x, _samples(1), mode='tensor')
    model.test_cfg.t = 90
    noisier = model(x, _samples(1), mode='tensor')
    assert one.shape == (1, 3, 16, 16)
    assert not torch.allclose(one, three)
    assert not torch.allclose(three, noisier)


def test_with_one_region_it_is_an_ordinary_unet_denoiser():
    model = _model(num_regions=1)
    x_t = torch.randn(2, 3, 16, 16)
    t = torch.tensor([4, 70])
    eps, masks = model.denoise(x_t, t)
    assert torch.equal(masks, torch.ones_like(masks))
    feats = model.backbone(x_t, t)
    plain = model.decoder._run(0, list(feats[:-1]), feats[-1], feats.emb)
    assert torch.allclose(eps, plain, atol=1e-6)


def test_train_step_updates_all_parts():
    model = _model()
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    data = dict(
        inputs=[
            torch.randint(0, 255, (3, 16, 16), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=_samples())
    for _ in range(2):
        log = model.train_step(data, wrapper)
    assert 'loss_denoise' in log and torch.isfinite(log['loss'])
    for part in ('backbone', 'decode_head', 'decoder'):
        changed = [
            not torch.equal(p, before[n]) for n, p in model.named_parameters()
            if n.startswith(part)
        ]
        assert any(changed), part


def test_sample_with_ddpm_ddim_and_a_diffusers_scheduler():
    model = _model().eval()
    g = torch.Generator().manual_seed(0)
    out = model.sample(2, num_steps=5, generator=g)
    assert out['images'].shape == (2, 3, 16, 16)
    assert torch.allclose(
        out['masks'].sum(1), torch.ones(2, 16, 16), atol=1e-5)
    a = model.sample(
        1,
        num_steps=4,
        scheduler=dict(type='DDIMNoiseScheduler', num_train_timesteps=100),
        generator=torch.Generator().manual_seed(1))
    b = model.sample(
        1,
        num_steps=4,
        scheduler=dict(type='DDIMNoiseScheduler', num_train_timesteps=100),
        generator=torch.Generator().manual_seed(1))
    assert torch.equal(a['images'], b['images'])
    diffusers = pytest.importorskip('diffusers')
    theirs = diffusers.DDIMScheduler(num_train_timesteps=100)
    c = model.sample(
        1,
        num_steps=4,
        scheduler=theirs,
        generator=torch.Generator().manual_seed(1))
    assert torch.allclose(a['images'], c['images'], atol=1e-4)


def test_hierarchical_leaves():
    model = _model(num_regions=3, sub_mask_head=tiny_mask_head(2))
    assert model.out_channels == 6 and model.decoder.num_regions == 6
    x = torch.randn(2, 3, 16, 16)
    eps, masks = model.denoise(x, torch.tensor([3, 3]))
    assert masks.shape == (2, 6, 16, 16)
    assert torch.allclose(masks.sum(1), torch.ones(2, 16, 16), atol=1e-5)
    # leaves of parent i sum to the parent mask
    parent = model.decode_head.masks(
        model.decode_head(model.backbone(x, torch.tensor([3, 3]))))
    assert torch.allclose(masks.unflatten(1, (3, 2)).sum(2), parent, atol=1e-5)
    model.eval()
    pred = model.predict(x, _samples())
    assert pred[0].seg_logits.data.shape[0] == 6
    assert model.loss(x, _samples())['loss_denoise'].isfinite()


def test_class_conditional_model():
    model = _model(backbone=dict(num_classes=4), cond_label_key='class_id')
    x = torch.randn(2, 3, 16, 16)
    loss = model.loss(x, _samples(class_id=1))
    assert loss['loss_denoise'].isfinite()
    with pytest.raises(KeyError, match='class_id'):
        model.loss(x, _samples())
    out = model.sample(2, num_steps=2, labels=torch.tensor([0, 3]))
    assert out['images'].shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match='class-conditional'):
        model.sample(2, num_steps=2)


def test_mask_statistics_read_probabilities_not_hard_samples():
    """In gumbel mode the statistics come from the softmax, so symmetric
    (uniform) probabilities are visible although every sample is one-hot."""
    model = _model(
        decode_head=dict(mask_sampling='gumbel', gumbel_noise_stride=1))
    model.train()
    with torch.no_grad():  # symmetric point: the same logit everywhere
        model.decode_head.conv_seg.weight.zero_()
        model.decode_head.conv_seg.bias.zero_()
    stats = model.loss(torch.randn(2, 3, 16, 16), _samples())
    k = model.decode_head.num_classes
    assert stats['mask/entropy'] == pytest.approx(
        float(torch.log(torch.tensor(float(k)))), rel=1e-5)
    assert stats['mask/spatial_std'] == pytest.approx(0., abs=1e-6)
    usage = torch.stack([stats[f'mask/usage_{i}'] for i in range(k)])
    torch.testing.assert_close(usage, torch.full((k, ), 1. / k))
    # in soft mode probabilities and masks are the same thing
    soft = _model()
    soft.train()
    stats = soft.loss(torch.randn(2, 3, 16, 16), _samples())
    assert 0 < stats['mask/entropy'] <= float(torch.log(
        torch.tensor(3.))) + 1e-6


def _record_loss_step():
    """One loss step; returns what add_noise, the encoder, the mask
    generator and the decoder were given."""
    model = _model()
    rec = dict(noised=[], encoded=[], head=[], decoder=[])
    add_noise = model.scheduler.add_noise

    def record_add_noise(x0, noise, t):
        out = add_noise(x0, noise, t)
        rec['noised'].append((noise, t, out))
        return out

    def wrap(module, key):
        forward = module.forward

        def recorded(feats, *args, **kwargs):
            rec[key].append(feats)
            return forward(feats, *args, **kwargs)

        module.forward = recorded

    model.scheduler.add_noise = record_add_noise
    backbone_forward = model.backbone.forward

    def record_backbone(x, *args, **kwargs):
        feats = backbone_forward(x, *args, **kwargs)
        rec['encoded'].append((x, feats))
        return feats

    model.backbone.forward = record_backbone
    wrap(model.decode_head, 'head')
    wrap(model.decoder, 'decoder')
    torch.manual_seed(0)
    loss = model.loss(torch.randn(2, 3, 16, 16), _samples())['loss_denoise']
    return model, rec, loss


def test_loss_is_the_papers_single_pass():
    """One noising, one encoder pass; the mask generator and the decoder
    read the same features."""
    _, rec, loss = _record_loss_step()
    assert len(rec['noised']) == 1 and len(rec['encoded']) == 1
    assert rec['head'][0] is rec['decoder'][0] is rec['encoded'][0][1]
    assert loss.requires_grad


def test_trunk_is_stated_once_and_fills_every_half():
    """``trunk`` builds the same model as the same keys in every part."""
    shared = dict(
        channels=8,
        channel_mults=(1, 2),
        attention_strides=(2, ),
        num_heads=2,
        num_groups=4,
        block_width='skip')
    per_part = tiny_segmentor(num_regions=2)
    for part in ('decode_head', 'decoder'):
        per_part[part] = dict(per_part[part], **shared)
    per_part['sub_mask_head'] = dict(
        type='MaskGeneratorHead', num_classes=2, **shared)
    cfg = copy.deepcopy(per_part)
    for part in ('decode_head', 'decoder', 'sub_mask_head'):
        cfg[part] = {k: v for k, v in cfg[part].items() if k not in shared}
    cfg['trunk'] = shared
    model, expected = MODELS.build(cfg), MODELS.build(per_part)
    assert repr(model) == repr(expected)
    # 'skip' widths differ from the default 'level' ones: trunk was used
    default = MODELS.build(tiny_segmentor(num_regions=2))
    assert repr(model.decoder) != repr(default.decoder)
    assert repr(model.decode_head) != repr(default.decode_head)
    # a key in both places is ambiguous: it is refused, named
    clash = dict(cfg, decoder=dict(cfg['decoder'], num_groups=2))
    with pytest.raises(ValueError, match='num_groups'):
        MODELS.build(clash)
    with pytest.raises(ValueError, match='unknown keys'):
        MODELS.build(dict(cfg, trunk=dict(shared, width=3)))


def test_non_finite_loss_stops_training_before_the_update(tmp_path):
    """A NaN loss at iteration 3 stops the run, naming the term and the
    iteration; the weights and the checkpoint of iteration 2 are the last
    good ones."""
    from mmengine.runner import Runner

    from mmfactdiff.utils import load_checkpoint_file
    from tiny_configs import tiny_config
    cfg = tiny_config(
        str(tmp_path), max_iters=4, **{'default_hooks.checkpoint.interval': 2})
    runner = Runner.from_cfg(cfg)
    model = runner.model
    calls = []
    original = model.loss_denoise.forward

    def nan_at_third(pred, target, weight=None):
        calls.append(1)
        loss = original(pred, target, weight)
        return loss * float('nan') if len(calls) == 3 else loss

    model.loss_denoise.forward = nan_at_third
    with pytest.raises(
            FloatingPointError, match=r"iteration 3.*'loss_denoise'"):
        runner.train()
    ckpt = load_checkpoint_file(str(tmp_path / 'iter_2.pth'))
    # with EMAHook, the raw training weights are the 'module.' copy
    raw = {
        k[len('module.'):]: v
        for k, v in ckpt.get('ema_state_dict', {}).items()
        if k.startswith('module.')
    } or ckpt['state_dict']
    assert all(torch.isfinite(v).all() for v in raw.values())
    # the failed step changed nothing: the weights are those of iteration 2
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, raw[k])
    assert not (tmp_path / 'iter_4.pth').exists()


def test_skip_mode_drops_non_finite_steps_and_stops_after_the_limit():
    """nonfinite_loss='skip': a NaN step changes neither the weights nor
    the optimizer; a good step resets the count; max_skipped_steps NaN
    steps in a row stop the run."""
    model = _model(nonfinite_loss='skip', max_skipped_steps=2)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    data = dict(inputs=[torch.rand(3, 16, 16) * 255], data_samples=_samples(1))
    original = model.loss_denoise.forward
    plan = iter([True, False, True, True, True])  # NaN on these steps

    def maybe_nan(pred, target, weight=None):
        loss = original(pred, target, weight)
        return loss * float('nan') if next(plan) else loss

    model.loss_denoise.forward = maybe_nan
    before = copy.deepcopy(model.state_dict())
    out = model.train_step(data, optim)
    assert set(out) == {'skipped_steps'} and float(out['skipped_steps']) == 1
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not optim.optimizer.state  # Adam never stepped
    assert 'loss' in model.train_step(data, optim)  # a good step
    model.train_step(data, optim)
    assert float(model.train_step(data, optim)['skipped_steps']) == 2
    with pytest.raises(FloatingPointError, match='loss_denoise'):
        model.train_step(data, optim)
    with pytest.raises(ValueError, match='nonfinite_loss'):
        _model(nonfinite_loss='ignore')
    with pytest.raises(ValueError, match='max_skipped_steps'):
        _model(max_skipped_steps=0)


def test_exploding_loss_is_a_fault_when_asked():
    """loss_spike_ratio: a finite term far above its running median is
    refused before the update (stop) or dropped (skip); normal noise in
    the loss is not."""
    data = dict(inputs=[torch.rand(3, 16, 16) * 255], data_samples=_samples(1))
    for mode in ('stop', 'skip'):
        # a run's own message hub holds the history (as under a Runner)
        MessageHub.get_instance(f'spike-{mode}-{uuid.uuid4().hex[:6]}')
        model = _model(nonfinite_loss=mode, loss_spike_ratio=10.)
        optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.))
        original = model.loss_denoise.forward
        scale = iter([1., 1.5, 0.7] * 10 + [1000., 1.])

        def spiky(pred, target, weight=None):
            return original(pred, target, weight) * next(scale)

        model.loss_denoise.forward = spiky
        for _ in range(30):  # warm-up and ordinary variation pass
            assert 'loss' in model.train_step(data, optim)
        before = copy.deepcopy(model.state_dict())
        if mode == 'stop':
            with pytest.raises(
                    FloatingPointError, match='exploding loss.*loss_denoise'):
                model.train_step(data, optim)
        else:
            assert 'skipped_steps' in model.train_step(data, optim)
            assert 'loss' in model.train_step(data, optim)
        for k, v in model.state_dict().items():
            assert torch.equal(v, before[k]), k
        if mode == 'stop':
            hub_state = MessageHub.get_current_instance().state_dict()
    with pytest.raises(ValueError, match='loss_spike_ratio'):
        _model(loss_spike_ratio=0.5)
    # --resume: the runner restores its message hub from the checkpoint,
    # and with it the history: the first step is checked at once
    MessageHub.get_instance(
        f'spike-resumed-{uuid.uuid4().hex[:6]}').load_state_dict(hub_state)
    assert len(LossGuard.history()['loss_denoise']) == 30
    model = _model(loss_spike_ratio=10.)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.))
    original = model.loss_denoise.forward
    model.loss_denoise.forward = (
        lambda pred, target, weight=None: original(pred, target) * 1000.)
    with pytest.raises(FloatingPointError, match='exploding loss'):
        model.train_step(data, optim)
    # off by default: the same spike goes through
    model = _model()
    assert model.loss_guard.spike_ratio is None


def test_config_errors_fail_at_build_time_naming_the_field():
    with pytest.raises(ValueError, match='num_classes'):
        MODELS.build(tiny_segmentor(num_regions=0))
    # attention at a resolution the model does not have
    with pytest.raises(ValueError, match=r'attention_strides \[64\]'):
        MODELS.build(
            tiny_segmentor(decode_head=dict(attention_strides=(64, ))))
    with pytest.raises(ValueError, match=r'attention_strides \[64\]'):
        MODELS.build(
            tiny_segmentor(
                backbone=dict(
                    type='DiffusionUNetEncoder',
                    in_channels=3,
                    base_channels=8,
                    channel_mults=(1, 2),
                    num_res_blocks=1,
                    attention_strides=(64, ),
                    num_heads=2,
                    num_groups=4)))


def test_image_size_not_divisible_by_the_stride_is_named():
    model = _model().eval()
    with pytest.raises(ValueError, match=r'\(17, 17\).*stride 2'):
        model.predict_regions(torch.randn(1, 3, 17, 17))


def test_checkpoint_of_another_k_or_width_names_the_first_mismatch(tmp_path):
    """mmengine's non-strict loading (init_model, load_from) would only warn
    and half-load the model; the segmentor refuses before copying."""
    from mmengine.runner import load_checkpoint
    path = str(tmp_path / 'k3.pth')
    torch.save(dict(state_dict=_model(num_regions=3).state_dict()), path)
    model = _model(num_regions=2)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError) as info:
        load_checkpoint(model, path, map_location='cpu')
    msg = str(info.value)
    assert 'decode_head.conv_seg.weight' in msg and '(3, ' in msg
    assert 'number of regions K' in msg
    for name, value in model.state_dict().items():  # nothing was copied
        assert torch.equal(value, before[name]), name
    # a checkpoint of the same architecture still loads (strict)
    same = str(tmp_path / 'k2.pth')
    torch.save(dict(state_dict=_model(num_regions=2).state_dict()), same)
    load_checkpoint(model, same, map_location='cpu', strict=True)


def test_checkpoint_of_another_scheduler_t_is_refused(tmp_path):
    from mmengine.runner import load_checkpoint
    model = _model()
    assert int(model.scheduler_timesteps) == len(model.scheduler)
    sd = model.state_dict()
    other = _model(
        scheduler=dict(type='DDPMNoiseScheduler', num_train_timesteps=50))
    path = str(tmp_path / 't.pth')
    torch.save(dict(state_dict=sd), path)
    with pytest.raises(
            ValueError,
            match=f'trained with {len(model.scheduler)}'
            ' diffusion timesteps.*num_train_timesteps='):
        load_checkpoint(other, path, map_location='cpu')
    # checkpoints written before T was saved load as before (strict)
    sd.pop('scheduler_timesteps')
    model.load_state_dict(sd, strict=True)
