"""Reference reader for kd labelled datasets (pyarrow + numpy only).

Decodes a dataset folder written by `kd label` (or merged by `kd merge`) exactly as
packages/codec-parquet/README.md ("The schema") specifies: probabilities (u8-log, u16-log,
u16-linear), ids (context-huffman, format version 2; rank-rice, version 1), tail mass, and the text and token spans rebuilt from the unit
table. It checks each part's sha256 against manifest.json before decoding it.

    from read_kd import read_dataset
    for doc in read_dataset("out/dev-labels"):
        doc["text"], doc["token_ids"], doc["offsets"]        # str, int64[T], int64[T, 2]
        doc["row_offsets"], doc["ids"], doc["probs"]          # int64[R+1], int64[E], float32[E]
        doc["tail_mass"]                                     # float32[R]; row r: [row_offsets[r], row_offsets[r+1])

Row r is the teacher's distribution over the token after position r (position r's prediction).
Run as a script to print a summary: python read_kd.py DATASET_DIR
"""
import base64
import hashlib
import json
import os
import sys

import numpy as np
import pyarrow.parquet as pq

FORMAT_VERSIONS = (1, 2)


def decode_probs(data: bytes, kept: int, scheme: str) -> np.ndarray:
    """The `probs` value of one row: `kept` probabilities, descending."""
    if scheme == "u8-log":
        codes = np.cumsum(np.frombuffer(data, dtype=np.uint8, count=kept).astype(np.int64))
        return np.exp2(-codes * 20.0 / 255.0).astype(np.float32)
    values = np.frombuffer(data, dtype="<u2", count=kept).astype(np.int64)
    if scheme == "u16-log":
        return np.exp2(-np.cumsum(values) * 32.0 / 65535.0).astype(np.float32)
    if scheme == "u16-linear":
        # First value the code, later values the decrease from the previous code.
        codes = values[0] - np.concatenate(([0], np.cumsum(values[1:])))
        return (codes / 65535.0).astype(np.float32)
    raise ValueError(f"unknown quantization {scheme!r}")


def decode_ids(data: bytes, kept: int, ranking: np.ndarray) -> np.ndarray:
    """The `ids` value of one row (rank-rice): 5 bits b, then per id its rank as
    (rank >> b) one-bits, a zero-bit and the low b bits; most significant bit first."""
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    b = int(bits[0]) << 4 | int(bits[1]) << 3 | int(bits[2]) << 2 | int(bits[3]) << 1 | int(bits[4])
    pos = 5
    ranks = np.empty(kept, dtype=np.int64)
    for i in range(kept):
        quotient = 0
        while bits[pos]:
            quotient += 1
            pos += 1
        pos += 1  # the zero-bit
        low = 0
        for _ in range(b):
            low = (low << 1) | int(bits[pos])
            pos += 1
        ranks[i] = (quotient << b) | low
    return ranking[ranks]


def decode_ranking(text: str) -> np.ndarray:
    """`kd.id_ranking` of format version 2: base64 of LEB128 varints, runs of ascending ids."""
    data = base64.b64decode(text, validate=True)
    at = 0

    def varint() -> int:
        nonlocal at
        value, shift = 0, 0
        while True:
            byte = data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    ids = []
    for _ in range(varint()):
        n = varint()
        current = varint()
        ids.append(current)
        for _ in range(n - 1):
            current += varint() + 1
            ids.append(current)
    return np.asarray(ids, dtype=np.int64)


def code_table(lengths: list) -> dict:
    """Canonical Huffman codes (DEFLATE's assignment) of `idCodeLengths`: (length, code) -> symbol."""
    count = [0] * 17
    for length in lengths:
        if length:
            count[length] += 1
    next_code, code = [0] * 17, 0
    for bits in range(1, 16):
        code = (code + count[bits - 1]) << 1
        next_code[bits] = code
    table = {}
    for symbol, length in enumerate(lengths):
        if length:
            table[(length, next_code[length])] = symbol
            next_code[length] += 1
    return table


def decode_ids_context(data: bytes, kept: int, reference: np.ndarray, table: dict, ranking: np.ndarray) -> np.ndarray:
    """The `ids` value of one row (context-huffman): per id a code; symbol s < 64 is entry s of
    the reference row, 64 + b an escape followed by b bits e, rank 2^b - 1 + e in the ranking."""
    bit = 0

    def read(width: int) -> int:
        nonlocal bit
        value = 0
        for _ in range(width):
            value = (value << 1) | ((data[bit >> 3] >> (7 - (bit & 7))) & 1)
            bit += 1
        return value

    ids = np.empty(kept, dtype=np.int64)
    for i in range(kept):
        code, length = 0, 0
        while (length, code) not in table:
            if length == 15:
                raise ValueError("ids: a bit pattern that is no id code")
            code = (code << 1) | read(1)
            length += 1
        symbol = table[(length, code)]
        if symbol < 64:
            ids[i] = reference[symbol]
        else:
            b = symbol - 64
            ids[i] = ranking[(1 << b) - 1 + read(b)]
    return ids


def read_manifest(folder: str) -> dict:
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("formatVersion") not in FORMAT_VERSIONS:
        raise ValueError(f"{folder}: format version {manifest.get('formatVersion')!r}, this reader reads {FORMAT_VERSIONS}")
    if not manifest.get("complete"):
        raise ValueError(f"{folder}: the dataset is incomplete (its labelling run was not finished)")
    return manifest


