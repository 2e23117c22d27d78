"""Writes small valid images that reach the decoders' less common paths, as seeds for the image_decode
fuzz target: every PNG colour type and bit depth, interlaced and not, each ancillary chunk the png crate
parses, APNG; WebP lossy, lossless, with alpha, animated, with metadata; JPEG baseline, progressive,
grey, CMYK, each chroma subsampling, restart markers. Plain mutation seldom builds these from scratch.

Usage: .venv/bin/python fuzz/make_image_seeds.py OUT_DIR   (needs Pillow; writes seed-*.png/.webp/.jpg)
"""

import io
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def scanlines(width, height, colour, depth, interlaced, filter_type):
    """Raw image data, each row tagged with `filter_type`. The bytes are not actually filtered: the
    decoder still runs the filter, the pixels just come out different, which does not matter here."""
    bits = CHANNELS[colour] * depth
    top = (1 << depth) - 1

    def row(y, xs):
        samples = [((x * 7 + y * 13 + c * 5) % (top + 1)) for x in xs for c in range(CHANNELS[colour])]
        if depth < 8:
            out, acc, n = bytearray(), 0, 0
            for s in samples:
                acc, n = (acc << depth) | s, n + depth
                if n == 8:
                    out.append(acc)
                    acc, n = 0, 0
            if n:
                out.append(acc << (8 - n))
            data = bytes(out)
        elif depth == 8:
            data = bytes(samples)
        else:
            data = b"".join(struct.pack(">H", s * 257 % 65536) for s in samples)
        assert len(data) == (len(xs) * bits + 7) // 8
        return bytes([filter_type]) + data

    if not interlaced:
        return b"".join(row(y, range(width)) for y in range(height))
    out = b""
    for x0, y0, dx, dy in ADAM7:
        xs = range(x0, width, dx)
        if len(xs) == 0:
            continue
        out += b"".join(row(y, xs) for y in range(y0, height, dy))
    return out


def png(width, height, colour, depth, interlaced=False, filter_type=0, before=(), after=(), idat_split=1):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, int(interlaced))
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, data in before:
        body += chunk(kind, data)
    if colour == 3:
        body += chunk(b"PLTE", bytes(range(48)))
    z = zlib.compress(scanlines(width, height, colour, depth, interlaced, filter_type), 9)
    step = -(-len(z) // idat_split)
    for i in range(0, len(z), step):
        body += chunk(b"IDAT", z[i : i + step])
    for kind, data in after:
        body += chunk(kind, data)
    return body + chunk(b"IEND", b"")


def after_plte(image: bytes, kind: bytes, data: bytes) -> bytes:
    """Puts a chunk between PLTE and the first IDAT, where tRNS and bKGD of a palette image must go."""
    at = image.index(b"IDAT") - 4
    return image[:at] + chunk(kind, data) + image[at:]


def pngs():
    depths = {0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]}
    for colour, ds in depths.items():
        for depth in ds:
            for interlaced in (False, True):
                yield f"c{colour}-d{depth}-i{int(interlaced)}", png(9, 7, colour, depth, interlaced)
    for f in range(5):
        yield f"filter{f}", png(6, 5, 2, 8, filter_type=f)
        yield f"filter{f}-grey16", png(6, 5, 0, 16, filter_type=f)
    yield "idat-split", png(12, 12, 6, 8, idat_split=4)
    yield "trns-grey", png(5, 5, 0, 8, before=[(b"tRNS", struct.pack(">H", 3))])
    yield "trns-rgb", png(5, 5, 2, 8, before=[(b"tRNS", struct.pack(">HHH", 1, 2, 3))])
    yield "trns-palette", after_plte(png(5, 5, 3, 8), b"tRNS", bytes([0, 64, 128, 255]))
    yield "bkgd-palette", after_plte(png(5, 5, 3, 4), b"bKGD", b"\x02")
    yield "trns-grey16", png(5, 5, 0, 16, before=[(b"tRNS", struct.pack(">H", 300))])
    yield "trns-rgb16", png(5, 5, 2, 16, before=[(b"tRNS", struct.pack(">HHH", 1, 2, 3))])
    icc = zlib.compress(b"\x00" * 128 + b"acspAPPL" + b"\x00" * 64)
    ancillary = [
        (b"gAMA", struct.pack(">I", 45455)),
        (b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)),
        (b"sRGB", b"\x00"),
        (b"iCCP", b"profile\x00\x00" + icc),
        (b"sBIT", b"\x05\x06\x05"),
        (b"bKGD", struct.pack(">HHH", 10, 20, 30)),
        (b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
        (b"cICP", bytes([1, 13, 0, 1])),
        (b"mDCv", struct.pack(">6HII", 35400, 14600, 8500, 39850, 6550, 2300, 15635, 16450)),
        (b"cLLi", struct.pack(">II", 10000000, 4000000)),
        (b"eXIf", b"MM\x00\x2a\x00\x00\x00\x08\x00\x00"),
        (b"tIME", struct.pack(">HBBBBB", 2026, 11, 27, 5, 30, 0)),
        (b"tEXt", b"Comment\x00a face"),
        (b"zTXt", b"Comment\x00\x00" + zlib.compress(b"a compressed face")),
        (b"iTXt", b"Comment\x00\x00\x00en\x00Comment\x00an international face"),
        (b"iTXt", b"Comment\x00\x01\x00en\x00Comment\x00" + zlib.compress(b"compressed")),
    ]
    for kind, data in ancillary:
        yield f"chunk-{kind.decode()}", png(4, 4, 2, 8, before=[(kind, data)])
    yield "chunk-all", png(4, 4, 2, 8, before=ancillary)
    yield "chunk-after-idat", png(4, 4, 2, 8, after=[(b"tEXt", b"k\x00v"), (b"zTXt", b"k\x00\x00" + zlib.compress(b"v"))])
    yield "chunk-unknown", png(4, 4, 2, 8, before=[(b"prVt", b"private"), (b"vpAg", b"\x00" * 9)])
    # APNG written by Pillow: acTL, fcTL, IDAT, fcTL, fdAT, with dispose and blend options.
    frames = [Image.new("RGBA", (8, 8), (i * 60, 255 - i * 60, 30, 128 + i * 40)) for i in range(3)]
    for dispose in (0, 1, 2):
        for blend in (0, 1):
            out = io.BytesIO()
            frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], duration=[10, 20, 30],
                           loop=2, disposal=dispose, blend=blend)
            yield f"apng-d{dispose}-b{blend}", out.getvalue()
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], default_image=True)
    yield "apng-default-image", out.getvalue()


