"""Train the notebook's models on MNIST: `python -m training.train --config training/configs/default.toml`.

Objective: the log-posterior  sum_i log p(t_i | x_i) - lambda/2 * sum(W^2)  (Gaussian prior
N(0, 1/lambda) on every weight, docs/math.md), maximised by gradient ascent:

- method "datapoint": the notebook's SGD, one datapoint at a time in random order, no momentum;
- method "minibatch": minibatch SGD with momentum and a learning-rate schedule (cosine or
  exponential decay), the gradient of the batch mean plus lambda/N_train of the prior term.

lambda is chosen on the validation split when the config gives `lambda_grid` (short runs, one per
value, best validation error wins; ties by validation log-likelihood). Early stopping keeps the
parameters with the best validation error and stops after `patience` epochs without a new best.

Fine-tuning: `init = "runs/default/best.npz"` (or a checkpoint: its best parameters) starts from
saved float parameters of the same shape instead of a random init (training/configs/reader.toml).
Overrides may name their section: `--set data.extra='"patches.npz"'` or `--set extra=...`.

Determinism: all randomness comes from np.random.default_rng((seed, stream, epoch)), so epoch e
shuffles and distorts the same way whether or not the run was resumed. Each epoch's distorted
training set is made in a background thread while the previous epoch trains. After every epoch
the run folder gets an atomic checkpoint (checkpoint.npz: parameters, momentum, best parameters,
history) and a progress line is printed and appended to train.log; `--resume` continues from it.
At the end the best parameters are exported through the runtime's int8 quantiser
(training/export.py).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import io
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import tomllib

from edgedigits.classes import JUNK, N_CLASSES, N_DIGITS
from edgedigits.modelfile import MAX_LAYERS, MAX_WIDTH, _atomic_write as atomic_write
from edgedigits.transforms import deskew

from . import augment as aug
from . import mnist, negatives
from .negatives import ALL_KINDS as ALL_NEGATIVE_KINDS, KINDS as NEGATIVE_KINDS
from .gradients import datapoint_gradient, minibatch_gradient, prior_gradient
from .models import INIT_GAIN, Conv, Mlp, evaluate, from_npz_dict, init_mlp, to_npz_dict

CHECKPOINT = "checkpoint.npz"
LOG = "train.log"
BEST_NPZ = "best.npz"
# RNG streams: (seed, stream, epoch) keeps shuffling, distortion and init independent.
STREAM_INIT, STREAM_SHUFFLE, STREAM_AUGMENT, STREAM_SUBSET, STREAM_NEGATIVES = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run; read from a TOML file (see training/configs/)."""

    hidden: tuple[int, ...] = (800,)
    conv: tuple[int, ...] = ()  # (channels, kernel, stride[, pool]) of a convolutional first layer; () = none
    method: str = "minibatch"  # or "datapoint" (the notebook's SGD)
    epochs: int = 100
    batch_size: int = 100
    lr: float = 0.1
    lr_final: float = 0.001
    schedule: str = "cosine"  # "cosine", "exponential" (lr -> lr_final), or "constant"
    warmup_epochs: float = 0.0  # linear ramp from 0 at the start (sigmoid nets diverge early at high lr)
    momentum: float = 0.9
    lam: float = 0.0  # Gaussian prior precision on the weights (used when lambda_grid is empty)
    lambda_grid: tuple[float, ...] = ()
    lambda_search_epochs: int = 3
    patience: int = 0  # epochs without a new best validation error before stopping; 0 = never
    seed: int = 1
    init_gain: float = INIT_GAIN
    dtype: str = "float32"
    threads: int = 0  # BLAS threads; 0 = leave as is
    train_subset: int = 0  # use only the first n training digits (tests); 0 = all 50,000
    valid_subset: int = 0
    eval_train_subset: int = 10_000  # clean training digits scored each epoch; 0 = all
    augment: bool = True
    augment_settings: aug.AugmentConfig = field(default_factory=aug.AugmentConfig)
    extra: str = ""  # .npz of extra patches (uint8 images (N, 28, 28), labels (N,)); "" = none
    extra_repeat: int = 1  # copies of the extra patches per epoch
    classes: int = 10  # 10: digits (not-a-digit trained towards uniform); 19: edgedigits/classes.py
    hands: str = ""  # .npz of the many-hands set (training/hands.py: fonts, variants, drawn); "" = none
    hands_repeat: int = 1  # copies of the many-hands patches per epoch
    negatives: float = 0.0  # not-a-digit patches per epoch, as a share of the digits (training/negatives.py)
    negative_kinds: tuple[str, ...] = NEGATIVE_KINDS  # which of them: fragments, pairs, overlaps
    valid_extra: str = ""  # .npz of patches of VALIDATION digits, scored with the validation split
    deskew: bool = False  # train on deskewed patches (edgedigits/transforms.py); the model file says so
    init: str = ""  # start from these float parameters (best.npz, or a checkpoint's best); "" = random
    out_dir: str = "runs/default"
    model_file: str = ""  # exported int8 model; "" = none
    c_header: str = ""  # C header of the model; "" = none
    c_name: str = "ed_default_model"
    name: str = "mlp"

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"], d["lambda_grid"] = list(self.hidden), list(self.lambda_grid)
        d["conv"] = list(self.conv)
        d["negative_kinds"] = list(self.negative_kinds)
        if self.negative_kinds == NEGATIVE_KINDS:  # runs with every kind keep their digests
            del d["negative_kinds"]
        if not self.conv:  # runs from before convolutions keep their digests
            del d["conv"]
        if not self.deskew:  # ... and runs from before deskewing
            del d["deskew"]
        if self.classes == 10 and not self.hands:  # ... and runs of digits only
            for k in ("classes", "hands", "hands_repeat"):
                del d[k]
        return d

    @property
    def conv_layer(self) -> Conv | None:
        return Conv(*self.conv) if self.conv else None

    def digest(self) -> str:
        """Hash of the settings that change the trajectory (not paths, threads or epochs)."""
        d = self.to_json()
        for k in ("out_dir", "model_file", "c_header", "c_name", "name", "threads", "epochs", "patience"):
            d.pop(k)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