def read_part(path: str, expected_sha256: str | None = None):
    """Yields the documents of one part file, in corpus order."""
    if expected_sha256 is not None:
        with open(path, "rb") as f:
            found = hashlib.sha256(f.read()).hexdigest()
        if found != expected_sha256:
            raise ValueError(f"{path}: sha256 {found}, the manifest says {expected_sha256}")
    file = pq.ParquetFile(path)
    meta = {k.decode(): v.decode() for k, v in (file.schema_arrow.metadata or {}).items()}
    fmt = json.loads(meta["kd.format"])
    if fmt["idPacking"] not in ("rank-rice", "context-huffman"):
        raise ValueError(f"{path}: id packing {fmt['idPacking']!r} is not known to this reader")
    context = fmt["idPacking"] == "context-huffman"
    table_of_codes = code_table(fmt["idCodeLengths"]) if context else None
    latest, previous = {}, np.empty(0, dtype=np.int64)  # reference rows: by input token, and the last one
    scheme = fmt["quantization"]
    documents = json.loads(meta["kd.documents"])
    units = json.loads(meta["kd.units"])
    unit_text = dict(zip(units["codes"], units["texts"]))
    ranking = decode_ranking(meta["kd.id_ranking"]) if context else np.asarray(json.loads(meta["kd.id_ranking"]), dtype=np.int64)
    table = file.read().sort_by([("document", "ascending"), ("position", "ascending")])
    columns = {name: table.column(name).to_pylist() for name in ("unit", "gap_unit", "overlap", "kept", "tail_mass", "probs", "ids")}
    token_id = table.column("token_id").to_numpy().astype(np.int64)
    row = 0
    for d, index in enumerate(documents["index"]):
        tokens, rows = documents["tokens"][d], documents["rows"][d]
        text, covered = [], 0  # text as a list of pieces; lengths in UTF-16 code units
        length = 0
        offsets = np.empty((tokens, 2), dtype=np.int64)
        row_offsets = np.zeros(rows + 1, dtype=np.int64)
        ids, probs = [], []
        tail = np.empty(rows, dtype=np.float32)
        for position in range(tokens):
            gap = columns["gap_unit"][row]
            if gap is not None:
                piece = unit_text[gap]
                text.append(piece)
                length += utf16_length(piece)
                covered = length
            unit = unit_text[columns["unit"][row]]
            start = covered - columns["overlap"][row]
            end = start + utf16_length(unit)
            if end > covered:
                text.append(utf16_slice(unit, covered - start))
                length += end - covered
            covered = max(covered, end)
            offsets[position] = (start, end)
            if position < rows:
                kept = columns["kept"][row]
                row_offsets[position + 1] = row_offsets[position] + kept
                if not context:
                    ids.append(decode_ids(columns["ids"][row], kept, ranking))
                elif kept > 0:
                    token = int(token_id[row])
                    row_ids = decode_ids_context(columns["ids"][row], kept, latest.get(token, previous), table_of_codes, ranking)
                    latest[token] = previous = row_ids
                    ids.append(row_ids)
                probs.append(decode_probs(columns["probs"][row], kept, scheme))
                tail[position] = columns["tail_mass"][row] / 65535.0
            row += 1
        trailing = documents["trailingUnit"][d]
        if trailing is not None:
            text.append(unit_text[trailing])
        yield {
            "index": index,
            "id": documents["id"][d],
            "task": documents["task"][d],
            "text": "".join(text),
            "token_ids": token_id[row - tokens:row],
            "offsets": offsets,
            "row_offsets": row_offsets,
            "ids": np.concatenate(ids) if ids else np.empty(0, dtype=np.int64),
            "probs": np.concatenate(probs) if probs else np.empty(0, dtype=np.float32),
            "tail_mass": tail,
        }


def utf16_length(text: str) -> int:
    """Spans count UTF-16 code units (as JavaScript strings do): a character beyond U+FFFF counts 2."""
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def utf16_slice(text: str, start: int) -> str:
    return text.encode("utf-16-le", errors="surrogatepass")[2 * start:].decode("utf-16-le", errors="surrogatepass")


def read_dataset(folder: str, verify: bool = True):
    """Yields every document of a dataset folder (a merged one: member by member)."""
    manifest = read_manifest(folder)
    for part in manifest["parts"]:
        yield from read_part(os.path.join(folder, part["file"]), part["sha256"] if verify else None)


def teacher_targets(doc: dict, vocab_size: int, renormalize: bool = True) -> np.ndarray:
    """Dense [R, vocab_size + 1] targets: the kept probabilities scattered, the tail in the last column."""
    rows = len(doc["tail_mass"])
    dense = np.zeros((rows, vocab_size + 1), dtype=np.float32)
    row_of_entry = np.repeat(np.arange(rows), np.diff(doc["row_offsets"]))
    np.add.at(dense, (row_of_entry, doc["ids"]), doc["probs"])
    dense[:, vocab_size] = doc["tail_mass"]
    if renormalize:  # quantized rows sum to 1 only within the scheme's error (README: "Rows do not sum to 1")
        dense /= dense.sum(axis=1, keepdims=True)
    return dense


if __name__ == "__main__":
    folder = sys.argv[1]
    manifest = read_manifest(folder)
    documents = tokens = entries = 0
    for doc in read_dataset(folder):
        documents += 1
        tokens += len(doc["token_ids"])
        entries += len(doc["ids"])
    print(f"{folder}: {documents} documents, {tokens} tokens, {entries} kept entries; "
          f"teacher {manifest['teacher']['id']}, vocabulary {manifest['vocabSize']}, quantization {manifest['quantization']}")
