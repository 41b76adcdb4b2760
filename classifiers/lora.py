"""Low-rank adapters (LoRA) for the encoder's linear layers, small enough to ship.

Training wraps each targeted `nn.Linear` in a `LoRALinear` (frozen weight + trainable A, B);
shipping keeps only A and B; loading merges W + scale * B @ A into the plain model, so inference
runs the ordinary architecture at full speed (and exports to ONNX unchanged).
"""

from __future__ import annotations

import math

TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense",
           "output.dense")


def _targets(model):
    import torch

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and any(name.endswith(t) for t in TARGETS):
            yield name, module


def add_lora(model, rank: int = 16, alpha: float = 32.0):
    """Replace targeted linear layers by LoRA-wrapped ones; returns the trainable parameters."""
    import torch

    class LoRALinear(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.lora_a = torch.nn.Parameter(torch.empty(rank, base.in_features))
            self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
            torch.nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
            self.scale = alpha / rank

        def forward(self, x):
            return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    for p in model.parameters():
        p.requires_grad_(False)
    params = []
    for name, module in list(_targets(model)):
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        wrapped = LoRALinear(module)
        setattr(parent, attr, wrapped)
        params += [wrapped.lora_a, wrapped.lora_b]
    return params


def lora_state(model) -> dict:
    """name -> tensor of every adapter (A and B) plus its scale, for saving."""
    out = {}
    for name, module in model.named_modules():
        if hasattr(module, "lora_a"):
            out[f"{name}.lora_a"] = module.lora_a.detach().clone()
            out[f"{name}.lora_b"] = (module.lora_b.detach() * module.scale).clone()
    return out


def merge_lora(model, tensors: dict) -> int:
    """Add B @ A (scale folded into B) to each plain linear layer; returns layers merged."""
    import torch

    merged = 0
    with torch.no_grad():
        for key, a in tensors.items():
            if not key.endswith(".lora_a"):
                continue
            name = key[: -len(".lora_a")]
            b = tensors[f"{name}.lora_b"]
            layer = model.get_submodule(name)
            layer.weight += torch.as_tensor(b) @ torch.as_tensor(a)
            merged += 1
    return merged
