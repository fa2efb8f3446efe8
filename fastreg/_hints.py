"""What to use instead of the torchvision.transforms.v2 and AlbumentationsX
names that fastreg does not have: ``fastreg.transforms.ToTensor`` or
``fastreg.transforms.HorizontalFlip`` raises the usual AttributeError, with
the hint after it.  Other unknown names get Python's usual message alone.
AlbumentationsX's keyword call ``aug(image=img)`` gets a TypeError saying how
fastreg's transforms are called."""

import functools

_CONVERSION = (
    "fastreg works on uint8 NumPy arrays (H, W[, C]) and uint8 CPU tensors directly, so no "
    "conversion step is needed (a PIL image: np.asarray(img)); for float output end the Compose "
    "with Normalize(mean, std), which does ToDtype(torch.float32, scale=True) then Normalize and "
    "gives (C, H, W) float32 (Normalize(0.0, 1.0) for ToTensor's values in [0, 1]; "
    "torch.from_numpy(out) makes a tensor of a NumPy output)"
)
_F_CONVERSION = (
    "fastreg.functional works on uint8 NumPy arrays (H, W[, C]) and uint8 CPU tensors directly, "
    "so no conversion is needed (a PIL image: np.asarray(img)); for floats, "
    "normalize(img, mean, std) does to_dtype(torch.float32, scale=True) then normalize and gives "
    "(C, H, W) float32 (normalize(img, 0.0, 1.0) for to_tensor's values in [0, 1])"
)
_TO_PIL = "fastreg returns NumPy arrays: PIL.Image.fromarray(out) makes a PIL image"
_IMAGES_ONLY = "not provided by fastreg, which transforms images only (no boxes, key points or masks)"
_SHAPE = "fastreg images are arrays (H, W[, C]): read img.shape"


def _not_provided(instead=""):
    return "not provided by fastreg" + (f"; {instead}" if instead else "")


TRANSFORMS = {
    **dict.fromkeys(["ToDtype", "ToTensor", "ToImage", "ToPureTensor", "ConvertImageDtype",
                     "PILToTensor"], _CONVERSION),
    "ToPILImage": _TO_PIL,
    "Grayscale": "use RandomGrayscale(p=1.0), which keeps 3 channels as Grayscale(num_output_channels=3) "
                 "does; fastreg.functional.rgb_to_grayscale(img) gives 1 channel",
    "RandomApply": _not_provided("the random ops take their probability themselves (RandomHorizontalFlip(p=...), "
                                 "RandomGrayscale(p=...), RandomSolarize(threshold, p=...), ...)"),
    "RandomChoice": _not_provided("RandAugment and TrivialAugmentWide pick ops at random from a fixed list"),
    "RandomOrder": _not_provided("ColorJitter applies its four adjustments in a random order itself"),
    "RandomPerspective": _not_provided("the nearest is RandomAffine (rotation, translation, scale, shear)"),
    "ElasticTransform": _not_provided("the nearest is RandomAffine (rotation, translation, scale, shear)"),
    "Lambda": _not_provided("a Compose runs fastreg transforms only, in compiled code: call your own "
                            "function on the Compose's input or output"),
    "Identity": _not_provided("leave the step out (Compose([]) returns a copy)"),
    "RandomPhotometricDistort": _not_provided("the nearest is ColorJitter"),
    "RandomZoomOut": _not_provided("the nearest is Pad"),
    **dict.fromkeys(["RandomResize", "RandomShortestSize", "ScaleJitter"],
                    _not_provided("the nearest are Resize and RandomResizedCrop")),
    **dict.fromkeys(["FiveCrop", "TenCrop"], _not_provided("fastreg.functional.crop(img, top, left, height, "
                                                           "width) cuts any box")),
    **dict.fromkeys(["RandomChannelPermutation", "GaussianNoise", "JPEG", "LinearTransformation",
                     "RGB", "RandomIoUCrop", "UniformTemporalSubsample"], _not_provided()),
    **dict.fromkeys(["ClampBoundingBoxes", "ClampKeyPoints", "ConvertBoundingBoxFormat",
                     "SanitizeBoundingBoxes", "SanitizeKeyPoints", "SetClampingMode"], _IMAGES_ONLY),
    "InterpolationMode": "fastreg takes torchvision's own InterpolationMode members, the names as strings "
                         "in any case, e.g. interpolation='bilinear', and PIL's codes",
    "AutoAugmentPolicy": "fastreg names the policy with a string, e.g. AutoAugment(policy='imagenet')",
}

