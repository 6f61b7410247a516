"""`pip install --no-build-isolation ./python` works with Debian's own
setuptools (nothing downloaded, nothing compiled), bundles the built
library, and the installed package runs from anywhere."""

import os
import shutil
import subprocess

import pytest

from conftest import PYTHON, ROOT


def test_pip_install_into_venv(tmp_path):
    probe = subprocess.run([PYTHON, "-c", "import setuptools, wheel, pip"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("pip, setuptools or wheel is missing (python3-pip, python3-setuptools, python3-wheel)")
    src = tmp_path / "src"
    shutil.copytree(os.path.join(ROOT, "python"), src,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    vpy = str(venv / "bin" / "python")
    lib = os.environ.get("CAIRN_LIB") or os.path.join(ROOT, "build", "libcairn.so")
    env = dict(os.environ, CAIRN_LIB=lib, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    p = subprocess.run([vpy, "-m", "pip", "install", "-q", "--no-build-isolation", str(src)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    # the installed package, away from the repository and without CAIRN_LIB
    env.pop("CAIRN_LIB")
    store = tmp_path / "store"
    store.mkdir()
    env["CAIRN_DIR"] = str(store)
    code = (
        "import cairn\n"
        "with cairn.init(project='installed', capture_code=False) as r:\n"
        "    r.log_metric('m', 1.5)\n"
        "print(cairn.__file__)\nprint(cairn.library_path())\n"
        "print(cairn.get_run(r.id).metrics['m'])\n"
    )
    p = subprocess.run([vpy, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert p.returncode == 0, p.stderr
    pkg_file, lib_path, m = p.stdout.split()
    assert pkg_file.startswith(str(venv)) and lib_path.startswith(str(venv)) and lib_path.endswith("cairn/libcairn.so")
    assert m == "1.5"
