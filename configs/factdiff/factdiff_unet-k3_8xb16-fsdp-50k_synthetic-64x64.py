# The paper-size model (ADM 64x64 layout, K = 3) sharded over 8 GPUs with
# FSDP: mmengine's FlexibleRunner with FSDPStrategy, batch 16 per GPU
# (global 128). Launch: bash tools/dist_train.sh THIS_CONFIG 8
# (docs/training.md). It fits one GPU as well; FSDP is the path for models
# that do not.
_base_ = './factdiff_unet-k3_1xb64-50k_synthetic-64x64.py'
runner_type = 'FlexibleRunner'
strategy = dict(
    # mmengine's FSDPStrategy with its --resume fixed for torch >= 2.1
    type='ResumableFSDPStrategy',
    model_wrapper=dict(
        # every submodule holding >= 1M parameters is its own FSDP unit
        auto_wrap_policy=dict(
            type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
            min_num_params=int(1e6))),
    # checkpoints hold the full state dict, written by rank 0: one file that
    # tools/test.py and a plain Runner load
    state_dict_cfg='full')
train_dataloader = dict(batch_size=16)
# Under FSDP each rank holds a shard of every parameter, so what reads
# parameters outside the wrapped forward/backward is off: OptimWrapper's
# clip_grad (torch.nn.utils.clip_grad_norm_ would clip each rank's shard by
# its own norm), EMAHook and SampleVisualizationHook.
optim_wrapper = dict(clip_grad=None)
custom_hooks = [dict(type='MaskUsageHook', min_usage=0.02, patience=200)]
