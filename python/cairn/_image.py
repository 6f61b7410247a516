"""cairn._image — turning what a user calls an image into PNG/JPEG bytes.

``run.log_image`` accepts a path, PNG/JPEG/SVG bytes, a matplotlib figure, a
PIL image, or a 2-D/3-D array (numpy, or anything with ``__array__`` such
as a CPU tensor).  Arrays are encoded to PNG here with zlib and struct only,
so no imaging library is needed:

- shape (H, W) is grey, (H, W, C) with C = 1, 2, 3, 4 is grey, grey+alpha,
  RGB, RGBA; a channel-first (C, H, W) array with C in 1, 3, 4 is
  transposed;
- uint8 is written as is, uint16 as a 16-bit PNG, bool as 0/255;
- floats in [0, 1] are scaled to 0..255, other floats and other integers
  are clipped to 0..255; NaN becomes 0.

Pure functions, no state; numpy is imported only when an array is given.
"""

from __future__ import annotations

import io
import os
import struct
import zlib

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_MAX_PIXELS = 1 << 28  # refuse absurd arrays before allocating their PNG rows


def _chunk(tag: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + tag
        + data
        + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    )


def encode_png(array) -> bytes:
    """PNG bytes for a 2-D or 3-D array (see the module comment for the rules)."""
    import numpy as np

    a = np.asarray(array)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[2] not in (1, 2, 3, 4):
        a = np.transpose(a, (1, 2, 0))
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise ValueError(
            "an image array must be (H, W) or (H, W, C) with C in 1..4, not shape %s"
            % (tuple(np.shape(array)),)
        )
    h, w, c = a.shape
    if h == 0 or w == 0:
        raise ValueError("an image array must not be empty (shape %s)" % (a.shape,))
    if h * w * c > _MAX_PIXELS:
        raise ValueError("image array too large (%d values)" % (h * w * c))
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    if a.dtype == np.uint16:
        depth, pix = 16, a.astype(">u2")
    else:
        depth = 8
        if a.dtype == np.uint8:
            pix = a
        elif np.issubdtype(a.dtype, np.floating):
            f = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
            if f.size and f.min() >= 0.0 and f.max() <= 1.0:
                f = f * 255.0
            pix = np.clip(np.rint(f), 0, 255).astype(np.uint8)
        elif np.issubdtype(a.dtype, np.integer):
            pix = np.clip(a, 0, 255).astype(np.uint8)
        else:
            raise TypeError("cannot make an image of an array of dtype %s" % a.dtype)
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rowbytes = w * c * (depth // 8)
    raw = np.zeros((h, 1 + rowbytes), dtype=np.uint8)  # filter byte 0 (None) per row
    raw[:, 1:] = np.ascontiguousarray(pix).view(np.uint8).reshape(h, rowbytes)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    return (
        _PNG_SIG
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def image_source(image):
    """("path", str) or ("bytes", bytes) for anything log_image accepts."""
    if isinstance(image, (str, os.PathLike)):
        return "path", os.fspath(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return "bytes", bytes(image)
    if hasattr(image, "savefig"):  # matplotlib Figure (and anything shaped like one)
        buf = io.BytesIO()
        image.savefig(buf, format="png")
        return "bytes", buf.getvalue()
    mod = type(image).__module__ or ""
    if mod.startswith("PIL.") and hasattr(image, "save"):
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return "bytes", buf.getvalue()
    if hasattr(image, "__array_interface__") or hasattr(image, "__array__"):
        if hasattr(image, "detach") and hasattr(image, "cpu"):  # a torch tensor
            image = image.detach().cpu()
        return "bytes", encode_png(image)
    raise TypeError(
        "log_image takes a path, PNG/JPEG/SVG bytes, a matplotlib figure, a PIL image "
        "or a 2-D/3-D array, not %s" % type(image).__name__
    )
