#!/usr/bin/env python3
"""Independent reader of TensorBoard event files, for tests: python3 standard library only.

It shares no code with the writer (packages/core/src/tracking): its own CRC32C (Castagnoli,
reflected polynomial 0x82F63B78), its own TFRecord parser that checks both masked CRCs of every
record (tensorboard/summary/writer/record_writer.py), and a minimal protobuf wire-format decoder
for the fields of tensorboard/compat/proto/{event,summary,tensor}.proto that mmft writes.

Usage: python3 scripts/read-tfevents.py FILE_OR_DIR...   -> JSON on stdout, exit 1 on a bad file.
"""
import json
import os
import struct
import sys

_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def records(blob, name):
    at = 0
    while at < len(blob):
        if at + 12 > len(blob):
            raise ValueError('%s: truncated header at byte %d' % (name, at))
        header = blob[at:at + 8]
        (length,) = struct.unpack('<Q', header)
        (length_crc,) = struct.unpack('<I', blob[at + 8:at + 12])
        if length_crc != masked(header):
            raise ValueError('%s: bad length CRC at byte %d' % (name, at))
        data = blob[at + 12:at + 12 + length]
        if len(data) != length or at + 16 + length > len(blob):
            raise ValueError('%s: truncated record at byte %d' % (name, at))
        (data_crc,) = struct.unpack('<I', blob[at + 12 + length:at + 16 + length])
        if data_crc != masked(data):
            raise ValueError('%s: bad data CRC at byte %d' % (name, at))
        yield data
        at += 16 + length


def varint(buf, at):
    shift = 0
    value = 0
    while True:
        b = buf[at]
        at += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, at
        shift += 7


def fields(buf):
    """(field number, wire type, value) triples; value is int, bytes, or raw 4/8 bytes."""
    at = 0
    out = []
    while at < len(buf):
        key, at = varint(buf, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = varint(buf, at)
        elif wire == 1:
            value, at = buf[at:at + 8], at + 8
        elif wire == 2:
            size, at = varint(buf, at)
            value, at = buf[at:at + size], at + size
        elif wire == 5:
            value, at = buf[at:at + 4], at + 4
        else:
            raise ValueError('unsupported wire type %d' % wire)
        out.append((number, wire, value))
    return out


def signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def summary_value(buf):
    value = {}
    for number, _, v in fields(buf):
        if number == 1:
            value['tag'] = v.decode('utf-8')
        elif number == 2:
            value['simple_value'] = struct.unpack('<f', v)[0]
        elif number == 4:
            image = {}
            for n, _, iv in fields(v):
                if n == 1:
                    image['height'] = iv
                elif n == 2:
                    image['width'] = iv
                elif n == 3:
                    image['colorspace'] = iv
                elif n == 4:
                    image['png'] = iv[:8] == b'\x89PNG\r\n\x1a\n'
                    image['bytes'] = len(iv)
            value['image'] = image
        elif number == 8:
            tensor = {'string_val': []}
            for n, _, tv in fields(v):
                if n == 1:
                    tensor['dtype'] = tv
                elif n == 8:
                    tensor['string_val'].append(tv.decode('utf-8'))
            value['tensor'] = tensor
        elif number == 9:
            for n, _, mv in fields(v):
                if n == 1:
                    for pn, _, pv in fields(mv):
                        if pn == 1:
                            value['plugin_name'] = pv.decode('utf-8')
    return value


def event(buf):
    ev = {'step': 0}
    for number, _, v in fields(buf):
        if number == 1:
            ev['wall_time'] = struct.unpack('<d', v)[0]
        elif number == 2:
            ev['step'] = signed64(v)
        elif number == 3:
            ev['file_version'] = v.decode('utf-8')
        elif number == 5:
            ev['values'] = [summary_value(sv) for n, _, sv in fields(v) if n == 1]
    return ev


def main(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.startswith('events.out.tfevents.'))
        else:
            files.append(p)
    out = []
    for f in files:
        with open(f, 'rb') as handle:
            blob = handle.read()
        out.append({'file': os.path.basename(f), 'events': [event(r) for r in records(blob, f)]})
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    try:
        main(sys.argv[1:])
    except (ValueError, OSError) as error:
        sys.stderr.write('read-tfevents: %s\n' % error)
        sys.exit(1)
