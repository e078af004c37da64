# Copyright (c) mmfactdiff contributors. All rights reserved.
from mmengine._strategy.fsdp import FSDPStrategy
from mmengine.registry import STRATEGIES
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP


@STRATEGIES.register_module()
class ResumableFSDPStrategy(FSDPStrategy):
    """mmengine's ``FSDPStrategy`` with ``--resume`` working on torch >= 2.1.

    mmengine 0.10.7 calls ``FSDP.optim_state_dict_to_load(state_dict,
    model, optimizer)``, torch 2.0's argument order; torch 2.1 changed it to
    ``(model, optimizer, state_dict)``, so resuming an FSDP run fails with
    "unhashable type: 'dict'". This subclass only fixes that call; its
    arguments are those of ``FSDPStrategy``. (It is registered in
    mmengine's ``STRATEGIES``, which ``FlexibleRunner`` builds from.)
    """

    def load_optim_state_dict(self, state_dict: dict) -> None:
        """Load the optimizer state saved by :meth:`save_checkpoint`.

        Args:
            state_dict (dict): The optimizer state (the full one when
                ``state_dict_cfg='full'``).
        """
        optim_state_dict = FSDP.optim_state_dict_to_load(
            self.model, self.optim_wrapper.optimizer, state_dict)
        self.optim_wrapper.load_state_dict(optim_state_dict)
