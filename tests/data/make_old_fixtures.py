"""Wrote tests/data/old_*.safetensors with the NumPy + json cr.save that preceded the C++ one
(commit 19c0575): tests/python/test_checkpoint.py checks that they still load, and that today's cr.save
writes the same bytes. Run: PYTHONPATH=python python tests/data/make_old_fixtures.py tests/data"""
import sys, numpy as np, torch
import chainrule as cr, chainrule.nn as crnn
from chainrule.serialization import save
out = sys.argv[1]
cr.manual_seed(0)
flat = {"layer.weight": cr.randn(3, 4), "layer.bias": cr.randn(4, dtype=cr.float64),
        "steps": cr.tensor([1, -2, 3]), "mask": cr.tensor([[True, False], [False, True]]),
        "scalar": cr.tensor(2.5), "empty": cr.zeros(0, 5), "naïve/ключ\n\"q\"": cr.tensor([0.1, -0.0])}
save(flat, f"{out}/old_flat.safetensors")
nested = {"model": {"w": cr.ones(2)}, "epoch": 3, "lr": 0.1, "best": float("inf"), "worst": float("-inf"),
          "nan": float("nan"), "name": "run-1 é", "flags": [True, False, None], "pair": (1, (2.0, "x")),
          "keys": {0: "int", 1.5: "float", True: "bool", None: "none", "s": "str"},
          "tensors_in_lists": [cr.zeros(1), (cr.tensor([1, 2]),)], "empty": {}, "empty_list": [],
          "small": 1e-08, "big": 1e16, "third": 1 / 3}
save(nested, f"{out}/old_nested.safetensors")
# a chainrule Adam after 3 steps, with a scheduler's initial_lr and a user key in the group
cr.manual_seed(1)
model = crnn.Sequential(crnn.Linear(3, 4), crnn.Tanh(), crnn.Linear(4, 2))
opt = cr.optim.Adam([{"params": list(model[0].parameters()), "name": "first"},
                     {"params": list(model[2].parameters()), "lr": 0.01}], lr=0.003, betas=(0.8, 0.99), amsgrad=True)
sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
x = cr.randn(5, 3)
for _ in range(3):
    opt.zero_grad(); (model(x) ** 2).mean().backward(); opt.step(); sched.step()
save(model.state_dict(), f"{out}/old_adam_model.safetensors")
save(opt.state_dict(), f"{out}/old_adam_optimizer.safetensors")
# torch's SGD state (momentum) converted to chainrule tensors: torch-only keys (foreach, fused, ...)
torch.manual_seed(0)
params = [torch.nn.Parameter(torch.randn(3, 2)), torch.nn.Parameter(torch.randn(2))]
topt = torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
for _ in range(2):
    topt.zero_grad(); sum((p ** 2).sum() for p in params).backward(); topt.step()
def convert(o):
    if isinstance(o, torch.Tensor): return cr.tensor(o.detach().numpy())
    if isinstance(o, dict): return {k: convert(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)): return type(o)(convert(v) for v in o)
    return o
save(convert(topt.state_dict()), f"{out}/old_torch_sgd_optimizer.safetensors")
print(convert(topt.state_dict())["param_groups"])
print(opt.state_dict()["param_groups"])
