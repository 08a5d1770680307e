#!/usr/bin/python3
"""Generate PyTorch reference trajectories for package optim.

Run from the repository root:

    /usr/bin/python3 testdata/optim/gen_optim.py

It writes testdata/optim/reference.json, which optim/reference_test.go
reads. Needs PyTorch (Debian's python3-torch, 1.13, CPU) and numpy.

Optimisers: two parameters (shapes [3, 4] and [4]) start from fixed values
drawn from a seeded numpy generator; for 5 steps each parameter is given a
fixed gradient (also drawn once) and the optimiser steps. At step 3 (index 2)
the second parameter has no gradient (grad = None), so the trajectories also
check that such a parameter is skipped and that its step count does not
advance. Every configuration is run twice: in float64, and in float32 from
the same numbers rounded to float32. The file records the parameters after
every step. Configurations are written with nabla's Go field names, so the
test can decode them straight into optim's config structs; "torch" gives the
keyword arguments passed to torch.

Schedules: the learning rate seen by the optimiser before any scheduler step
(index 0) and after each of 30 scheduler.step() calls, for torch's StepLR,
MultiStepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR (cycle_momentum
off: nabla's schedules only drive the learning rate), ReduceLROnPlateau (fed
the fixed metric sequence stored beside it) and the composition nabla's
Cosine with Warmup is defined as:

    SequentialLR([LinearLR(start_factor=1/(W+1), end_factor=1, total_iters=W),
                  CosineAnnealingLR(T_max=TMax-W, eta_min=EtaMin)],
                 milestones=[W])

Floats are written with Python's repr (json does this), which round-trips
exactly; float32 values are written as the float64 number equal to them.
"""

import json
import math
import os
import sys
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")

SEED = 20240601
STEPS = 5
SHAPES = [[3, 4], [4]]
SKIP = {2: [1]}  # step index -> parameters with no gradient at that step

