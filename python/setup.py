"""setup.py — only to bundle the built library: the metadata is in
pyproject.toml.  When ../build/libcairn.so (or $CAIRN_LIB) exists, its real
file is copied into the package as cairn/libcairn.so, the first place the
binding looks.  CAIRN_BUNDLE_LIB=0 turns this off (rely on the system path)."""

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class build_py_with_lib(build_py):
    def run(self):
        super().run()
        if os.environ.get("CAIRN_BUNDLE_LIB", "1") == "0":
            return
        here = os.path.dirname(os.path.abspath(__file__))
        src = os.environ.get("CAIRN_LIB") or os.path.join(here, "..", "build", "libcairn.so")
        if os.path.isfile(src):
            dst = os.path.join(self.build_lib, "cairn", "libcairn.so")
            shutil.copyfile(os.path.realpath(src), dst)
            print("cairn: bundled %s" % os.path.realpath(src))


setup(cmdclass={"build_py": build_py_with_lib})
