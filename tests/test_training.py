"""The trainer (training/train.py), augmentation and export, on tiny models and small subsets.

Each run here trains a few hundred to a few thousand digits for one to three epochs: it checks
behaviour (learning happens, runs are deterministic, an interrupted run resumes to the same
parameters, the export round-trips through the C core), not the shipped model's accuracy
(tests/test_shipped_model.py does that).
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from training import augment as aug
from training import export, mnist, train
from training.models import init_mlp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny(tmp_path, **kw) -> train.TrainConfig:
    base = {"hidden": (32,), "epochs": 2, "batch_size": 20, "lr": 0.5, "warmup_epochs": 0.5,
            "lr_final": 0.01, "augment": False, "train_subset": 2000, "valid_subset": 500,
            "eval_train_subset": 500, "threads": 1, "seed": 7, "out_dir": str(tmp_path / "run"),
            "name": "tiny"}
    base.update(kw)
    return train.TrainConfig(**base)


@pytest.fixture(scope="module")
def small_data(mnist_dir):
    return train.load_data(train.TrainConfig(train_subset=2000, valid_subset=500, eval_train_subset=500,
                                             seed=7), mnist_dir)


def quiet(_line: str) -> None:
    pass


def test_minibatch_training_learns(tmp_path, small_data):
    res = train.train(tiny(tmp_path, epochs=3, augment=True), data=small_data, log=quiet)
    h = res.state.history
    assert [e["epoch"] for e in h] == [1, 2, 3]
    assert h[-1]["val_ll"] > h[0]["val_ll"]
    assert h[-1]["val_error"] < 0.25, h  # 10 classes: chance is 0.9
    assert os.path.exists(tmp_path / "run" / train.CHECKPOINT)
    log = (tmp_path / "run" / train.LOG).read_text()
    assert "epoch   3/3" in log and "val_err" in log and "train_err" in log


def test_notebook_datapoint_sgd_learns_logreg(tmp_path, small_data):
    cfg = tiny(tmp_path, hidden=(), method="datapoint", epochs=1, lr=0.05, schedule="constant",
               warmup_epochs=0, augment=False)
    res = train.train(cfg, data=small_data, log=quiet)
    assert res.state.history[-1]["val_error"] < 0.3


def test_training_is_deterministic(tmp_path, small_data):
    a = train.train(tiny(tmp_path / "a", epochs=1), data=small_data, log=quiet).state.model
    b = train.train(tiny(tmp_path / "b", epochs=1), data=small_data, log=quiet).state.model
    c = train.train(tiny(tmp_path / "c", epochs=1, seed=8), data=small_data, log=quiet).state.model
    for wa, wb in zip(a.params(), b.params()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_interrupted_run_resumes_to_the_same_parameters(tmp_path, small_data):
    straight = train.train(tiny(tmp_path / "s", epochs=3), data=small_data, log=quiet).state

    class Interrupt(Exception):
        pass

    def stop_after_two(line: str) -> None:
        if line.startswith("epoch   2/3"):
            raise Interrupt

    cfg = tiny(tmp_path / "r", epochs=3)
    with pytest.raises(Interrupt):
        train.train(cfg, data=small_data, log=stop_after_two)
    # the progress line is printed after the checkpoint of epoch 1 and before that of epoch 2
    assert train.checkpoint_info(os.path.join(cfg.out_dir, train.CHECKPOINT))["epoch"] == 1
    resumed = train.train(cfg, data=small_data, log=quiet, resume=True).state
    assert [e["epoch"] for e in resumed.history] == [1, 2, 3]
    for p, q in zip(straight.model.params() + straight.velocity, resumed.model.params() + resumed.velocity):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="different configuration"):
        train.train(dataclasses.replace(cfg, lr=0.4), data=small_data, log=quiet, resume=True)


def test_lambda_is_chosen_on_validation(tmp_path, small_data):
    cfg = tiny(tmp_path, epochs=1, lambda_grid=(0.0, 1e4), lambda_search_epochs=1, augment=False)
    res = train.train(cfg, data=small_data, log=quiet)
    search = res.state.lambda_search
    assert [r["lambda"] for r in search] == [0.0, 1e4]
    best = min(search, key=lambda r: (r["val_error"], -r["val_ll"]))
    assert res.state.lam == best["lambda"]
    # an absurdly strong prior (weights ~ N(0, 1e-4)) must lose to none
    assert res.state.lam == 0.0


def test_extra_patches_are_mixed_into_training(tmp_path, mnist_dir):
    d = mnist.load(mnist_dir)
    extra = tmp_path / "patches.npz"
    np.savez(extra, images=d.train.images[-300:], labels=d.train.labels[-300:].astype(np.int32))
    cfg = tiny(tmp_path, epochs=1, extra=str(extra), extra_repeat=2)
    data = train.load_data(cfg, mnist_dir)
    assert len(data.extra_labels) == 600
    _, ts = train.epoch_data(cfg, data, 1)
    assert len(ts) == 2600 and np.bincount(ts, minlength=10).sum() == 2600
    lines = []
    train.train(cfg, data=data, log=lines.append)
    assert "2000 train + 600 extra patches" in lines[0]


def test_character_classes_train_on_the_many_hands_file(tmp_path, mnist_dir):
    """classes = 19 with a hands file: its separator and not-a-character labels are trained as
    classes of their own (the negatives too), and the exported model reads digits as before."""
    from edgedigits.classes import JUNK, N_CLASSES, class_index
    d = mnist.load(mnist_dir)
    dash = np.zeros((200, 28, 28), np.uint8)
    dash[:, 12:16, 4:24] = 255  # a bar: "-"
    hands = tmp_path / "hands.npz"
    np.savez(hands, images=np.concatenate([dash, d.train.images[-100:]]),
             labels=np.concatenate([np.full(200, class_index("-")), d.train.labels[-100:]]).astype(np.uint8))
    cfg = tiny(tmp_path, epochs=2, classes=N_CLASSES, hands=str(hands), negatives=0.1,
               model_file=str(tmp_path / "m.edm"))
    data = train.load_data(cfg, mnist_dir)
    _, ts = train.epoch_data(cfg, data, 1)
    counts = np.bincount(ts, minlength=N_CLASSES + 1)
    # the negatives: touching pairs are not-a-character, fragments unsure (label K = 19)
    assert counts[class_index("-")] == 200 and counts[JUNK] + counts[N_CLASSES] == round(0.1 * 2300)
    assert 0.15 < counts[JUNK] / (counts[JUNK] + counts[N_CLASSES]) < 0.45 and ts.max() == N_CLASSES
    res = train.train(cfg, data=data, log=quiet)
    assert res.model.sizes[-1] == N_CLASSES
    import edgedigits
    m = edgedigits.load_model(cfg.model_file)
    assert m.n_classes == N_CLASSES
    assert (m.predict_class_log_proba(dash[:20]).argmax(1) == class_index("-")).mean() > 0.9
    assert m.predict_log_proba(d.test.images[:300]).shape == (300, 10)
    assert (m.predict_digits(d.test.images[:300]) == d.test.labels[:300]).mean() > 0.7
    # a digits-only model cannot take the file's labels
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[data]\nhands = "{hands}"\n')
    with pytest.raises(ValueError, match="needs classes = 19"):
        train.load_config(str(bad))
    bad.write_text("[data]\nclasses = 12\n")
    with pytest.raises(ValueError, match="classes must be 10"):
        train.load_config(str(bad))


def test_init_starts_from_saved_float_parameters(tmp_path, small_data):
    """[train] init: a run continues from a best.npz (or a checkpoint's best), not from random."""
    first = train.train(tiny(tmp_path / "a", epochs=1), data=small_data, log=quiet)
    best = os.path.join(first.config.out_dir, train.BEST_NPZ)
    zero_lr = tiny(tmp_path / "b", epochs=1, init=best, lr=0.0, lr_final=0.0, schedule="constant",
                   warmup_epochs=0)
    kept = train.train(zero_lr, data=small_data, log=quiet).state.model
    for p, q in zip(first.model.params(), kept.params()):  # lr 0: exactly the saved parameters
        np.testing.assert_array_equal(p, q)
    # fine-tuning from the saved parameters starts where they were, and is deterministic
    tuned = [train.train(tiny(tmp_path / d, epochs=1, init=best, lr=0.05), data=small_data, log=quiet)
             for d in ("c", "d")]
    assert tuned[0].state.history[0]["val_error"] <= first.state.history[-1]["val_error"] + 0.02
    for p, q in zip(tuned[0].model.params(), tuned[1].model.params()):
        np.testing.assert_array_equal(p, q)
    ckpt = tiny(tmp_path / "e", epochs=1, init=os.path.join(first.config.out_dir, train.CHECKPOINT))
    np.testing.assert_array_equal(train.load_init(ckpt).weights[0], first.model.weights[0])
    with pytest.raises(ValueError, match="hidden layers"):
        train.load_init(tiny(tmp_path / "f", hidden=(16,), init=best))


def test_overrides_may_name_their_section(tmp_path):
    path = os.path.join(ROOT, "training", "configs", "reader.toml")
    cfg = train.load_config(path, {"data.extra": "x.npz", "epochs": 3, "augment.rotate_deg": 2.0})
    assert (cfg.extra, cfg.epochs, cfg.augment_settings.rotate_deg) == ("x.npz", 3, 2.0)
    assert cfg.init and cfg.extra != train.load_config(path).extra
    with pytest.raises(ValueError, match="nonsense"):
        train.load_config(path, {"data.nonsense": 1})


def test_config_files_load_and_reject_unknown_settings(tmp_path):
    for name in ("hands.toml", "reader_mixed.toml", "logreg.toml", "reader_conv.toml"):
        cfg = train.load_config(os.path.join(ROOT, "training", "configs", name))
        assert cfg.model_file.startswith("edgedigits/models/")
    conv = train.load_config(os.path.join(ROOT, "training", "configs", "reader_conv.toml"))
    assert conv.conv_layer is not None and conv.conv_layer.n_out <= 4096
    reader = train.load_config(os.path.join(ROOT, "training", "configs", "reader.toml"))
    assert reader.init and reader.hidden == train.load_config(
        os.path.join(ROOT, "training", "configs", "default.toml")).hidden
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nlearning_rate = 0.1\n")
    with pytest.raises(ValueError, match="learning_rate"):
        train.load_config(str(bad))
    bad.write_text("[augment]\nrotation = 3\n")
    with pytest.raises(ValueError, match="rotation"):
        train.load_config(str(bad))
    for conv in ("[8, 5]", "[0, 5, 2]", "[8, 29, 1]", "[8, 5, 0]"):
        bad.write_text(f"[model]\nconv = {conv}\n")
        with pytest.raises(ValueError, match="conv"):
            train.load_config(str(bad))
    bad.write_text('[data]\nnegative_kinds = ["pair", "corner"]\n')
    with pytest.raises(ValueError, match="negative_kinds"):
        train.load_config(str(bad))
    bad.write_text('[data]\nnegative_kinds = ["pair"]\n')
    assert train.load_config(str(bad)).negative_kinds == ("pair",)


def test_config_the_model_file_cannot_hold_is_refused_before_training(tmp_path):
    # 32 kernels at stride 2 make 12 x 12 x 32 = 4,608 units: the trainer once ran such a
    # network for an hour and only export refused it
    bad = tmp_path / "wide.toml"
    for model in ("conv = [32, 5, 2]", "hidden = [5000]", "hidden = [10, 10, 10, 10, 10, 10, 10, 10]"):
        bad.write_text(f"[model]\n{model}\n")
        with pytest.raises(ValueError, match="model file holds at most"):
            train.load_config(str(bad))
    for model in ("conv = [28, 5, 2]", "hidden = [4096]", "hidden = [10, 10, 10, 10, 10, 10, 10]"):
        bad.write_text(f"[model]\n{model}\n")
        train.load_config(str(bad))


def test_export_round_trip_through_the_c_core(tmp_path, small_data, mnist_dir):
    res = train.train(tiny(tmp_path, epochs=2), data=small_data, log=quiet)
    path, header = str(tmp_path / "m.edm"), str(tmp_path / "m.h")
    out = export.export_model(res.model, path, name="tiny", header=header, data_folder=mnist_dir,
                              meta={"history": {"val_ll": [1.0]}})
    import edgedigits
    m = edgedigits.load_model(path)
    assert m.layer_sizes == (784, 32, 10)
    assert m.meta["name"] == "tiny" and m.meta["layers"] == [784, 32, 10]
    assert out.size == os.path.getsize(path)
    # the int8 model agrees with the float one on almost every validation digit
    x = small_data.valid_x
    int8_pred = m.predict_digits((x * 255).round().astype(np.uint8))
    from training.models import log_proba
    agree = float((int8_pred == log_proba(res.model, x).argmax(axis=1)).mean())
    assert agree > 0.98, agree
    assert abs(m.meta["val_error_int8"] - m.meta["float_val_error"]) < 0.01
    # the header is exactly what the regeneration command writes from the model file
    with open(header) as f:
        assert f.read() == export.header_text(path)


def test_deskew_run_trains_on_deskewed_patches_and_its_file_says_so(tmp_path, mnist_dir):
    """[data] deskew = true: the run's inputs are deskewed (edgedigits/transforms.py) after
    the distortions, its model file names the transform, and the C model then deskews what it
    is given, so float and int8 read the same digits."""
    from edgedigits.transforms import deskew
    cfg = tiny(tmp_path, deskew=True, augment=True)
    plain = dataclasses.replace(cfg, deskew=False)
    assert cfg.digest() != plain.digest() and "deskew" not in plain.to_json()
    data = train.load_data(cfg, mnist_dir)
    raw = train.load_data(plain, mnist_dir)
    np.testing.assert_array_equal(data.valid_x, mnist.as_inputs(
        deskew((raw.valid_x * 255).round().astype(np.uint8).reshape(-1, 28, 28)), data.valid_x.dtype))
    x, _ = train.epoch_data(cfg, data, 0)
    x_raw, _ = train.epoch_data(plain, raw, 0)
    np.testing.assert_array_equal(x, deskew(x_raw))
    res = train.train(cfg, data=data, log=quiet)
    path = str(tmp_path / "d.edm")
    export.export_trained(res.model, dataclasses.replace(cfg, model_file=path), res.state,
                          data_folder=mnist_dir)
    import edgedigits
    m = edgedigits.load_model(path)
    assert m.input_transform == "deskew" and m.meta["input"] == "deskew"
    assert abs(m.meta["val_error_int8"] - m.meta["float_val_error"]) < 0.01
    assert m.meta["float_val_error"] < 0.3


@pytest.mark.parametrize("conv, windows, epochs", [((6, 5, 2), 144, 3), ((6, 5, 1, 2), 576, 5)])  # 12 x 12 outputs
def test_conv_model_learns_resumes_and_exports_through_the_c_core(tmp_path, small_data, mnist_dir,
                                                                  conv, windows, epochs):
    """A convolutional first layer (strided, or max-pooled): training learns, a resumed run ends
    with the same parameters, and the export (model format version 2) runs in C as the float
    model does."""
    cfg = tiny(tmp_path, conv=conv, hidden=(24,), epochs=epochs, batch_size=10, lr=1.0)
    res = train.train(cfg, data=small_data, log=quiet)
    assert res.model.conv is not None and res.model.weights[0].shape == (6, 25)
    assert res.state.history[-1]["val_error"] < 0.3

    class Interrupt(Exception):
        pass

    def stop_after_two(line: str) -> None:
        if line.startswith(f"epoch   2/{epochs}"):
            raise Interrupt

    cfg2 = dataclasses.replace(cfg, out_dir=str(tmp_path / "r2"))
    with pytest.raises(Interrupt):
        train.train(cfg2, data=small_data, log=stop_after_two)
    resumed = train.train(cfg2, data=small_data, log=quiet, resume=True)
    for a, b in zip(res.state.model.params() + res.state.velocity,
                    resumed.state.model.params() + resumed.state.velocity):
        np.testing.assert_array_equal(a, b)
    path = str(tmp_path / "conv.edm")
    export.export_model(res.model, path, name="tiny-conv", data_folder=mnist_dir)
    import edgedigits
    m = edgedigits.load_model(path)
    assert m.layer_sizes == (784, 864, 24, 10) and m.layers[0].conv == conv
    assert m.meta["conv"] == list(conv) and m.meta["macs"] == windows * 6 * 25 + 864 * 24 + 24 * 10
    x = small_data.valid_x
    from training.models import log_proba
    agree = float((m.predict_digits((x * 255).round().astype(np.uint8))
                   == log_proba(res.model, x).argmax(axis=1)).mean())
    assert agree > 0.98, agree


def test_augment_is_seeded_and_keeps_digits_recognisable():
    rng = np.random.default_rng(0)
    images = np.zeros((40, 28, 28), np.uint8)
    images[:, 6:22, 12:16] = 255  # a bar: "1"
    cfg = aug.AugmentConfig()
    a = aug.augment(images, cfg, np.random.default_rng(5))
    b = aug.augment(images, cfg, np.random.default_rng(5))
    c = aug.augment(images, cfg, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.uint8 and a.shape == images.shape
    # distorted, but the ink stays roughly where and how much it was
    ink = a.astype(float).sum(axis=(1, 2)) / images.astype(float).sum(axis=(1, 2))
    assert 0.4 < ink.min() and ink.max() < 4.0, ink  # thicker strokes, camera background
    assert not np.array_equal(a, images)
    # no distortion at all: identical
    none = aug.AugmentConfig(rotate_deg=0, scale=0, stretch=0, shear=0, shift_px=0, elastic_p=0,
                             thickness_p=0, camera_p=0)
    np.testing.assert_array_equal(aug.augment(images, none, rng), images)


def test_warp_keeps_neighbouring_digits_apart():
    """Digits share one stacked image in cv2.remap: a shift must bring in zeros, not a neighbour."""
    images = np.zeros((3, 28, 28), np.uint8)
    images[1] = 200  # a white tile between two black ones
    ys, xs = np.mgrid[0:28, 0:28].astype(np.float32)
    shifted = aug.warp(images, np.broadcast_to(xs, (3, 28, 28)), np.broadcast_to(ys - 5, (3, 28, 28)))
    assert shifted[2].max() == 0 and shifted[0].max() == 0
    assert (shifted[1][:5] == 0).all() and (shifted[1][6:] == 200).all()


def test_init_is_scaled_to_the_width():
    rng = np.random.default_rng(0)
    for width in (50, 800):
        m = init_mlp((width,), rng)
        std = float(m.weights[0].std())
        assert std == pytest.approx(1 / np.sqrt(784), rel=0.05)
        assert not m.weights[-1].any()


def test_sign_test_of_discordant_pairs():
    from training.compare_reader import sign_test
    assert sign_test(0, 0) == 1.0 and sign_test(5, 5) == 1.0
    assert sign_test(0, 5) == pytest.approx(2 / 32) and sign_test(5, 0) == sign_test(0, 5)
    assert sign_test(11, 28) == pytest.approx(0.00948, abs=1e-5)
