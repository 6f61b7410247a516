"""run.log_image from every input kind: a path, PNG/JPEG/SVG bytes, a
matplotlib figure, a PIL image, and numpy arrays (grey, RGB, RGBA,
channel-first, bool, float, uint16), encoded to PNG without PIL."""

import ctypes
import struct
import zlib

import pytest

import cairn
from cairn import _lib
from cairn._image import encode_png

np = pytest.importorskip("numpy")


def decode_png(data):
    """A minimal PNG reader for what encode_png writes (no interlace)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        assert zlib.crc32(tag + body) & 0xFFFFFFFF == crc, tag
        if tag == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, color, _, _, _ = ihdr
    c = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = zlib.decompress(idat)
    stride = 1 + w * c * depth // 8
    rows = []
    for y in range(h):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0  # filter None
        rows.append(line[1:])
    dt = np.uint8 if depth == 8 else np.dtype(">u2")
    return np.frombuffer(b"".join(rows), dtype=dt).reshape(h, w, c), (w, h, depth, color)


def stored_bytes(run_id, path):
    """The bytes of a run's artifact, through the library's object store."""
    r = cairn.get_run(run_id)
    art = [a for a in r.artifacts if a["path"] == path]
    assert art, [a["path"] for a in r.artifacts]
    L = _lib.lib()
    from cairn._run import open_store

    h, _ = open_store(r.store)
    L.cairn_object_path.restype = ctypes.c_int
    L.cairn_object_path.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_char_p]
    p = _lib.take_string(L.cairn_object_path, h, art[0]["digest"].split(":")[-1].encode())
    with open(p, "rb") as f:
        return f.read(), art[0]


def test_encode_png_kinds():
    g = np.arange(12, dtype=np.uint8).reshape(3, 4)
    px, hdr = decode_png(encode_png(g))
    assert hdr == (4, 3, 8, 0) and (px[:, :, 0] == g).all()
    rgb = np.random.default_rng(1).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    px, hdr = decode_png(encode_png(rgb))
    assert hdr[3] == 2 and (px == rgb).all()
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 3] = 255
    assert decode_png(encode_png(rgba))[1][3] == 6
    ga = np.zeros((2, 2, 2), np.uint8)
    assert decode_png(encode_png(ga))[1][3] == 4
    chw = np.transpose(rgb, (2, 0, 1))  # channel-first
    px, hdr = decode_png(encode_png(chw))
    assert (hdr[0], hdr[1]) == (6, 5) and (px == rgb).all()
    b = np.array([[True, False]])
    assert decode_png(encode_png(b))[0][0, :, 0].tolist() == [255, 0]
    f = np.array([[0.0, 0.5, 1.0, np.nan]])
    assert decode_png(encode_png(f))[0][0, :, 0].tolist() == [0, 128, 255, 0]
    big = np.array([[-5.0, 300.0, 100.4]])  # outside [0, 1]: clipped to 0..255
    assert decode_png(encode_png(big))[0][0, :, 0].tolist() == [0, 255, 100]
    ints = np.array([[-1, 7, 999]], dtype=np.int64)
    assert decode_png(encode_png(ints))[0][0, :, 0].tolist() == [0, 7, 255]
    u16 = np.array([[0, 1000, 65535]], dtype=np.uint16)
    px, hdr = decode_png(encode_png(u16))
    assert hdr[2] == 16 and px[0, :, 0].tolist() == [0, 1000, 65535]
    one = np.ones((3, 3, 1), np.uint8)
    assert decode_png(encode_png(one))[1][3] == 0


def test_encode_png_matches_pil():
    Image = pytest.importorskip("PIL.Image")
    import io

    rgb = np.random.default_rng(2).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    im = Image.open(io.BytesIO(encode_png(rgb)))
    assert im.size == (9, 7) and (np.asarray(im) == rgb).all()


@pytest.mark.parametrize(
    "bad,exc",
    [
        (np.zeros(5), ValueError),
        (np.zeros((2, 2, 5)), ValueError),
        (np.zeros((0, 4)), ValueError),
        (np.zeros((2, 2, 2, 2)), ValueError),
        (np.array([["a"]]), TypeError),
    ],
)
def test_encode_png_rejects(bad, exc):
    with pytest.raises(exc):
        encode_png(bad)


def test_log_image_every_kind(store, tmp_path):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    arr = np.random.default_rng(3).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    png = encode_png(arr)
    path = tmp_path / "img.png"
    path.write_bytes(png)
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)
    ax.plot([0, 1], [1, 0])
    with cairn.init() as run:
        run.log_image("from/path", str(path))
        run.log_image("from/pathlib", path)
        run.log_image("from/bytes", png)
        run.log_image("from/bytearray", bytearray(png))
        run.log_image("from/jpeg", jpeg)
        run.log_image("from/svg", svg)
        run.log_image("from/figure", fig)
        run.log_image("from/array", arr, step=3)
        run.log_image("from/array", arr[:, :, 0], step=4)
        run.log_image("from/float", np.linspace(0, 1, 20).reshape(4, 5))
        try:
            from PIL import Image

            run.log_image("from/pil", Image.fromarray(arr))
        except ImportError:
            pass
    plt.close(fig)
    r = cairn.get_run(run.id)
    arts = {a["path"]: a for a in r.artifacts}
    for p in (
        "images/from/path.png",
        "images/from/pathlib.png",
        "images/from/bytes.png",
        "images/from/bytearray.png",
        "images/from/jpeg.jpg",
        "images/from/svg.svg",
        "images/from/figure.png",
        "images/from/array/00000003.png",
        "images/from/array/00000004.png",
        "images/from/float.png",
    ):
        assert p in arts, (p, sorted(arts))
        assert arts[p]["kind"] == "image"
    assert arts["images/from/jpeg.jpg"]["media_type"] == "image/jpeg"
    assert arts["images/from/array/00000003.png"]["step"] == 3
    assert arts["images/from/array/00000003.png"]["key"] == "from/array"
    # identical content is stored once
    assert arts["images/from/path.png"]["digest"] == arts["images/from/bytes.png"]["digest"]
    data, _ = stored_bytes(run.id, "images/from/array/00000003.png")
    assert (decode_png(data)[0] == arr).all()
    data, _ = stored_bytes(run.id, "images/from/figure.png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_log_image_errors(store, tmp_path):
    txt = tmp_path / "not.png"
    txt.write_text("hello")
    with cairn.init() as run:
        with pytest.raises(cairn.InvalidError, match="not a PNG"):
            run.log_image("k", b"not an image")
        with pytest.raises(cairn.InvalidError):
            run.log_image("k", str(txt))
        with pytest.raises(cairn.NotFoundError):
            run.log_image("k", str(tmp_path / "missing.png"))
        with pytest.raises(TypeError, match="log_image takes"):
            run.log_image("k", 42)
        with pytest.raises(ValueError):
            run.log_image("k", np.zeros(3))
        with pytest.raises(cairn.InvalidError):
            run.log_image("k", encode_png(np.zeros((2, 2), np.uint8)), step=-1)
        with pytest.raises(TypeError):
            run.log_image("k", encode_png(np.zeros((2, 2), np.uint8)), step="1")
    assert cairn.get_run(run.id).artifacts == []
