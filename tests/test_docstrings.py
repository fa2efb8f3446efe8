"""numpydoc validation of the public API.

The public names are found, not listed: every name in the ``__all__`` of
fastreg and of the public modules it exports (fastreg.functional,
fastreg.transforms, fastreg.text, fastreg.random, ...), plus fastreg.torch
when torch is installed, and the public methods (and ``__call__``) of each
class: where first defined, and every override that has a docstring of its
own.  So a name added to an ``__all__`` is checked without editing this file.

Checks (numpydoc.validate codes): a docstring and a one-line summary that
starts with a capital and ends with a period (GL08, SS01-SS04); known
sections in the right order (GL06, GL07); every parameter documented, none
unknown, in signature order, each with a type and a description (PR01-PR04,
PR07, PR10); a Returns (or Yields) section with a description for whatever
returns a value (RT01, RT03, YD01).  Style codes (line breaks, imperative
mood, capitalised descriptions, See Also and Examples in every docstring)
are left to review.
"""

import importlib
import inspect
import types

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

CHECKS = {"GL06", "GL07", "GL08", "SS01", "SS02", "SS03", "SS04", "PR01", "PR02", "PR03", "PR04",
          "PR07", "PR10", "RT01", "RT03", "YD01"}
MODULES = ["fastreg", "fastreg.torch"]

def _public_module(name):
    try:
        return importlib.import_module(name)
    except ImportError:  # fastreg.torch without torch
        return None


def _exported(module):
    """A module's public names: its __all__, else what it defines without a leading underscore."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, obj in vars(module).items() if not name.startswith("_")
            and getattr(obj, "__module__", None) == module.__name__]


def _documented_here(cls, name):
    """Whether `name`, as `cls` resolves it, is fastreg's own and carries its
    docstring: a first definition, or an override with a docstring of its
    own (an override without one shows its base's in help())."""
    owners = [c for c in cls.__mro__ if name in vars(c)]
    if not owners or not owners[0].__module__.startswith("fastreg"):
        return False
    first = not any(c.__module__.startswith("fastreg") for c in owners[1:])
    member = vars(owners[0])[name]
    return first or getattr(getattr(member, "fget", member), "__doc__", None) is not None


def _methods(cls):
    for name in sorted(dir(cls)):
        if name.startswith("_") and name != "__call__":
            continue
        member = inspect.getattr_static(cls, name)
        if (inspect.isfunction(member) or isinstance(member, (property, classmethod, staticmethod))) \
                and _documented_here(cls, name):
            yield name, member


def public_names():
    """Dotted paths of every public object, from the modules' __all__."""
    names, seen = [], set()
    modules = [m for m in map(_public_module, MODULES) if m is not None]
    while modules:
        module = modules.pop(0)
        for attr in _exported(module):
            obj = getattr(module, attr)
            if isinstance(obj, types.ModuleType):
                if obj.__name__.startswith("fastreg"):
                    modules.append(obj)
                continue
            if id(obj) in seen or not callable(obj):
                continue
            seen.add(id(obj))
            path = f"{module.__name__}.{attr}"
            names.append(path)
            if inspect.isclass(obj):
                for name, member in _methods(obj):
                    key = id(getattr(member, "fget", getattr(member, "__func__", member)))
                    if key not in seen:
                        seen.add(key)
                        names.append(f"{path}.{name}")
    return names


def problems(name):
    result = numpydoc_validate.validate(name)
    return [f"{code} {message}" for code, message in result["errors"] if code in CHECKS]


NAMES = public_names()


def _resolve(path):
    module, _, rest = path.partition(".")
    obj = importlib.import_module(module)
    for part in rest.split("."):
        obj = getattr(obj, part)
    return getattr(obj, "__func__", obj)


def test_the_public_api_is_found():
    import fastreg
    from fastreg import functional, random, text, transforms

    found = {id(_resolve(n)) for n in NAMES}
    for obj in (fastreg.dropout, functional.hflip, transforms.Compose.batch, transforms.Compose.__call__,
                text.EDA, text.EDA.__call__, random.bits, transforms.MixUp.__call__):
        assert id(obj) in found, obj


@pytest.mark.parametrize("name", NAMES)
def test_docstring(name):
    found = problems(name)
    assert not found, f"{name}:\n  " + "\n  ".join(found)
