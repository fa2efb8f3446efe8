"""Build the compiled kernels of fastreg.

Every ``fastreg/_*.pyx`` is one extension module.  The default build is
portable (no ``-march=native``): AVX2 and AVX-512 code paths are compiled with
per-function ``target`` attributes and chosen at run time.

Environment overrides:
  FASTREG_THREADS=0   build without the pthread pool (kernels run single-threaded);
                      otherwise a compiler without pthreads stops the build
  FASTREG_DEBUG=1     compile with -O0 -g
  CFLAGS, LDFLAGS     added to every compile and link, the pthread probe's too
                      (tools/sanitize.sh passes -fsanitize=address,undefined)
"""

import glob
import os
import re
import shlex
import sys
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _compile_error(compiler, flags, source):
    """None if `compiler` compiles and links `source` with `flags`, else the
    error.  The link adds CFLAGS and LDFLAGS as the extensions' link does
    (the executable linker takes neither by itself), so a probe under
    sanitizer flags links their runtime as the real build does."""
    link_flags = flags + shlex.split(os.environ.get("LDFLAGS", "")) + shlex.split(
        os.environ.get("CFLAGS", ""))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(source)
        try:
            objects = compiler.compile([path], output_dir=tmp, extra_postargs=flags)
            compiler.link_executable(objects, os.path.join(tmp, "probe"), extra_postargs=link_flags)
        except Exception as err:
            return str(err) or type(err).__name__
    return None


PTHREAD_PROBE = """
#include <pthread.h>
static void *run(void *arg) { return arg; }
int main(void) { pthread_t t; pthread_create(&t, 0, run, 0); pthread_join(t, 0); return 0; }
"""


class BuildExt(build_ext):
    """Detects the thread library per compiler and says what it found."""

    def build_extensions(self):
        compiler_type = self.compiler.compiler_type
        wanted = os.environ.get("FASTREG_THREADS", "1") != "0"
        threads = False
        if wanted and compiler_type == "unix":
            error = _compile_error(self.compiler, ["-pthread"], PTHREAD_PROBE)
            if error:
                sys.exit(f"fastreg: the pthread probe failed to compile or link ({error}); fix the "
                         "compiler flags, or set FASTREG_THREADS=0 to build single-threaded kernels")
            threads = True
        if threads:
            print("fastreg: building with the pthread pool (multithreaded kernels)")
        else:
            reason = "FASTREG_THREADS=0" if not wanted else f"no pthreads with {compiler_type}"
            print(f"fastreg: WARNING building without threads ({reason}); kernels run single-threaded")
        debug = os.environ.get("FASTREG_DEBUG", "0") == "1"
        for ext in self.extensions:
            ext.define_macros.append(("FR_HAVE_THREADS", "1" if threads else "0"))
            if compiler_type == "unix":
                ext.extra_compile_args += ["-O0", "-g"] if debug else ["-O3"]
                ext.extra_compile_args += ["-fno-strict-aliasing", "-std=gnu11"]
                if threads:
                    ext.extra_compile_args.append("-pthread")
                    ext.extra_link_args.append("-pthread")
            elif compiler_type == "msvc":
                ext.extra_compile_args.append("/O2")
        super().build_extensions()


INCLUDE = re.compile(r'^\s*(?:cdef extern from|#include)\s+"(fr_\w+\.h)"', re.M)


def _headers(path, found=None):
    """The fastreg headers `path` includes, directly or through other headers,
    so that a change to any of them rebuilds the module (setuptools' depends)."""
    found = set() if found is None else found
    with open(path) as f:
        for name in INCLUDE.findall(f.read()):
            header = os.path.join("fastreg", name)
            if header not in found:
                found.add(header)
                _headers(header, found)
    return found


def _extensions():
    modules = []
    for pyx in sorted(glob.glob(os.path.join("fastreg", "_*.pyx"))):
        name = "fastreg." + os.path.splitext(os.path.basename(pyx))[0]
        pxd = glob.glob(os.path.join("fastreg", "_*.pxd"))
        modules.append(
            Extension(
                name,
                [pyx],
                include_dirs=[np.get_include(), "fastreg"],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
                depends=sorted(_headers(pyx) | set(pxd)),
            )
        )
    return cythonize(
        modules,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "autotestdict": False,
        },
        quiet=True,
    )


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