SECTIONS = {"model", "train", "augment", "data", "output"}


def load_config(path: str, overrides: dict | None = None) -> TrainConfig:
    """A TrainConfig from a TOML file: sections [model] [train] [augment] [data] [output]."""
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    unknown = set(doc) - SECTIONS
    if unknown:
        raise ValueError(f"{path}: unknown sections {sorted(unknown)}; expected {sorted(SECTIONS)}")
    flat: dict = {}
    for section in ("model", "train", "data", "output"):
        flat.update(doc.get(section, {}))
    augment_doc = dict(doc.get("augment", {}))
    if "enabled" in augment_doc:
        flat["augment"] = bool(augment_doc.pop("enabled"))
    for key, value in (overrides or {}).items():
        section, dot, name = key.partition(".")  # "data.extra" or "extra"
        if dot and section == "augment" and name != "enabled":
            augment_doc[name] = value
        elif dot and section == "augment":
            flat["augment"] = bool(value)
        elif dot and section in SECTIONS:
            flat[name] = value
        else:
            flat[key] = value
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    bad = set(flat) - names
    if bad:
        raise ValueError(f"{path}: unknown settings {sorted(bad)}")
    for k in ("hidden", "lambda_grid", "conv", "negative_kinds"):
        if k in flat:
            flat[k] = tuple(flat[k])
    cfg = TrainConfig(**flat, augment_settings=aug.AugmentConfig.from_dict(augment_doc))
    if cfg.method not in ("minibatch", "datapoint"):
        raise ValueError(f"{path}: method must be 'minibatch' or 'datapoint', got {cfg.method!r}")
    if cfg.conv and len(cfg.conv) not in (3, 4):
        raise ValueError(f"{path}: conv must be [channels, kernel, stride] or [channels, kernel, stride, pool], "
                         f"got {list(cfg.conv)}")
    conv = cfg.conv_layer  # validates the numbers
    if not cfg.negative_kinds or set(cfg.negative_kinds) - set(ALL_NEGATIVE_KINDS):
        raise ValueError(f"{path}: negative_kinds must be a non-empty subset of {list(ALL_NEGATIVE_KINDS)}, "
                         f"got {list(cfg.negative_kinds)}")
    # what the model file (and the C core) can hold, checked before training rather than at export
    widths = (*((conv.n_out,) if conv else ()), *cfg.hidden)
    if any(not 1 <= w <= MAX_WIDTH for w in widths) or len(widths) + 1 > MAX_LAYERS:
        raise ValueError(f"{path}: the model file holds at most {MAX_LAYERS} layers of 1..{MAX_WIDTH} "
                         f"units each; this network's hidden layers have {list(widths)}"
                         + (f" (the convolution: {conv.n_out} units)" if conv else ""))
    if cfg.classes not in (N_DIGITS, N_CLASSES):
        raise ValueError(f"{path}: classes must be {N_DIGITS} (digits) or {N_CLASSES} (digits, separators "
                         f"and not-a-character: edgedigits/classes.py), got {cfg.classes}")
    if cfg.hands and cfg.classes != N_CLASSES:
        raise ValueError(f"{path}: the many-hands set has separator and not-a-character labels; "
                         f"it needs classes = {N_CLASSES}")
    if cfg.schedule not in ("cosine", "exponential", "constant"):
        raise ValueError(f"{path}: schedule must be cosine, exponential or constant, got {cfg.schedule!r}")
    return cfg