FUNCTIONAL = {
    **dict.fromkeys(["to_dtype", "to_tensor", "to_image", "convert_image_dtype", "pil_to_tensor"],
                    _F_CONVERSION),
    "to_pil_image": _TO_PIL,
    "to_grayscale": "use rgb_to_grayscale(img)",
    "horizontal_flip": "use hflip(img)",
    "vertical_flip": "use vflip(img)",
    **dict.fromkeys(["perspective", "elastic", "elastic_transform"],
                    _not_provided("the nearest is affine(img, angle, translate, scale, shear)")),
    **dict.fromkeys(["five_crop", "ten_crop"], _not_provided("crop(img, top, left, height, width) cuts any box")),
    "permute_channels": _not_provided("img[..., order] permutes the channels of an (H, W, C) array"),
    **dict.fromkeys(["adjust_gamma", "gaussian_noise", "jpeg", "grayscale_to_rgb",
                     "uniform_temporal_subsample"], _not_provided()),
    **dict.fromkeys(["get_dimensions", "get_size", "get_image_size", "get_num_channels",
                     "get_image_num_channels"], _SHAPE),
}


def _albumentations(instead):
    return f"AlbumentationsX's name; {instead}"


# AlbumentationsX names whose fastreg equivalent has another name (ColorJitter, Normalize,
# GaussianBlur, Resize, RandomCrop, CenterCrop and RandomResizedCrop keep theirs)
ALBUMENTATIONS = {
    "HorizontalFlip": _albumentations("use RandomHorizontalFlip(p=0.5)"),
    "VerticalFlip": _albumentations("use RandomVerticalFlip(p=0.5)"),
    "Rotate": _albumentations("use RandomRotation(degrees), degrees as its limit"),
    "SafeRotate": _albumentations("use RandomRotation(degrees, expand=True), which keeps the whole image"),
    "Affine": _albumentations("use RandomAffine(degrees, translate, scale, shear)"),
    "ShiftScaleRotate": _albumentations("use RandomAffine(degrees, translate=(dx, dy), scale=(low, high))"),
    "HueSaturationValue": _albumentations("the nearest is ColorJitter(brightness, saturation=..., hue=...), "
                                          "with torchvision's factors"),
    "RandomBrightnessContrast": _albumentations("the nearest is ColorJitter(brightness=..., contrast=...), "
                                                "with torchvision's multiplicative factors"),
    "CoarseDropout": _albumentations("use RandomErasing(p, scale, ratio, value), which erases one "
                                     "rectangle"),
    "ToTensorV2": _CONVERSION,
    "ToFloat": _albumentations("Normalize(0.0, 1.0) gives float32 in [0, 1] (C, H, W)"),
    **dict.fromkeys(["OneOf", "SomeOf", "OneOrOther", "SelectiveChannelTransform"],
                    _albumentations("not provided; RandAugment and TrivialAugmentWide pick ops at random "
                                    "from a fixed list, and every random op takes its probability p itself")),
    "Sequential": _albumentations("use Compose([...])"),
    "ReplayCompose": _albumentations("not needed: the draws are a function of (seed, index, epoch), so "
                                     "Compose(..., seed=s)(img, index=i) repeats them, and "
                                     "Compose.params(i, shape=img.shape) lists them"),
    "NoOp": _albumentations("leave the step out (Compose([]) returns a copy)"),
    "SmallestMaxSize": _albumentations("use Resize(size) with an int size: the shorter side becomes size"),
    "LongestMaxSize": _albumentations("use Resize(None, max_size=size): the longer side becomes size"),
    "RandomSizedCrop": _albumentations("use RandomResizedCrop(size, scale, ratio)"),
    "PadIfNeeded": _albumentations("use RandomCrop(size, pad_if_needed=True) or Pad(padding)"),
    "ToGray": _albumentations("use RandomGrayscale(p=1.0)"),
    "InvertImg": _albumentations("use RandomInvert(p)"),
    "Posterize": _albumentations("use RandomPosterize(bits, p)"),
    "Solarize": _albumentations("use RandomSolarize(threshold, p)"),
    "Equalize": _albumentations("use RandomEqualize(p)"),
    "AutoContrast": _albumentations("use RandomAutocontrast(p)"),
    "Sharpen": _albumentations("the nearest is RandomAdjustSharpness(sharpness_factor, p)"),
    **dict.fromkeys(["Blur", "MedianBlur", "MotionBlur", "Defocus", "GlassBlur", "AdvancedBlur"],
                    _albumentations("not provided; the nearest is GaussianBlur(kernel_size, sigma)")),
    **dict.fromkeys(["Perspective", "GridDistortion", "OpticalDistortion"],
                    _albumentations("not provided; the nearest is RandomAffine (rotation, translation, "
                                    "scale, shear)")),
    **dict.fromkeys(["RandomScale", "Downscale"],
                    _albumentations("not provided; the nearest are Resize and RandomResizedCrop")),
    "RandomRotate90": _albumentations("not provided; np.rot90(img, k) turns an (H, W, C) array"),
    "Transpose": _albumentations("not provided; img.transpose(1, 0, 2) swaps the axes of an (H, W, C) array"),
    "ChannelShuffle": _albumentations("not provided; img[..., order] permutes the channels of an "
                                      "(H, W, C) array"),
    **dict.fromkeys(["GaussNoise", "ISONoise", "CLAHE", "RGBShift", "RandomGamma", "ImageCompression",
                     "RandomShadow", "RandomFog", "RandomRain", "RandomSunFlare", "Emboss", "Superpixels",
                     "FancyPCA", "ChannelDropout"], _albumentations("not provided by fastreg")),
}
TRANSFORMS.update(ALBUMENTATIONS)

