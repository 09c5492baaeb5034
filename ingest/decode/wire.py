"""A vectorised decoder of the Protobuf wire format for flat messages (NumPy, no per-message Python).

All messages of a batch are concatenated into one byte buffer. One pass per field occurrence
walks every message's cursor at once: read the tag varint, skip the value by wire type, and
remember where the last value of each known field starts. Then each column is decoded in one
vectorised step from those positions: varints, fixed 32/64-bit values, and strings gathered
straight into an Arrow string array. Semantics follow proto3 parsing: the last occurrence of a
field wins, unknown fields and fields with an unexpected wire type are skipped, absent fields
take their default (or null, for ``optional`` fields). Messages that are not valid wire format
(truncated, bad varints, illegal wire types, lengths beyond the message, invalid UTF-8) are
reported in the ``bad`` mask so the caller can decode them one by one for an exact reason (so are
the rare messages that repeat a string field, whose earlier values the reference parser also checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from numba import njit

from smartcity.proto.codec import enum_names
from smartcity.storage.datasets import ABSENT_AS, is_optional, message_schema

Array = npt.NDArray[Any]

_VARINT_TYPES = {
    FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_BOOL, FieldDescriptor.TYPE_ENUM,
}
_WIRE_TYPE = {
    **dict.fromkeys(_VARINT_TYPES, 0),
    FieldDescriptor.TYPE_DOUBLE: 1, FieldDescriptor.TYPE_FIXED64: 1, FieldDescriptor.TYPE_SFIXED64: 1,
    FieldDescriptor.TYPE_STRING: 2, FieldDescriptor.TYPE_BYTES: 2,
    FieldDescriptor.TYPE_FLOAT: 5, FieldDescriptor.TYPE_FIXED32: 5, FieldDescriptor.TYPE_SFIXED32: 5,
}


MAX_FIELD_NUMBER = 536_870_911  # 2**29 - 1: larger tags are invalid wire format


@njit(cache=True, nogil=True)
def _varint(buf: Array, p: int, end: int) -> tuple[Any, int]:  # pragma: no cover - compiled
    """The varint at ``buf[p]``: (value, position after it); position -1 when it is malformed
    (runs past ``end`` or over 10 bytes)."""
    value = np.uint64(0)
    shift = 0
    while p < end and shift <= 63:
        b = buf[p]
        p += 1
        value |= np.uint64(b & 0x7F) << np.uint64(shift)
        if b < 0x80:
            return value, p
        shift += 7
    return value, -1


@njit(cache=True, nogil=True)
def _scan(buf: Array, starts: Array, ends: Array, index_lut: Array, wire_lut: Array,  # pragma: no cover - compiled
          vals: Array, lens: Array, bad: Array) -> None:
    """Walk every message once. For each known field with the expected wire type, keep the last
    occurrence: varints as their value, fixed 64/32-bit values as their bits, length-delimited values
    as (start, length). ``lens`` stays -1 for absent fields."""
    top = index_lut.shape[0] - 1
    nf = vals.shape[0]
    v_row = np.zeros(nf, np.uint64)
    l_row = np.full(nf, -1, np.int64)
    for m in range(starts.shape[0]):
        p = starts[m]
        end = ends[m]
        ok = True
        for k in range(nf):
            l_row[k] = -1
        while p < end:
            tag, p = _varint(buf, p, end)
            if p < 0:
                ok = False
                break
            wt = int(tag & np.uint64(7))
            number = tag >> np.uint64(3)
            if number == np.uint64(0) or number > np.uint64(MAX_FIELD_NUMBER):
                ok = False
                break
            f = int(min(number, np.uint64(top)))
            fi = index_lut[f]
            keep = fi >= 0 and wire_lut[f] == wt
            if wt == 0 or wt == 2:
                v, p = _varint(buf, p, end)
                if p < 0:
                    ok = False
                    break
                if wt == 0:
                    if keep:
                        v_row[fi] = v
                        l_row[fi] = 0
                else:
                    if v > np.uint64(end - p):
                        ok = False
                        break
                    if keep:
                        if l_row[fi] >= 0:
                            # a repeated string field: every occurrence must be valid UTF-8, but only the
                            # last is kept here; let the reference parser judge the message
                            ok = False
                            break
                        v_row[fi] = np.uint64(p)
                        l_row[fi] = np.int64(v)
                    p += np.int64(v)
            elif wt == 1 or wt == 5:
                width = 8 if wt == 1 else 4
                if p + width > end:
                    ok = False
                    break
                if keep:
                    bits = np.uint64(0)
                    for k in range(width):
                        bits |= np.uint64(buf[p + k]) << np.uint64(8 * k)
                    v_row[fi] = bits
                    l_row[fi] = width
                p += width
            else:
                ok = False
                break
        if not ok:
            bad[m] = True
        else:
            for k in range(nf):
                if l_row[k] >= 0:
                    vals[k, m] = v_row[k]
                    lens[k, m] = l_row[k]


@njit(cache=True, nogil=True)
def _gather(buf: Array, starts: Array, sizes: Array, offsets: Array, out: Array) -> None:  # pragma: no cover - compiled
    for i in range(starts.shape[0]):
        n = sizes[i]
        if n > 0:
            s = starts[i]
            o = offsets[i]
            for k in range(n):
                out[o + k] = buf[s + k]


@dataclass(frozen=True)
class DecodedBatch:
    table: pa.Table        # one row per input message (rows of bad messages hold defaults)
    bad: np.ndarray        # bool per message: not valid wire format / UTF-8


@dataclass(frozen=True)
class WireDecoder:
    """Decoder for one flat message type."""

    descriptor: Descriptor

    @cached_property
    def fields(self) -> list[FieldDescriptor]:
        return sorted(self.descriptor.fields, key=lambda f: f.number)

    @cached_property
    def schema(self) -> pa.Schema:
        return message_schema(self.descriptor)

    @cached_property
    def _luts(self) -> tuple[np.ndarray, np.ndarray]:
        top = max(f.number for f in self.fields) + 2
        index = np.full(top, -1, np.int64)
        wire = np.full(top, -1, np.int64)
        for i, f in enumerate(self.fields):
            index[f.number] = i
            wire[f.number] = _WIRE_TYPE[f.type]
        return index, wire

    def decode(self, values: list[bytes]) -> DecodedBatch:
        n = len(values)
        lengths = np.fromiter(map(len, values), np.int64, count=n)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        return self.decode_buffer(np.frombuffer(b"".join(values), np.uint8), starts, ends)

    def decode_buffer(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> DecodedBatch:
        """Decode the messages ``buf[starts[i]:ends[i]]``."""
        n = len(starts)
        index_lut, wire_lut = self._luts
        nf = len(self.fields)
        vals_by_field = np.zeros((nf, n), np.uint64)
        lens_by_field = np.full((nf, n), -1, np.int64)
        bad = np.zeros(n, np.bool_)
        _scan(buf, starts, ends, index_lut, wire_lut, vals_by_field, lens_by_field, bad)
        if bad.any():
            lens_by_field[:, bad] = -1
            vals_by_field[:, bad] = 0
        arrays = []
        for i, f in enumerate(self.fields):
            arr, utf8_bad = self._column(f, buf, vals_by_field[i], lens_by_field[i])
            arrays.append(arr)
            if utf8_bad is not None:
                bad |= utf8_bad
        return DecodedBatch(pa.Table.from_arrays(arrays, schema=self.schema), bad)

    def _column(self, f: FieldDescriptor, buf: np.ndarray, raw: np.ndarray,
                lens: np.ndarray) -> tuple[pa.Array, np.ndarray | None]:
        present = lens >= 0
        nullable = is_optional(f) and f.full_name not in ABSENT_AS
        mask = ~present if nullable else None
        t = f.type
        if t == FieldDescriptor.TYPE_STRING or t == FieldDescriptor.TYPE_BYTES:
            return self._strings(f, buf, raw.astype(np.int64), np.maximum(lens, 0), mask)
        if t == FieldDescriptor.TYPE_ENUM:
            return self._enum(f, raw.view(np.int64).astype(np.int32), present), None
        if t in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
            data = raw.view(np.int64).astype(np.int32 if t == FieldDescriptor.TYPE_INT32 else np.int64)
        elif t == FieldDescriptor.TYPE_BOOL:
            data = raw != 0
        elif t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
            data = raw.astype(np.uint32)
        elif t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
            data = raw
        elif t == FieldDescriptor.TYPE_DOUBLE:
            data = raw.view(np.float64)
        elif t == FieldDescriptor.TYPE_SFIXED64:
            data = raw.view(np.int64)
        elif t == FieldDescriptor.TYPE_FLOAT:
            data = raw.astype(np.uint32).view(np.float32)
        elif t == FieldDescriptor.TYPE_SFIXED32:
            data = raw.astype(np.uint32).view(np.int32)
        else:  # pragma: no cover - sint32/sint64 (zigzag) are not used by smartcity schemas
            raise TypeError(f"{f.full_name}: unsupported field type {t}")
        return pa.array(data, mask=mask), None

    def _strings(self, f: FieldDescriptor, buf: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
                 mask: np.ndarray | None) -> tuple[pa.Array, np.ndarray | None]:
        n = len(sizes)
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        total = int(offsets[-1])
        data = np.empty(total, np.uint8)
        _gather(buf, starts, sizes, offsets, data)
        is_string = f.type == FieldDescriptor.TYPE_STRING
        if total >= 2**31:
            arrow_type = pa.large_string() if is_string else pa.large_binary()
            offs = offsets
        else:
            arrow_type = pa.string() if is_string else pa.binary()
            offs = offsets.astype(np.int32)
        validity = None if mask is None else pa.array(~mask).buffers()[1]
        arr = pa.Array.from_buffers(arrow_type, n, [validity, pa.py_buffer(offs), pa.py_buffer(data)])
        if not is_string:
            return arr, None
        try:
            arr.validate(full=True)
            return arr, None
        except pa.ArrowInvalid:
            raw = data.tobytes()
            texts: list[str] = []
            utf8_bad = np.zeros(n, bool)
            for i in range(n):
                try:
                    texts.append(raw[offsets[i]:offsets[i + 1]].decode("utf-8"))
                except UnicodeDecodeError:
                    utf8_bad[i] = True
                    texts.append("")
            return pa.array(texts, type=pa.string()), utf8_bad

    def _enum(self, f: FieldDescriptor, numbers: np.ndarray, present: np.ndarray) -> pa.Array:
        names = list(enum_names(f).values())
        known = {number: i for i, number in enumerate(enum_names(f))}
        dictionary = list(names)
        indices = np.full(len(numbers), -1, np.int32)
        top = max(known) + 1
        lut = np.full(top, -1, np.int32)
        for number, i in known.items():
            if number >= 0:
                lut[number] = i
        in_range = (numbers >= 0) & (numbers < top)
        indices[in_range] = lut[numbers[in_range]]
        unknown = indices < 0
        if unknown.any():  # open enums: keep the number as text
            extra, inverse = np.unique(numbers[unknown], return_inverse=True)
            indices[unknown] = len(dictionary) + inverse
            dictionary += [str(int(x)) for x in extra]
        absent = ABSENT_AS.get(f.full_name)
        if absent is not None and (~present).any():
            indices[~present] = names.index(absent)
        mask = None
        if is_optional(f) and absent is None:
            mask = pa.array(~present)
        out = pa.array(dictionary, pa.string()).take(pa.array(indices))
        if mask is not None:
            out = pa.compute.if_else(mask, pa.scalar(None, pa.string()), out)
        return out