OPTIMIZERS = [
    # name, kind, Go config, torch class, torch kwargs
    ("sgd", "sgd", {"LR": 0.1}, torch.optim.SGD, {"lr": 0.1}),
    ("sgd_momentum", "sgd", {"LR": 0.1, "Momentum": 0.9}, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    ("sgd_dampening", "sgd", {"LR": 0.05, "Momentum": 0.8, "Dampening": 0.3}, torch.optim.SGD,
     {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("sgd_nesterov", "sgd", {"LR": 0.1, "Momentum": 0.9, "Nesterov": True}, torch.optim.SGD,
     {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd_weight_decay", "sgd", {"LR": 0.1, "Momentum": 0.5, "WeightDecay": 0.1}, torch.optim.SGD,
     {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}),
    ("adagrad", "adagrad", {"LR": 0.1}, torch.optim.Adagrad, {"lr": 0.1}),
    ("adagrad_decay", "adagrad", {"LR": 0.1, "LRDecay": 0.05, "WeightDecay": 0.02, "InitialAccumulatorValue": 0.1},
     torch.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.02, "initial_accumulator_value": 0.1}),
    ("rmsprop", "rmsprop", {"LR": 0.01}, torch.optim.RMSprop, {"lr": 0.01}),
    ("rmsprop_centered", "rmsprop", {"LR": 0.01, "Alpha": 0.9, "Centered": True, "WeightDecay": 0.01},
     torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "centered": True, "weight_decay": 0.01}),
    ("rmsprop_momentum", "rmsprop", {"LR": 0.01, "Momentum": 0.9, "Eps": 1e-6}, torch.optim.RMSprop,
     {"lr": 0.01, "momentum": 0.9, "eps": 1e-6}),
    ("rmsprop_centered_momentum", "rmsprop", {"LR": 0.01, "Momentum": 0.5, "Centered": True}, torch.optim.RMSprop,
     {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("adam", "adam", {"LR": 0.01}, torch.optim.Adam, {"lr": 0.01}),
    ("adam_weight_decay", "adam", {"LR": 0.01, "Beta1": 0.8, "Beta2": 0.99, "Eps": 1e-6, "WeightDecay": 0.1},
     torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("adam_amsgrad", "adam", {"LR": 0.01, "AMSGrad": True, "WeightDecay": 0.01}, torch.optim.Adam,
     {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("adamw", "adamw", {"LR": 0.01}, torch.optim.AdamW, {"lr": 0.01}),
    # Settings PyTorch's defaults are not 0 for, set to exactly 0.
    ("adam_beta1_zero", "adam", {"LR": 0.01, "Beta1": 0.0}, torch.optim.Adam, {"lr": 0.01, "betas": (0.0, 0.999)}),
    ("adamw_no_decay", "adamw", {"LR": 0.01, "WeightDecay": 0.0}, torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.0}),
    ("rmsprop_alpha_zero", "rmsprop", {"LR": 0.01, "Alpha": 0.0}, torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.0}),
    ("adamw_amsgrad", "adamw", {"LR": 0.01, "WeightDecay": 0.1, "AMSGrad": True, "Beta1": 0.85},
     torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "betas": (0.85, 0.999)}),
]


def optimizer_case(rng_init, grads64, name, kind, cfg, cls, kw, dtype):
    params = [torch.tensor(v, dtype=dtype).requires_grad_() for v in rng_init]
    opt = cls(params, **kw)
    steps = []
    for s in range(STEPS):
        for i, p in enumerate(params):
            if i in SKIP.get(s, []):
                p.grad = None
            else:
                p.grad = torch.tensor(grads64[s][i], dtype=dtype)
        opt.step()
        steps.append([p.detach().to(torch.float64).flatten().tolist() for p in params])
    return steps


def schedule_cases():
    def lrs(make, n=30, metrics=None):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make(opt)
        out = [opt.param_groups[0]["lr"]]
        for k in range(n):
            opt.step()
            if metrics is None:
                sched.step()
            else:
                sched.step(metrics[k])
            out.append(opt.param_groups[0]["lr"])
        return out

    S = torch.optim.lr_scheduler
    cases = []

    def add(name, kind, cfg, make, metrics=None):
        cases.append({"name": name, "kind": kind, "config": cfg, "metrics": metrics, "lrs": lrs(make, metrics=metrics)})

    add("step", "step", {"LR": 0.1, "StepSize": 7, "Gamma": 0.5}, lambda o: S.StepLR(o, step_size=7, gamma=0.5))
    add("multistep", "multistep", {"LR": 0.1, "Milestones": [5, 12, 12, 20], "Gamma": 0.3},
        lambda o: S.MultiStepLR(o, milestones=[5, 12, 12, 20], gamma=0.3))
    add("exponential", "exponential", {"LR": 0.1, "Gamma": 0.9}, lambda o: S.ExponentialLR(o, gamma=0.9))
    add("cosine", "cosine", {"LR": 0.1, "TMax": 30}, lambda o: S.CosineAnnealingLR(o, T_max=30))
    add("cosine_periodic", "cosine", {"LR": 0.1, "TMax": 10, "EtaMin": 0.01},
        lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01))

    W, TMAX, ETA = 5, 25, 0.001

    def warm(o):
        lin = S.LinearLR(o, start_factor=1 / (W + 1), end_factor=1.0, total_iters=W)
        cos = S.CosineAnnealingLR(o, T_max=TMAX - W, eta_min=ETA)
        return S.SequentialLR(o, [lin, cos], milestones=[W])

    add("cosine_warmup", "cosine", {"LR": 0.1, "TMax": TMAX, "EtaMin": ETA, "Warmup": W}, warm)
    add("onecycle", "onecycle", {"MaxLR": 0.1, "TotalSteps": 30},
        lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=30, cycle_momentum=False))
    add("onecycle_linear", "onecycle",
        {"MaxLR": 0.1, "TotalSteps": 30, "PctStart": 0.25, "DivFactor": 10, "FinalDivFactor": 100,
         "AnnealStrategy": "linear"},
        lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=30, pct_start=0.25, div_factor=10.0,
                               final_div_factor=100.0, anneal_strategy="linear", cycle_momentum=False))

    down = [1.0, 0.9, 0.85, 0.849, 0.848, 0.847, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69, 0.5, 0.5, 0.5,
            0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
    add("plateau", "plateau",
        {"LR": 0.1, "Factor": 0.5, "Patience": 2, "Threshold": 1e-2, "Cooldown": 1, "MinLR": 0.01},
        lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2, threshold=1e-2, cooldown=1, min_lr=0.01),
        metrics=down)
    up = [0.1, 0.2, 0.2, 0.25, 0.26, 0.26, 0.26, 0.3, 0.3, 0.3, 0.3, 0.31, 0.4, 0.4, 0.4,
          0.4, 0.4, 0.4, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45]
    add("plateau_max_abs", "plateau",
        {"LR": 0.1, "Mode": "max", "ThresholdMode": "abs", "Factor": 0.3, "Patience": 1, "Threshold": 0.02},
        lambda o: S.ReduceLROnPlateau(o, mode="max", threshold_mode="abs", factor=0.3, patience=1, threshold=0.02),
        metrics=up)

    # Issue 14: LinearLR, SequentialLR, a warm-up in front of any schedule,
    # and one-cycle's three-phase mode.
    add("linear_defaults", "linear", {"LR": 0.1}, lambda o: S.LinearLR(o))
    add("linear_warmup", "linear", {"LR": 0.1, "StartFactor": 0.25, "EndFactor": 1.0, "TotalIters": 8},
        lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=8))
    add("linear_decay", "linear", {"LR": 0.1, "StartFactor": 1.0, "EndFactor": 0.1, "TotalIters": 10},
        lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=10))
    add("linear_to_zero", "linear", {"LR": 0.1, "StartFactor": 1.0, "EndFactor": 0.0, "TotalIters": 12},
        lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=12))
    add("sequential_linear_exponential", "sequential",
        {"Schedules": [{"kind": "linear", "config": {"LR": 0.1, "StartFactor": 0.1, "TotalIters": 5}},
                       {"kind": "exponential", "config": {"LR": 0.1, "Gamma": 0.9}}],
         "Milestones": [5]},
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.ExponentialLR(o, gamma=0.9)],
                                 milestones=[5]))
    add("sequential_three", "sequential",
        {"Schedules": [{"kind": "linear", "config": {"LR": 0.1, "StartFactor": 0.5, "TotalIters": 4}},
                       {"kind": "step", "config": {"LR": 0.1, "StepSize": 5, "Gamma": 0.5}},
                       {"kind": "cosine", "config": {"LR": 0.1, "TMax": 10}}],
         "Milestones": [4, 15]},
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=4),
                                     S.StepLR(o, step_size=5, gamma=0.5), S.CosineAnnealingLR(o, T_max=10)],
                                 milestones=[4, 15]))
    add("warmup_cosine", "warmup",
        {"Schedule": {"kind": "cosine", "config": {"LR": 0.1, "TMax": 20, "EtaMin": 0.005}}, "Steps": 6,
         "StartFactor": 0.2},
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.2, end_factor=1.0, total_iters=6),
                                     S.CosineAnnealingLR(o, T_max=20, eta_min=0.005)], milestones=[6]))
    add("warmup_multistep_default_factor", "warmup",
        {"Schedule": {"kind": "multistep", "config": {"LR": 0.1, "Milestones": [4, 10], "Gamma": 0.5}}, "Steps": 3},
        lambda o: S.SequentialLR(o, [S.LinearLR(o, end_factor=1.0, total_iters=3),
                                     S.MultiStepLR(o, milestones=[4, 10], gamma=0.5)], milestones=[3]))
    add("onecycle_three_phase", "onecycle", {"MaxLR": 0.1, "TotalSteps": 30, "ThreePhase": True},
        lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=30, three_phase=True, cycle_momentum=False))
    add("onecycle_three_phase_linear", "onecycle",
        {"MaxLR": 0.1, "TotalSteps": 30, "ThreePhase": True, "PctStart": 0.2, "AnnealStrategy": "linear"},
        lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=30, three_phase=True, pct_start=0.2,
                               anneal_strategy="linear", cycle_momentum=False))
    return cases


