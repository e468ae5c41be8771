#!/usr/bin/env python3
"""Writes the zip-bomb fixtures of the upload tests (run from this folder).

bomb-1gib.xlsx: an XLSX-shaped zip whose sheet inflates to 1 GiB of spaces (about 1 MB on disk).
bomb-1gib-lying-sizes.xlsx: the same, its headers claiming the sheet inflates to 1 000 bytes.
"""
import io
import struct
import zipfile

SHEET = b"xl/worksheets/sheet1.xml"


def bomb():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        with z.open(SHEET.decode(), "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(1024):
                f.write(chunk)
    return bytearray(buf.getvalue())


def lie(data):
    """Rewrites the sheet's uncompressed size to 1 000 in the local and central headers."""
    i = 0
    while (i := data.find(b"PK\x03\x04", i)) >= 0:
        n, e = struct.unpack("<HH", data[i + 26:i + 30])
        if bytes(data[i + 30:i + 30 + n]) == SHEET:
            data[i + 22:i + 26] = struct.pack("<I", 1000)
            ex = i + 30 + n
            if e >= 20 and data[ex:ex + 2] == b"\x01\x00":
                data[ex + 4:ex + 12] = struct.pack("<Q", 1000)
        i += 4
    i = 0
    while (i := data.find(b"PK\x01\x02", i)) >= 0:
        n, e = struct.unpack("<HH", data[i + 28:i + 32])
        if bytes(data[i + 46:i + 46 + n]) == SHEET:
            if data[i + 24:i + 28] != b"\xff\xff\xff\xff":
                data[i + 24:i + 28] = struct.pack("<I", 1000)
            ex = i + 46 + n
            if e >= 12 and data[ex:ex + 2] == b"\x01\x00":
                data[ex + 4:ex + 12] = struct.pack("<Q", 1000)
        i += 4
    return data


open("bomb-1gib.xlsx", "wb").write(bytes(bomb()))
open("bomb-1gib-lying-sizes.xlsx", "wb").write(bytes(lie(bomb())))
