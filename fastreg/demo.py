"""``python -m fastreg demo``: the three regularizers at work, with pictures.

1. A contact sheet of one photograph under each image transform, under
   dropout, and under a full pipeline, with the drawn parameters under
   each tile (``fastreg_augmentations.png``).
2. A small MLP trained with NumPy on scikit-learn's handwritten digits, once
   plainly and once with dropout + weight decay + augmentation, printing
   train and test accuracy so the generalization gap can be seen, and
   plotting the curves (``fastreg_training.png``).
3. A few sentences before and after EDA with the shipped English synonyms.

Deterministic for a seed; needs the ``demo`` extra (matplotlib, scikit-learn,
threadpoolctl).  The training runs NumPy's BLAS on one thread: its matrices
are small, and BLAS threads spinning on a busy host made it several times
slower.
"""

import pathlib
import sys
import textwrap
import time

import numpy as np

import fastreg
from fastreg import functional as F
from fastreg import samples
from fastreg import transforms as T


def _require(module, extra="demo"):
    try:
        return __import__(module)
    except ImportError:
        sys.exit(f"the demo needs {module}: pip install 'fastreg[{extra}]'")


def _load_images(folder):
    """RGB uint8 images from a folder (PNG or JPEG), or the shipped samples."""
    if folder is None:
        return [samples.load(name) for name in samples.NAMES]
    import matplotlib.image as mpimg

    images = []
    for path in sorted(pathlib.Path(folder).iterdir()):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            continue
        img = mpimg.imread(path)
        if img.dtype != np.uint8:  # PNGs load as floats in [0, 1]
            img = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        images.append(np.ascontiguousarray(img[:, :, :3]))
    if not images:
        sys.exit(f"no PNG or JPEG images in {folder}")
    return images


def _policy_op(name, magnitude):
    """A policy op as torchvision names it, then what its magnitude does
    (torchvision's _apply_image_or_video_transform reads it so)."""
    if name in ("Brightness", "Color", "Contrast", "Sharpness"):
        what = " (saturation)" if name == "Color" else ""
        return f"{name}{what} x{1 + magnitude:.2f}"
    if name == "Rotate":
        return f"Rotate {magnitude:.1f} deg"
    if name in ("ShearX", "ShearY"):  # the magnitude is the shear's tangent
        return f"{name} {np.degrees(np.arctan(magnitude)):.1f} deg"
    if name in ("TranslateX", "TranslateY"):
        return f"{name} {magnitude:.0f} px"
    if name == "Posterize":
        return f"Posterize {int(magnitude)} bits"
    if name == "Solarize":  # a fraction of the largest value
        return f"Solarize above {magnitude * 255:.0f}"
    return name  # Identity, AutoContrast, Equalize, Invert take no magnitude


def _describe(params):
    """A short caption from Compose.params(): one line per op, values rounded."""
    lines = []
    for op in params:
        name = op["op"].replace("Random", "")
        if not op.get("applied", True):
            lines.append(f"{name}: not applied")
            continue
        values = [f"{k}={_fmt(v)}" for k, v in op.items()
                  if k not in ("op", "applied", "ops") and v is not None]
        values += [_policy_op(*pair) + "," for pair in op.get("ops", ())]
        lines.append(textwrap.fill(f"{name}: " + (" ".join(values).rstrip(",") or "applied"), 34,
                                   subsequent_indent="  ", break_long_words=False,
                                   break_on_hyphens=False))
    return "\n".join(lines)


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)  # spaces: a caption wraps between values
    return str(value)


def _fit_partner(partner, height, width):
    """`partner` at height x width: its largest centred window of that aspect
    ratio, resized (bilinear, antialiased), so a mixing partner of another
    size still shows whole."""
    ph, pw = partner.shape[:2]
    if (ph, pw) == (height, width):
        return partner
    # the window keeps partner's full height or full width, whichever fits the ratio
    window_h, window_w = (ph, max(1, round(ph * width / height))) if ph * width <= pw * height else \
        (max(1, round(pw * height / width)), pw)
    top, left = (ph - window_h) // 2, (pw - window_w) // 2
    return F.resized_crop(partner, top, left, window_h, window_w, [height, width])