def momentum_cases():
    """OneCycleLR with cycle_momentum=True: the rate and the momentum (SGD's
    momentum, or Adam's betas[0]) before and after each of 30 steps."""
    S = torch.optim.lr_scheduler
    cases = []
    for name, cfg, kw, adam in [
        ("onecycle_momentum", {"MaxLR": 0.1, "TotalSteps": 30}, {}, False),
        ("onecycle_momentum_three_phase", {"MaxLR": 0.1, "TotalSteps": 30, "ThreePhase": True,
                                           "BaseMomentum": 0.8, "MaxMomentum": 0.9},
         {"three_phase": True, "base_momentum": 0.8, "max_momentum": 0.9}, False),
        ("onecycle_beta1_linear", {"MaxLR": 0.1, "TotalSteps": 30, "AnnealStrategy": "linear", "PctStart": 0.4},
         {"anneal_strategy": "linear", "pct_start": 0.4}, True),
    ]:
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.Adam([p], lr=0.1) if adam else torch.optim.SGD([p], lr=0.1, momentum=0.9)
        sched = S.OneCycleLR(opt, max_lr=0.1, total_steps=30, cycle_momentum=True, **kw)
        mom = lambda: opt.param_groups[0]["betas"][0] if adam else opt.param_groups[0]["momentum"]
        lrs, moms = [opt.param_groups[0]["lr"]], [mom()]
        for _ in range(29):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
            moms.append(mom())
        cases.append({"name": name, "config": cfg, "lrs": lrs, "momenta": moms})
    return cases


