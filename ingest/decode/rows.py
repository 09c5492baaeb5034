"""Decode a batch of raw message values into lake rows; name each message that cannot become one.

The fast paths decode whole batches at once (:mod:`smartcity.ingest.decode.wire` for Protobuf, Arrow's
JSON reader for JSON). Messages they reject are decoded one at a time with the codec, which
either recovers them or gives the exact reason they go to the dead-letter topic.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from smartcity.core.errors import DecodeError
from smartcity.ingest.decode.wire import WireDecoder
from smartcity.proto.codec import Codec, Encoding, Headers, codec_for, encoding_from_headers, enum_names
from smartcity.storage.datasets import ABSENT_AS, Dataset, is_optional

JSON_START = ord("{")


@dataclass
class Decoded:
    """Rows decoded from a batch: ``table`` holds the rows of messages ``index`` (ascending);
    ``errors`` maps a message index to why it could not be decoded."""

    table: pa.Table
    index: np.ndarray
    errors: dict[int, str] = field(default_factory=dict)


def message_row(message: Message) -> dict[str, object]:
    """One lake row of a decoded message (optional fields absent -> None, enums by name)."""
    row: dict[str, object] = {}
    for f in cast("list[FieldDescriptor]", message.DESCRIPTOR.fields):  # the C descriptors' stub type
        if is_optional(f) and not message.HasField(f.name):
            row[f.name] = ABSENT_AS.get(f.full_name)
            continue
        value = getattr(message, f.name)
        if f.type == FieldDescriptor.TYPE_ENUM:
            value = enum_names(f).get(value, str(value))
        row[f.name] = value
    return row


@dataclass
class BatchDecoder:
    """Decodes batches of one dataset's messages, Protobuf or JSON, per message as the header says."""

    dataset: Dataset

    @cached_property
    def codec(self) -> Codec[Message]:
        return codec_for(self.dataset.message_type)

    @cached_property
    def wire(self) -> WireDecoder:
        return WireDecoder(self.dataset.descriptor)

    @cached_property
    def _json_schema(self) -> pa.Schema:
        fields = []
        for f in self.dataset.message_schema:
            t = pa.float64() if pa.types.is_floating(f.type) else f.type
            fields.append(pa.field(f.name, t, nullable=True))
        return pa.schema(fields)

    @cached_property
    def _defaults(self) -> dict[str, object]:
        """proto3 defaults of non-optional fields (absent in JSON means default)."""
        out: dict[str, object] = {}
        for f in self.dataset.descriptor.fields:
            if f.full_name in ABSENT_AS:
                out[f.name] = ABSENT_AS[f.full_name]
            elif is_optional(f):
                continue
            elif f.type == FieldDescriptor.TYPE_ENUM:
                out[f.name] = enum_names(f)[0]
            elif f.type in (FieldDescriptor.TYPE_STRING,):
                out[f.name] = ""
            elif f.type == FieldDescriptor.TYPE_BOOL:
                out[f.name] = False
            else:
                out[f.name] = 0
        return out

    def warm_up(self) -> None:
        """Compile (or load from cache) the vectorised decoder before the first real batch."""
        self.wire.decode([b""])

    def decode(self, values: Sequence[bytes | None], encodings: Sequence[Encoding] | None = None,
               headers_of: Callable[[int], Headers] | None = None) -> Decoded:
        """Decode ``values``.

        ``encodings`` gives each message's encoding; without it the fast path recognises JSON by its
        leading ``{`` (no smartcity Protobuf message starts with that byte: it would be field 15 with
        the obsolete group wire type) and ``headers_of(i)``, when given, decides for the messages the
        fast path rejects, so their error names the encoding their ``content-type`` announced.
        """
        n = len(values)
        null_value = np.zeros(n, bool)
        if None in values:
            null_value = np.fromiter((v is None for v in values), bool, count=n)
            clean: Sequence[bytes] = [v if v is not None else b"" for v in values]
        else:
            clean = cast("Sequence[bytes]", values)
        lengths = np.fromiter(map(len, clean), np.int64, count=n)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        buf = np.frombuffer(b"".join(clean), np.uint8)
        if encodings is None:
            first = np.zeros(n, np.uint8)
            nonempty = lengths > 0
            first[nonempty] = buf[starts[nonempty]]
            is_json = first == JSON_START
        else:
            is_json = np.fromiter((e == "json" for e in encodings), bool, count=n)
        tables: list[pa.Table] = []
        indexes: list[np.ndarray] = []
        retry: list[int] = []
        pb_idx = np.nonzero(~is_json & ~null_value)[0]
        if len(pb_idx):
            batch = self.wire.decode_buffer(buf, starts[pb_idx], ends[pb_idx])
            good = ~batch.bad
            if good.all():
                tables.append(batch.table)
            else:
                tables.append(batch.table.filter(pa.array(good)))
            indexes.append(pb_idx[good])
            retry += pb_idx[~good].tolist()
        js_idx = np.nonzero(is_json & ~null_value)[0]
        if len(js_idx):
            table, ok = self._decode_json([clean[i] for i in js_idx.tolist()])
            if table is not None:
                tables.append(table)
                indexes.append(js_idx[ok])
            retry += js_idx[~ok].tolist()
        retry += np.nonzero(null_value)[0].tolist()
        errors: dict[int, str] = {}
        if retry:
            table, idx, errors = self._decode_one_by_one(values, sorted(retry), is_json, headers_of)
            if table is not None:
                tables.append(table)
                indexes.append(idx)
        return self._combine(tables, indexes, errors)

    def _combine(self, tables: list[pa.Table], indexes: list[np.ndarray], errors: dict[int, str]) -> Decoded:
        schema = self.dataset.message_schema
        if not tables:
            return Decoded(schema.empty_table(), np.zeros(0, np.int64), errors)
        index = np.concatenate(indexes).astype(np.int64)
        table = pa.concat_tables([t.cast(schema) for t in tables]) if len(tables) > 1 else tables[0]
        if len(tables) > 1 and not np.all(index[:-1] <= index[1:]):
            order = np.argsort(index, kind="stable")
            table, index = table.take(pa.array(order)), index[order]
        return Decoded(table, index, errors)

    def _decode_json(self, values: list[bytes]) -> tuple[pa.Table | None, np.ndarray]:
        """Whole-batch JSON through Arrow's reader; on any failure fall back to per-message decoding."""
        ok = np.fromiter((b"\n" not in v and b"\r" not in v for v in values), bool, count=len(values))
        lines = [v for v, good in zip(values, ok, strict=True) if good]
        if not lines:
            return None, ok
        try:
            table = pajson.read_json(
                io.BytesIO(b"\n".join(lines)),
                read_options=pajson.ReadOptions(block_size=max(1 << 20, 2 * sum(map(len, lines)))),
                parse_options=pajson.ParseOptions(explicit_schema=self._json_schema,
                                                  unexpected_field_behavior="ignore"),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None, np.zeros(len(values), bool)
        if table.num_rows != len(lines):
            return None, np.zeros(len(values), bool)
        table = table.select(self._json_schema.names)
        columns = []
        for f, column in zip(self.dataset.message_schema, table.columns, strict=True):
            if f.name in self._defaults:
                column = pc.fill_null(column, pa.scalar(self._defaults[f.name], type=column.type))
            columns.append(column.cast(f.type))
        return pa.Table.from_arrays(columns, schema=self.dataset.message_schema), ok

    def _decode_one_by_one(self, values: Sequence[bytes | None], idx: list[int], is_json: np.ndarray,
                           headers_of: Callable[[int], Headers] | None,
                           ) -> tuple[pa.Table | None, np.ndarray, dict[int, str]]:
        rows: list[dict[str, object]] = []
        good: list[int] = []
        errors: dict[int, str] = {}
        for i in idx:
            try:
                encoding: Encoding = "json" if is_json[i] else "protobuf"
                if headers_of is not None:
                    headers = headers_of(i)
                    if headers:
                        encoding = encoding_from_headers(headers)
                message = self.codec.decode_as(values[i], encoding)
            except DecodeError as exc:
                errors[i] = str(exc)
                continue
            rows.append(message_row(message))
            good.append(i)
        if not rows:
            return None, np.zeros(0, np.int64), errors
        return pa.Table.from_pylist(rows, schema=self.dataset.message_schema), np.array(good, np.int64), errors
