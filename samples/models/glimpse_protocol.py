"""Glimpse's model protocol (docs/model-protocol.md), server side, standard library only.

A server calls serve(height, width, channels, class_names, predict): it writes the hello, then
answers each request with predict(n, pixels) where pixels is the request's bytes (n*H*W*C
little-endian float32 in [0, 1], NHWC). predict returns n rows of probabilities (lists, or a
NumPy array), or raises: the exception's message goes back as the error answer and the server
goes on. serve returns when Glimpse closes the server's standard input.
"""
import struct
import sys

VERSION = 1
FLOAT32 = 1


def _read_exactly(stream, count):
    data = bytearray()
    while len(data) < count:
        chunk = stream.read(count - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def hello_bytes(height, width, channels, class_names):
    names = "\n".join(class_names).encode("utf-8")
    return b"GLMH" + struct.pack("<6I", VERSION, height, width, channels, len(class_names),
                                 len(names)) + names


def ok_bytes(rows):
    if hasattr(rows, "astype"):  # a NumPy array
        body = rows.astype("<f4").tobytes()
        n, k = rows.shape
    else:
        n, k = len(rows), len(rows[0]) if rows else 0
        body = struct.pack("<%df" % (n * k), *[v for row in rows for v in row])
    return b"GLMR" + struct.pack("<3I", 0, n, k) + body


def error_bytes(message):
    text = message.replace("\n", " ").encode("utf-8")[:60000]
    return b"GLMR" + struct.pack("<3I", 1, len(text), 0) + text


def serve(height, width, channels, class_names, predict):
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(hello_bytes(height, width, channels, class_names))
    stdout.flush()
    while True:
        header = _read_exactly(stdin, 28)
        if header is None:
            return
        magic = header[:4]
        version, n, h, w, c, dtype = struct.unpack("<6I", header[4:])
        if magic != b"GLMQ" or version != VERSION or dtype != FLOAT32:
            sys.stderr.write("glimpse_protocol: bad request header %r\n" % header[:8])
            sys.exit(2)
        pixels = _read_exactly(stdin, n * h * w * c * 4)
        if pixels is None:
            return
        if (h, w, c) != (height, width, channels):
            answer = error_bytes("expected %dx%dx%d images, got %dx%dx%d"
                                 % (height, width, channels, h, w, c))
        else:
            try:
                answer = ok_bytes(predict(n, pixels))
            except Exception as error:  # the message goes back to Glimpse as one line
                answer = error_bytes("%s: %s" % (type(error).__name__, error))
        stdout.write(answer)
        stdout.flush()