def pillow(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def sample_image(mode: str, size=(16, 16)) -> Image.Image:
    rgb = Image.new("RGB", size)
    rgb.putdata([((x * 16) % 256, (y * 16) % 256, ((x + y) * 8) % 256) for y in range(size[1]) for x in range(size[0])])
    if mode == "RGBA":
        rgba = rgb.convert("RGBA")
        rgba.putalpha(Image.new("L", size, 100))
        return rgba
    return rgb.convert(mode)


def webps():
    rgb, rgba = sample_image("RGB"), sample_image("RGBA")
    yield "lossy", pillow(rgb, "WEBP", quality=50)
    yield "lossy-alpha", pillow(rgba, "WEBP", quality=50)
    yield "lossy-odd", pillow(sample_image("RGB", (13, 7)), "WEBP", quality=90)
    for method in (0, 3, 6):
        yield f"lossless-m{method}", pillow(rgb, "WEBP", lossless=True, method=method)
        yield f"lossless-alpha-m{method}", pillow(rgba, "WEBP", lossless=True, method=method)
    yield "lossless-palette", pillow(sample_image("P").convert("RGB"), "WEBP", lossless=True)
    yield "metadata", pillow(rgb, "WEBP", icc_profile=b"\x00" * 132, exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00")
    frames = [sample_image("RGBA").rotate(90 * i) for i in range(3)]
    yield "anim-lossy", pillow(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=20, quality=40)
    yield "anim-lossless", pillow(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)


def jpegs():
    rgb = sample_image("RGB", (24, 17))
    for sub in (0, 1, 2):
        yield f"baseline-s{sub}", pillow(rgb, "JPEG", quality=60, subsampling=sub)
        yield f"progressive-s{sub}", pillow(rgb, "JPEG", quality=60, subsampling=sub, progressive=True)
    yield "grey", pillow(rgb.convert("L"), "JPEG", quality=60)
    yield "grey-progressive", pillow(rgb.convert("L"), "JPEG", progressive=True)
    yield "cmyk", pillow(rgb.convert("CMYK"), "JPEG", quality=60)
    yield "optimized", pillow(rgb, "JPEG", optimize=True)
    yield "restart", pillow(rgb, "JPEG", restart_marker_blocks=2)
    yield "restart-progressive", pillow(rgb, "JPEG", restart_marker_rows=1, progressive=True)
    yield "icc-exif", pillow(rgb, "JPEG", icc_profile=b"\x00" * 132, exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00", comment=b"a face")
    yield "quality100", pillow(rgb, "JPEG", quality=100)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for ext, seeds in (("png", pngs()), ("webp", webps()), ("jpg", jpegs())):
        for name, data in seeds:
            (out / f"seed-{name}.{ext}").write_bytes(data)
            count += 1
    print(f"{count} seeds in {out}")


if __name__ == "__main__":
    main()