def scheduled_cases(rng_init, grads64):
    """Optimiser trajectories driven by a schedule that also cycles the
    momentum: torch's scheduler steps after each optimiser step; nabla
    calls ApplySchedule(opt, sched, step) before it."""
    S = torch.optim.lr_scheduler
    cases = []
    for name, kind, cfg, cls, kw, sched_cfg, make in [
        ("sgd_onecycle_momentum", "sgd", {"LR": 0.1, "Momentum": 0.9}, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9},
         {"MaxLR": 0.2, "TotalSteps": 6, "PctStart": 0.5},
         lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=6, pct_start=0.5)),
        ("adam_onecycle_beta1", "adam", {"LR": 0.01}, torch.optim.Adam, {"lr": 0.01},
         {"MaxLR": 0.05, "TotalSteps": 6, "ThreePhase": True, "PctStart": 0.3},
         lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=6, three_phase=True, pct_start=0.3)),
    ]:
        for dtype in (torch.float64, torch.float32):
            init = rng_init if dtype == torch.float64 else [np.asarray(v, dtype=np.float32).astype(np.float64).tolist() for v in rng_init]
            grads = grads64 if dtype == torch.float64 else [[np.asarray(g, dtype=np.float32).astype(np.float64).tolist() for g in gs] for gs in grads64]
            params = [torch.tensor(v, dtype=dtype).requires_grad_() for v in init]
            opt = cls(params, **kw)
            sched = make(opt)
            steps = []
            for s in range(STEPS):
                for i, p in enumerate(params):
                    p.grad = None if i in SKIP.get(s, []) else torch.tensor(grads[s][i], dtype=dtype)
                opt.step()
                sched.step()
                steps.append([p.detach().to(torch.float64).flatten().tolist() for p in params])
            cases.append({"name": name, "kind": kind, "dtype": str(dtype).replace("torch.", ""), "config": cfg,
                          "schedule": sched_cfg, "steps": steps})
    return cases