def learning_rate(cfg: TrainConfig, progress: float) -> float:
    """The learning rate at `progress` in [0, 1] of the planned epochs."""
    p = min(max(progress, 0.0), 1.0)
    warm = cfg.warmup_epochs / max(cfg.epochs, 1)
    if p < warm:
        return cfg.lr * p / warm
    if cfg.schedule == "cosine":
        return cfg.lr_final + 0.5 * (cfg.lr - cfg.lr_final) * (1.0 + math.cos(math.pi * p))
    if cfg.schedule == "exponential":
        return cfg.lr * (cfg.lr_final / cfg.lr) ** p
    return cfg.lr


@dataclass
class Data:
    """Training digits (uint8, distorted per epoch), and inputs for scoring."""

    train_images: np.ndarray
    train_labels: np.ndarray
    extra_images: np.ndarray
    extra_labels: np.ndarray
    eval_train_x: np.ndarray
    eval_train_t: np.ndarray
    valid_x: np.ndarray
    valid_t: np.ndarray


def load_data(cfg: TrainConfig, folder: str | None = None) -> Data:
    d = mnist.load(folder)
    train, valid = d.train, d.valid
    n = cfg.train_subset or len(train)
    nv = cfg.valid_subset or len(valid)
    images, labels = train.images[:n], train.labels[:n]
    if cfg.extra:
        extra = mnist.load_extra(os.path.expanduser(cfg.extra))
        extra_images = np.concatenate([extra.images] * cfg.extra_repeat)
        extra_labels = np.concatenate([extra.labels] * cfg.extra_repeat)
    else:
        extra_images, extra_labels = np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    if cfg.hands:
        hands = mnist.load_extra(os.path.expanduser(cfg.hands), max_label=N_CLASSES - 1)
        extra_images = np.concatenate([extra_images, *[hands.images] * cfg.hands_repeat])
        extra_labels = np.concatenate([extra_labels.astype(np.int64),
                                       *[hands.labels.astype(np.int64)] * cfg.hands_repeat])
    dtype = np.dtype(cfg.dtype)
    valid_images, valid_labels = valid.images[:nv], valid.labels[:nv]
    if cfg.valid_extra:
        # the reader's patches of validation digits: the epoch kept is the one that reads both
        # MNIST's validation digits and the reader's cuts of them best
        vx = mnist.load_extra(os.path.expanduser(cfg.valid_extra))
        valid_images = np.concatenate([valid_images, vx.images])
        valid_labels = np.concatenate([valid_labels, vx.labels.astype(valid_labels.dtype)])
    if cfg.eval_train_subset and cfg.eval_train_subset < n:
        pick = np.sort(np.random.default_rng((cfg.seed, STREAM_SUBSET)).choice(n, cfg.eval_train_subset, replace=False))
    else:
        pick = np.arange(n)
    prep = deskew if cfg.deskew else (lambda x: x)
    return Data(images, labels, extra_images, extra_labels,
                mnist.as_inputs(prep(images[pick]), dtype), labels[pick],
                mnist.as_inputs(prep(valid_images), dtype), valid_labels)