_TARGETS = ("image", "images", "mask", "masks", "bboxes", "keypoints")


def positional_image(call):
    """Decorator for the ``__call__(self, img, *, index, epoch, out)`` of the
    transforms: AlbumentationsX's keyword call (``aug(image=img)``,
    ``mask=``, ``bboxes=`` ...) raises a TypeError that says how fastreg's
    transforms are called.  The wrapper has the same parameters, so a
    correct call costs one plain function call more."""
    @functools.wraps(call)
    def wrapper(self, *args, index=None, epoch=0, out=None, **others):
        if others or len(args) != 1:
            target = next((t for t in _TARGETS if t in others), None)
            if target is not None:
                raise TypeError(
                    f"{type(self).__name__}() got an unexpected keyword argument {target!r}: pass the image "
                    "positionally, aug(img) (or aug(img, index=i)); the result is the transformed array "
                    "itself, not a dict with an 'image' entry. fastreg transforms images only (no masks, "
                    "boxes or key points)")
            return call(self, *args, index=index, epoch=epoch, out=out, **others)  # Python's own error
        return call(self, args[0], index=index, epoch=epoch, out=out)
    return wrapper


def missing_name(module, name, hints):
    """The AttributeError for `name` not found in `module` (a module object),
    with its hint from `hints`; torchvision's image kernels (``resize_image``)
    point to the op of their stem."""
    hint = hints.get(name)
    stem = name.removesuffix("_image")
    if hint is None and stem != name:
        hint = f"use {stem}(img, ...)" if stem in module.__all__ else hints.get(stem)
    message = f"module {module.__name__!r} has no attribute {name!r}"
    if hint is not None:
        message += f": {hint}"
    return AttributeError(message, name=name, obj=module)