def grouped_cases(rng_init, grads64):
    """Parameter groups: the first parameter in group 0 with the
    optimiser's settings, the second in group 1 with its own ("group", in
    nabla's Group field names: LR, WeightDecay, Momentum, the last being
    Adam's betas[0]), optionally driven by a scheduler stepped after each
    optimiser step ("schedule": a kind and config as in "schedules"; nabla
    calls ApplySchedule before each step)."""
    S = torch.optim.lr_scheduler
    cases = []
    for name, kind, cfg, cls, kw, group, tgroup, sched, make in [
        ("sgd_groups", "sgd", {"LR": 0.1, "Momentum": 0.9, "WeightDecay": 0.01}, torch.optim.SGD,
         {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
         {"LR": 0.05, "WeightDecay": 0.0, "Momentum": 0.5}, {"lr": 0.05, "weight_decay": 0.0, "momentum": 0.5},
         None, None),
        ("adamw_groups_no_decay_cosine", "adamw", {"LR": 0.01}, torch.optim.AdamW, {"lr": 0.01},
         {"LR": 0.02, "WeightDecay": 0.0}, {"lr": 0.02, "weight_decay": 0.0},
         {"kind": "cosine", "config": {"LR": 0.01, "TMax": 5, "EtaMin": 0.001}},
         lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.001)),
        ("adam_groups_beta1", "adam", {"LR": 0.01, "WeightDecay": 0.05}, torch.optim.Adam,
         {"lr": 0.01, "weight_decay": 0.05}, {"Momentum": 0.5}, {"betas": (0.5, 0.999)}, None, None),
        ("rmsprop_groups", "rmsprop", {"LR": 0.01, "Momentum": 0.9}, torch.optim.RMSprop, {"lr": 0.01, "momentum": 0.9},
         {"LR": 0.005, "Momentum": 0.0, "WeightDecay": 0.1}, {"lr": 0.005, "momentum": 0.0, "weight_decay": 0.1},
         None, None),
        ("adagrad_groups_step", "adagrad", {"LR": 0.1}, torch.optim.Adagrad, {"lr": 0.1},
         {"LR": 0.3, "WeightDecay": 0.05}, {"lr": 0.3, "weight_decay": 0.05},
         {"kind": "step", "config": {"LR": 0.1, "StepSize": 2, "Gamma": 0.5}},
         lambda o: S.StepLR(o, step_size=2, gamma=0.5)),
        ("sgd_groups_onecycle", "sgd", {"LR": 0.1, "Momentum": 0.9}, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9},
         {"LR": 0.01, "WeightDecay": 0.1}, {"lr": 0.01, "weight_decay": 0.1},
         {"kind": "onecycle", "config": {"MaxLR": 0.2, "TotalSteps": 6, "PctStart": 0.5}},
         lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=6, pct_start=0.5)),
    ]:
        for dtype in (torch.float64, torch.float32):
            init = rng_init if dtype == torch.float64 else [np.asarray(v, dtype=np.float32).astype(np.float64).tolist() for v in rng_init]
            grads = grads64 if dtype == torch.float64 else [[np.asarray(g, dtype=np.float32).astype(np.float64).tolist() for g in gs] for gs in grads64]
            params = [torch.tensor(v, dtype=dtype).requires_grad_() for v in init]
            opt = cls([{"params": [params[0]]}, dict({"params": [params[1]]}, **tgroup)], **kw)
            sch = make(opt) if make else None
            steps = []
            for s in range(STEPS):
                for i, p in enumerate(params):
                    p.grad = None if i in SKIP.get(s, []) else torch.tensor(grads[s][i], dtype=dtype)
                opt.step()
                if sch:
                    sch.step()
                steps.append([p.detach().to(torch.float64).flatten().tolist() for p in params])
            cases.append({"name": name, "kind": kind, "dtype": str(dtype).replace("torch.", ""), "config": cfg,
                          "group": group, "schedule": sched, "steps": steps})
    return cases


def main():
    rng = np.random.default_rng(SEED)
    init = [rng.standard_normal(s).tolist() for s in SHAPES]
    grads = [[rng.standard_normal(s).tolist() for s in SHAPES] for _ in range(STEPS)]
    init32 = [np.asarray(v, dtype=np.float32).astype(np.float64).tolist() for v in init]
    grads32 = [[np.asarray(g, dtype=np.float32).astype(np.float64).tolist() for g in gs] for gs in grads]

    opts = []
    for name, kind, cfg, cls, kw in OPTIMIZERS:
        for dtype, ini, gr in ((torch.float64, init, grads), (torch.float32, init32, grads32)):
            opts.append({
                "name": name, "kind": kind, "dtype": str(dtype).replace("torch.", ""), "config": cfg,
                "torch": {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()},
                "steps": optimizer_case(ini, gr, name, kind, cfg, cls, kw, dtype),
            })

    out = {
        "torch_version": torch.__version__,
        "command": "/usr/bin/python3 testdata/optim/gen_optim.py",
        "seed": SEED,
        "shapes": SHAPES,
        "init": [np.ravel(v).tolist() for v in init],
        "grads": [[None if i in SKIP.get(s, []) else np.ravel(g).tolist() for i, g in enumerate(gs)]
                  for s, gs in enumerate(grads)],
        "optimizers": opts,
        "schedules": schedule_cases(),
        "momentum_schedules": momentum_cases(),
        "scheduled_optimizers": scheduled_cases(init, grads),
        "grouped_optimizers": grouped_cases(init, grads),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    main()