def epoch_data(cfg: TrainConfig, data: Data, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """The (distorted) training digits of one epoch, as uint8 images and labels, shuffled."""
    images = np.concatenate([data.train_images, data.extra_images])
    labels = np.concatenate([data.train_labels, data.extra_labels])
    if cfg.augment:
        images = aug.augment(images, cfg.augment_settings, np.random.default_rng((cfg.seed, STREAM_AUGMENT, epoch)))
    if cfg.negatives > 0:
        # made from the training digits after augmentation, so they are distorted alike
        n_neg = int(round(cfg.negatives * len(labels)))
        neg, pair = negatives.make_with_kinds(images[:len(data.train_labels)], n_neg,
                                              np.random.default_rng((cfg.seed, STREAM_NEGATIVES, epoch)),
                                              cfg.negative_kinds)
        images = np.concatenate([images, neg])
        # label K: unsure, a uniform target over the digits (training/gradients.py); a 19-class
        # model learns the pairs as not-a-character
        neg_labels = np.full(len(neg), cfg.classes, labels.dtype)
        if cfg.classes == N_CLASSES:
            neg_labels[pair] = JUNK
        labels = np.concatenate([labels, neg_labels])
    if cfg.deskew:  # after the distortions, as the reader's patches get it
        images = deskew(images)
    perm = np.random.default_rng((cfg.seed, STREAM_SHUFFLE, epoch)).permutation(len(labels))
    return images[perm], labels[perm]


@dataclass
class State:
    """What a checkpoint holds."""

    model: Mlp
    velocity: list[np.ndarray]
    best: Mlp
    lam: float
    epoch: int = 0  # epochs completed
    best_epoch: int = 0
    best_val_error: float = 1.0
    history: list[dict] = field(default_factory=list)
    lambda_search: list[dict] = field(default_factory=list)


def save_checkpoint(path: str, state: State, cfg: TrainConfig) -> None:
    """Write the checkpoint atomically (temp file in the same folder, fsync, rename)."""
    arrays = {f"model_{k}": v for k, v in to_npz_dict(state.model).items()}
    arrays.update({f"best_{k}": v for k, v in to_npz_dict(state.best).items()})
    arrays.update({f"velocity_{i}": v for i, v in enumerate(state.velocity)})
    info = {"epoch": state.epoch, "best_epoch": state.best_epoch, "best_val_error": state.best_val_error,
            "lam": state.lam, "history": state.history, "lambda_search": state.lambda_search,
            "config": cfg.to_json(), "digest": cfg.digest()}
    arrays["info"] = np.frombuffer(json.dumps(info).encode(), np.uint8)
    save_npz(path, arrays)


def save_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    """np.savez, written atomically (temp file beside `path`, fsync, rename)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write(path, buf.getvalue())


def checkpoint_info(path: str) -> dict:
    with np.load(path) as z:
        return json.loads(z["info"].tobytes().decode())


def load_checkpoint(path: str) -> tuple[State, dict]:
    with np.load(path) as z:
        info = json.loads(z["info"].tobytes().decode())

        def sub(prefix: str) -> dict:
            return {k[len(prefix):]: z[k] for k in z.files if k.startswith(prefix)}

        model, best = from_npz_dict(sub("model_")), from_npz_dict(sub("best_"))
        velocity = [z[f"velocity_{i}"] for i in range(2 * len(model.weights))]
    state = State(model, velocity, best, info["lam"], info["epoch"], info["best_epoch"],
                  info["best_val_error"], info["history"], info["lambda_search"])
    return state, info


def load_best(path: str) -> tuple[Mlp, dict]:
    """The best parameters of a checkpoint (e.g. of a run that is still going) and its info."""
    state, info = load_checkpoint(path)
    return state.best, info


def sgd_epoch(cfg: TrainConfig, state: State, x_u8: np.ndarray, t: np.ndarray, n_train: int,
              epoch: int) -> float:
    """One pass over the (shuffled) data; returns the mean log-likelihood of the batches seen."""
    model, dtype = state.model, state.model.dtype
    params = model.params()
    n = len(t)
    total_ll = 0.0
    if cfg.method == "datapoint":
        lr = dtype.type(learning_rate(cfg, (epoch - 1) / max(cfg.epochs, 1)))
        decay = state.lam / n_train
        for i in range(n):
            x = x_u8[i].reshape(-1).astype(dtype) / dtype.type(255.0)
            grads, ll = datapoint_gradient(model, x, int(t[i]))
            total_ll += ll
            for p, g, g0 in zip(params, grads, prior_gradient(model, decay)):
                p += lr * (g + g0)
        return total_ll / max(n, 1)
    steps = max(1, -(-n // cfg.batch_size))
    mom = dtype.type(cfg.momentum)
    for s in range(steps):
        lo = s * cfg.batch_size
        xb = mnist.as_inputs(x_u8[lo:lo + cfg.batch_size], dtype)
        tb = t[lo:lo + cfg.batch_size]
        lr = dtype.type(learning_rate(cfg, (epoch - 1 + s / steps) / max(cfg.epochs, 1)))
        grads, ll = minibatch_gradient(model, xb, tb)
        total_ll += ll
        inv_b = dtype.type(1.0 / len(tb))
        decay = dtype.type(state.lam / n_train)
        for i, (p, g, v) in enumerate(zip(params, grads, state.velocity)):
            g *= inv_b
            if decay and i % 2 == 0:  # weights (even positions); biases have a flat prior
                g -= decay * p
            v *= mom
            v += lr * g
            p += v
    return total_ll / max(n, 1)


def load_init(cfg: TrainConfig) -> Mlp:
    """The float parameters named by cfg.init (a best.npz or a checkpoint: its best), for fine-tuning."""
    from .export import load_float
    model, _ = load_float(os.path.expanduser(cfg.init))
    if model.hidden != tuple(cfg.hidden) or model.conv != cfg.conv_layer or model.sizes[-1] != cfg.classes:
        raise ValueError(f"{cfg.init}: hidden layers {model.hidden} (convolution {model.conv}, "
                         f"{model.sizes[-1]} classes), but the config says {tuple(cfg.hidden)} "
                         f"(convolution {cfg.conv_layer}, {cfg.classes} classes)")
    return model.astype(np.dtype(cfg.dtype))


def new_state(cfg: TrainConfig, lam: float) -> State:
    if cfg.init:
        model = load_init(cfg)
    else:
        model = init_mlp(cfg.hidden, np.random.default_rng((cfg.seed, STREAM_INIT)), np.dtype(cfg.dtype),
                         cfg.init_gain, cfg.conv_layer, cfg.classes)
    return State(model, [np.zeros_like(p) for p in model.params()], model.copy(), lam)


def run_epochs(cfg: TrainConfig, data: Data, state: State, *, checkpoint: str | None,
               log=print, prefetch: bool = True) -> State:
    """Train from state.epoch + 1 to cfg.epochs (or early stop), checkpointing after each epoch."""
    n_train = len(data.train_labels) + len(data.extra_labels)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1) if prefetch else None
    first = state.epoch + 1
    try:
        future = pool.submit(epoch_data, cfg, data, first) if pool and first <= cfg.epochs else None
        for epoch in range(first, cfg.epochs + 1):
            t0 = time.perf_counter()
            xs, ts = future.result() if future else epoch_data(cfg, data, epoch)
            if pool and epoch < cfg.epochs:
                future = pool.submit(epoch_data, cfg, data, epoch + 1)
            fit_ll = sgd_epoch(cfg, state, xs, ts, n_train, epoch)
            if not all(np.isfinite(w).all() for w in state.model.weights):
                raise FloatingPointError(f"epoch {epoch}: parameters diverged (lower the learning rate)")
            # a character model's error is its digits' as the public API reads them
            digits = cfg.classes == N_CLASSES
            train_ll, train_err = evaluate(state.model, data.eval_train_x, data.eval_train_t, digits)
            val_ll, val_err = evaluate(state.model, data.valid_x, data.valid_t, digits)
            state.epoch = epoch
            if val_err < state.best_val_error or epoch == 1:
                state.best, state.best_epoch, state.best_val_error = state.model.copy(), epoch, val_err
            secs = time.perf_counter() - t0
            state.history.append({"epoch": epoch, "lr": learning_rate(cfg, epoch / max(cfg.epochs, 1)),
                                  "fit_ll": fit_ll, "train_ll": train_ll, "train_error": train_err,
                                  "val_ll": val_ll, "val_error": val_err, "seconds": secs})
            log(f"epoch {epoch:3d}/{cfg.epochs}  lr {state.history[-1]['lr']:.4f}  loss {-fit_ll:.4f}  "
                f"train_ll {train_ll:.4f}  train_err {train_err:6.2%}  val_ll {val_ll:.4f}  "
                f"val_err {val_err:6.2%}  best {state.best_val_error:6.2%}@{state.best_epoch}  {secs:5.1f}s")
            if checkpoint:
                save_checkpoint(checkpoint, state, cfg)
            if cfg.patience and epoch - state.best_epoch >= cfg.patience:
                log(f"early stop: no better validation error for {cfg.patience} epochs")
                break
    finally:
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)
    return state


def choose_lambda(cfg: TrainConfig, data: Data, log=print) -> tuple[float, list[dict]]:
    """Short runs, one per lambda in cfg.lambda_grid; the best validation error wins."""
    results = []
    short = dataclasses.replace(cfg, epochs=cfg.lambda_search_epochs, patience=0)
    for lam in cfg.lambda_grid:
        log(f"lambda search: lambda = {lam:g}, {short.epochs} epochs")
        state = run_epochs(short, data, new_state(short, lam), checkpoint=None, log=lambda s: log("  " + s))
        last = state.history[-1]
        results.append({"lambda": lam, "val_error": last["val_error"], "val_ll": last["val_ll"]})
    best = min(results, key=lambda r: (r["val_error"], -r["val_ll"]))
    log("lambda search: " + ", ".join(f"{r['lambda']:g}: {r['val_error']:.2%}" for r in results)
        + f" -> lambda = {best['lambda']:g}")
    return float(best["lambda"]), results


@dataclass(frozen=True)
class TrainResult:
    model: Mlp  # the best parameters (by validation error)
    state: State
    config: TrainConfig
    seconds: float


def train(cfg: TrainConfig, *, data: Data | None = None, resume: bool = False, log=None,
          data_folder: str | None = None, export: bool = True) -> TrainResult:
    """Run a whole training as the config says; resume from the run folder's checkpoint if asked."""
    t0 = time.perf_counter()
    os.makedirs(cfg.out_dir, exist_ok=True)
    log_path = os.path.join(cfg.out_dir, LOG)
    printer = log or print

    def log_line(s: str) -> None:
        printer(s)
        with open(log_path, "a") as f:
            f.write(s + "\n")

    with blas_threads(cfg.threads):
        return _train(cfg, data, resume, log_line, data_folder, export, t0)


@contextlib.contextmanager
def blas_threads(n: int):
    """Limit BLAS threads to n (0: leave as is) for the duration; needs threadpoolctl, else
    OPENBLAS_NUM_THREADS decides."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if n and threadpool_limits is not None:
        with threadpool_limits(n):
            yield
    else:
        yield


def _train(cfg: TrainConfig, data: Data | None, resume: bool, log_line, data_folder: str | None,
           export: bool, t0: float) -> TrainResult:
    data = data or load_data(cfg, data_folder)
    ckpt = os.path.join(cfg.out_dir, CHECKPOINT)
    state = None
    if resume and os.path.exists(ckpt):
        state, info = load_checkpoint(ckpt)
        if info["digest"] != cfg.digest():
            raise ValueError(f"{ckpt} was written by a different configuration; "
                             f"use another out_dir or start without --resume")
        log_line(f"resumed from {ckpt} after epoch {state.epoch}")
    if state is None:
        conv = cfg.conv_layer
        log_line(f"training {cfg.name}: layers {(784, *((conv.n_out,) if conv else ()), *cfg.hidden, cfg.classes)}, "
                 + (f"convolution {conv.channels}x{conv.kernel}x{conv.kernel}/{conv.stride}"
                    + (f" max-pool {conv.pool}x{conv.pool}" if conv.pool > 1 else "") + ", " if conv else "")
                 + f"{cfg.method}, "
                 + (f"from {cfg.init}, " if cfg.init else "") +
                 f"{len(data.train_labels)} train + {len(data.extra_labels)} extra patches, "
                 f"{len(data.valid_t)} validation, config {cfg.digest()}")
        lam, search = (choose_lambda(cfg, data, log_line) if cfg.lambda_grid else (cfg.lam, []))
        state = new_state(cfg, lam)
        state.lambda_search = search
    state = run_epochs(cfg, data, state, checkpoint=ckpt, log=log_line)
    seconds = time.perf_counter() - t0
    log_line(f"done: best validation error {state.best_val_error:.2%} at epoch {state.best_epoch}, "
             f"lambda {state.lam:g}, {seconds:.0f}s in this process")
    save_npz(os.path.join(cfg.out_dir, BEST_NPZ), to_npz_dict(state.best))
    if export and cfg.model_file:
        from .export import export_trained
        res = export_trained(state.best, cfg, state, data_folder=data_folder)
        log_line(res.summary())
    return TrainResult(state.best, state, cfg, seconds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="TOML file (training/configs/*.toml)")
    ap.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    ap.add_argument("--data", default=None, help="MNIST folder (default: $EDGEDIGITS_DATA)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a setting, value in TOML syntax (e.g. --set epochs=5)")
    ap.add_argument("--no-export", action="store_true", help="do not write the model file and header")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key.strip()] = tomllib.loads(f"v = {value}")["v"]
    try:
        cfg = load_config(args.config, overrides)
        train(cfg, resume=args.resume, data_folder=args.data, export=not args.no_export)
    except (mnist.MnistError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
