"""The public modules show only their public names in dir() and tab
completion; internal helpers stay importable for fastreg's own modules."""

import importlib
import rlcompleter

import pytest

PUBLIC = ["fastreg", "fastreg.functional", "fastreg.transforms", "fastreg.text", "fastreg.random",
          "fastreg.samples", "fastreg.mixing", "fastreg.geometry", "fastreg.torch"]
HELPERS = ["np", "math", "numbers", "check_image", "check_out", "accepts_tensors", "steps_table",
           "OP_HFLIP", "OP_NORMALIZE", "CallCounter", "check_uint64"]


def module(name):
    if name == "fastreg.torch":
        pytest.importorskip("torch")
    return importlib.import_module(name)


@pytest.mark.parametrize("name", PUBLIC)
def test_dir_lists_the_public_names(name):
    m = module(name)
    shown = set(dir(m))
    assert set(m.__all__) <= shown
    assert not shown & set(HELPERS), shown & set(HELPERS)
    assert all(hasattr(m, attr) for attr in m.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_tab_completion_offers_no_helpers(name):
    m = module(name)
    completer = rlcompleter.Completer({"m": m})
    offered, state = [], 0
    while (word := completer.complete("m.", state)) is not None:
        offered.append(word.removeprefix("m.").rstrip("()"))
        state += 1
    public = [w for w in offered if not w.startswith("_")]
    assert set(public) == set(m.__all__)


def test_helpers_stay_importable():
    from fastreg.functional._args import check_padding  # noqa: F401
    from fastreg.functional._steps import steps_table  # noqa: F401
    from fastreg.transforms._compose import check_image  # noqa: F401
    import fastreg

    assert fastreg.samples.load("coffee").shape == (256, 256, 3)