def _mixed_tiles(image, partner, seed):
    """MixUp and CutMix of image with partner, for the first batch index whose
    lambda is near 1/2 (so both images show)."""
    batch, labels = np.stack([image, partner]), np.array([0, 1])
    tiles = []
    for title, mix in (("mixup", T.MixUp(alpha=1.0, num_classes=2, seed=seed)),
                       ("cutmix", T.CutMix(alpha=1.0, num_classes=2, seed=seed))):
        for index in range(64):
            mixed, soft = mix(batch, labels, index=index)
            if 0.35 <= soft[0, 0] <= 0.65:
                break
        tiles.append((title, mixed[0], f"batch index {index}: labels\n"
                                        f"{soft[0, 0]:.2f} this, {soft[0, 1]:.2f} the other"))
    return tiles


def contact_sheet(image, out_path, seed=0, partner=None):
    """One image under each transform, dropout, mixing with `partner` (an
    RGB image, centre-cropped to the image's aspect ratio and resized to its
    size; default the image upside down) and a full pipeline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h, w = image.shape[:2]
    crop = min(h, w) * 3 // 4
    tiles = [("original", image, f"{w}x{h}")]
    singles = [
        ("horizontal flip", T.RandomHorizontalFlip(p=1.0)),
        ("vertical flip", T.RandomVerticalFlip(p=1.0)),
        ("random crop + reflect pad", T.RandomCrop(crop, padding=crop // 8, padding_mode="reflect")),
        ("centre crop", T.CenterCrop(crop)),
        ("brightness", T.ColorJitter(brightness=0.6)),
        ("contrast", T.ColorJitter(contrast=0.7)),
        ("saturation", T.ColorJitter(saturation=0.9)),
        ("hue", T.ColorJitter(hue=0.3)),
        ("grayscale", T.RandomGrayscale(p=1.0)),
        ("rotation, bilinear", T.RandomRotation(30, "bilinear")),
        ("rotation, expand", T.RandomRotation(45, expand=True)),
        ("random resized crop", T.RandomResizedCrop((h, w))),
        ("random erasing", T.RandomErasing(p=1.0, value=(124, 116, 104))),
        ("RandAugment(2, 9)", T.RandAugment(2, 9)),
        ("TrivialAugmentWide", T.TrivialAugmentWide()),
    ]
    for k, (title, op) in enumerate(singles):
        aug = T.Compose([op], seed=seed)
        tiles.append((title, aug(image, index=k), _describe(aug.params(k, shape=image.shape))))

    as_float = image.astype(np.float32) / 255.0
    dropped = fastreg.dropout(as_float, 0.3, seed=seed, step=0)
    tiles.append(("dropout p=0.3", np.clip(dropped * 0.7, 0, 1), "each value kept w.p. 0.7,\nscaled 1/0.7 (shown x0.7)"))
    copies = np.repeat(as_float[None, ::2, ::2], 4, axis=0)  # a batch of 4 half-size copies
    fastreg.channel_dropout_(copies, 0.5, seed=seed, step=1, channel_axis=-1)
    mosaic = np.concatenate([np.concatenate(copies[:2], axis=1), np.concatenate(copies[2:], axis=1)])
    kept = ["+".join(c for k, c in enumerate("RGB") if copies[n, :, :, k].any()) or "none"
            for n in range(4)]
    tiles.append(("channel dropout p=0.5", np.clip(mosaic * 0.5, 0, 1),
                  "4 copies; each colour channel\nzeroed whole w.p. 0.5. Kept:\n"
                  f"{', '.join(kept)} (shown x0.5)"))
    partner = np.ascontiguousarray(image[::-1]) if partner is None else _fit_partner(partner, h, w)
    tiles += _mixed_tiles(image, partner, seed)

    pipeline = T.Compose([
        T.RandomCrop(crop, padding=crop // 8, padding_mode="reflect"),
        T.RandomHorizontalFlip(),
        T.RandomRotation(10, "bilinear"),
        T.ColorJitter(0.4, 0.4, 0.4, 0.1),
        T.RandomGrayscale(p=0.2),
    ], seed=seed)
    for index in range(4):
        tiles.append((f"pipeline, index {index}", pipeline(image, index=index),
                      _describe(pipeline.params(index, shape=image.shape))))

    cols = 4
    rows = -(-len(tiles) // cols)
    described = repr(pipeline)
    head = 0.6 + 0.15 * (described.count("\n") + 1)  # inches: the title, then the pipeline's lines
    height = rows * 4.2 + head
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 3.4, height))
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (title, tile, caption) in zip(axes.ravel(), tiles):
        ax.imshow(tile, cmap="gray" if tile.ndim == 2 else None, vmin=0,
                  vmax=255 if tile.dtype == np.uint8 else 1)
        ax.set_title(title, fontsize=10, fontweight="bold")
        ax.text(0.0, -0.03, caption, transform=ax.transAxes, ha="left", va="top", fontsize=7,
                family="monospace")
    fig.text(0.03, 1 - 0.1 / height, "fastreg: one photograph under each augmentation, dropout, "
             "mixing, and the pipeline below", ha="left", va="top", fontsize=11, fontweight="bold")
    fig.text(0.03, 1 - 0.35 / height, described, ha="left", va="top", fontsize=8, family="monospace")
    fig.subplots_adjust(left=0.03, right=0.97, top=1 - head / height, bottom=0.04, wspace=0.12,
                        hspace=0.55)
    fig.savefig(out_path, dpi=90, bbox_inches="tight", pad_inches=0.15)  # no empty margins
    plt.close(fig)


# --- the training demo ---------------------------------------------------------

class MLP:
    """inputs -> hidden -> hidden -> 10 ReLU network with optional dropout, in NumPy."""

    def __init__(self, n_inputs, hidden, p_drop, seed):
        rng = np.random.default_rng(seed)

        def layer(n_in, n_out):
            w = rng.standard_normal((n_in, n_out), dtype=np.float32) * np.float32(np.sqrt(2.0 / n_in))
            return w, np.zeros(n_out, np.float32)

        self.W1, self.b1 = layer(n_inputs, hidden)
        self.W2, self.b2 = layer(hidden, hidden)
        self.W3, self.b3 = layer(hidden, 10)
        self.drops = [fastreg.Dropout(p_drop, seed=seed + k) for k in (1, 2)] if p_drop else []

    @property
    def weights(self):
        return [self.W1, self.W2, self.W3]

    @property
    def biases(self):
        return [self.b1, self.b2, self.b3]

    def train(self, mode=True):
        for d in self.drops:
            d.train(mode)

    def forward(self, x):
        self.x = x
        self.h1 = np.maximum(x @ self.W1 + self.b1, 0)
        self.a1 = self.drops[0](self.h1) if self.drops else self.h1
        self.h2 = np.maximum(self.a1 @ self.W2 + self.b2, 0)
        self.a2 = self.drops[1](self.h2) if self.drops else self.h2
        return self.a2 @ self.W3 + self.b3

    def backward(self, dlogits):
        """Gradients in the order weights + biases."""
        dW3, db3 = self.a2.T @ dlogits, dlogits.sum(0)
        da2 = dlogits @ self.W3.T
        dh2 = (self.drops[1].backward(da2) if self.drops else da2) * (self.h2 > 0)
        dW2, db2 = self.a1.T @ dh2, dh2.sum(0)
        da1 = dh2 @ self.W2.T
        dh1 = (self.drops[0].backward(da1) if self.drops else da1) * (self.h1 > 0)
        dW1, db1 = self.x.T @ dh1, dh1.sum(0)
        return [dW1, dW2, dW3, db1, db2, db3]


def _softmax_grad(logits, labels):
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return (p / len(labels)).astype(np.float32)


def _accuracy(model, x, y):
    model.train(False)
    acc = float((model.forward(x).argmax(1) == y).mean())
    model.train(True)
    return acc


def _upsample(images):
    """8x8 digits to 16x16 (each pixel doubled), so a one-pixel shift is a half-pixel one."""
    return images.repeat(2, axis=1).repeat(2, axis=2)


def train(regularized, images, labels, test_images, test_labels, epochs, seed, log, p_drop=0.15,
          decay=5e-4, augment=True):
    """Train one MLP on 16x16 digits; returns per-epoch (train accuracy, test accuracy)."""
    images, test_images = _upsample(images), _upsample(test_images)
    n_pixels = images.shape[1] * images.shape[2]
    model = MLP(n_pixels, hidden=256, p_drop=p_drop if regularized else 0.0, seed=seed)
    opt = fastreg.SGD([{"params": model.weights, "weight_decay": decay if regularized else 0.0},
                       {"params": model.biases, "weight_decay": 0.0}],  # no decay on biases
                      lr=0.05, momentum=0.9)
    # Random one-pixel shifts (zero-padded crops), new every epoch.
    aug = T.Compose([T.RandomCrop(16, padding=1)], seed=seed) if regularized and augment else None

    def flat(x):
        return x.reshape(len(x), n_pixels).astype(np.float32) / 255

    train_x, test_x = flat(images), flat(test_images)
    rng = np.random.default_rng(seed)
    curves = []
    for epoch in range(epochs):
        for group in opt.param_groups:  # cosine learning-rate schedule
            group["lr"] = 0.05 * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        x_epoch = flat(aug.batch(images, epoch=epoch)) if aug is not None else train_x
        order = rng.permutation(len(images))
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            logits = model.forward(x_epoch[batch])
            opt.step(model.backward(_softmax_grad(logits, labels[batch])))
        curves.append((_accuracy(model, train_x, labels), _accuracy(model, test_x, test_labels)))
        log(epoch, curves[-1])
    return curves


def run(out_dir=".", images_dir=None, seed=0, epochs=60, train_size=300):
    """Run both parts of the demo; returns the paths written and the accuracies."""
    _require("matplotlib")
    datasets = _require("sklearn.datasets").datasets
    threadpoolctl = _require("threadpoolctl")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    print("[1/3] augmentation contact sheet ...", flush=True)
    sheet = out / "fastreg_augmentations.png"
    images = _load_images(images_dir)
    contact_sheet(images[0], sheet, seed=seed, partner=images[1] if len(images) > 1 else None)
    print(f"      wrote {sheet}")

    digits = datasets.load_digits()
    pixels = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., None]  # 8x8x1 uint8
    order = np.random.default_rng(seed).permutation(len(pixels))
    tr, te = order[:train_size], order[train_size:]
    results = {}
    for step, (name, regularized) in enumerate([("plain", False),
                                                ("dropout + weight decay + augmentation", True)], 2):
        print(f"[{step}/3] training an MLP on {train_size} digits: {name}", flush=True)

        def log(epoch, acc, name=name):
            if (epoch + 1) % 10 == 0 or epoch == epochs - 1:
                print(f"      epoch {epoch + 1:3d}/{epochs}  train {acc[0]:.3f}  test {acc[1]:.3f}",
                      flush=True)

        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            results[name] = train(regularized, pixels[tr], digits.target[tr], pixels[te],
                                  digits.target[te], epochs, seed, log)

    plot = out / "fastreg_training.png"
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (name, curves), color in zip(results.items(), ("tab:red", "tab:blue")):
        curves = np.array(curves)
        ax.plot(curves[:, 0], color=color, ls="--", label=f"{name}: train")
        ax.plot(curves[:, 1], color=color, label=f"{name}: test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    # from the lowest accuracy of either run, so early dips stay in view
    lowest = min(np.min(curves) for curves in results.values())
    ax.set_ylim(max(0.0, np.floor(lowest * 20) / 20), 1.005)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"MLP on {train_size} handwritten digits (scikit-learn), {len(te)} held out")
    fig.tight_layout()
    fig.savefig(plot, dpi=90)
    plt.close(fig)

    print(f"\n{'model':<40} {'train':>6} {'test':>6} {'gap':>6}")
    summary = {}
    for name, curves in results.items():
        train_acc, test_acc = curves[-1]
        summary[name] = {"train": train_acc, "test": test_acc}
        print(f"{name:<40} {train_acc:6.3f} {test_acc:6.3f} {train_acc - test_acc:6.3f}")
    text_pairs = text_examples(seed)
    print(f"\nwrote {sheet} and {plot} in {time.perf_counter() - started:.1f} s")
    return {"contact_sheet": sheet, "training_plot": plot, "accuracy": summary, "text": text_pairs}


SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "I am happy that the weather is nice today, aren't you?",
    "Fast, reproducible augmentation makes small data sets go further.",
    "She bought a big old house near the river in 2019.",
]


def text_examples(seed=0, sentences=SENTENCES):
    """Print `sentences` before and after EDA (the paper's default alphas,
    English synonyms from WordNet); returns the (before, after) pairs."""
    after = fastreg.EDA(alpha_sr=0.1, alpha_ri=0.1, alpha_rs=0.1, p_rd=0.1, seed=seed)(sentences)
    print("\nEDA on sentences (alpha 0.1, p_rd 0.1, WordNet synonyms):")
    for a, b in zip(sentences, after):
        print(f"  before: {a}\n  after:  {b}")
    return list(zip(sentences, after))
