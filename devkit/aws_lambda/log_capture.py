"""What a runtime process writes to its log: stdout, stderr, and the framed telemetry log.

Lambda hands the runtime a file descriptor in _LAMBDA_TELEMETRY_LOG_FD. awslambdaric then
writes each record of its root log handler (and its own error reports) to it as one frame,
big-endian:

    frame type (4 bytes) | length (4 bytes) | timestamp, epoch microseconds (8 bytes) | message

The frame type says the record's format and level: 0xA55A0002 + 4 * n for JSON and
0xA55A0003 + 4 * n for text, n = 0 (none), 2 DEBUG, 3 INFO, 4 WARN, 5 ERROR, 6 FATAL
(awslambdaric/lambda_runtime_log_utils.py). Each frame is one log event in CloudWatch, so a
multi-line message stays one record. What the process prints to stdout/stderr goes to the log
line by line, as in Lambda.

`LogCapture.drain()` returns what was written since the last drain. Call it while the writer
is idle (the runtime blocked on its next invocation, or dead): it reads every pipe until it is
empty, so nothing written before the call is left behind, without waiting for time.
"""

from __future__ import annotations

import os
import selectors
import threading
from dataclasses import dataclass

FRAME_MAGIC = 0xA55A0000
_LEVELS = {0: "", 2: "DEBUG", 3: "INFO", 4: "WARN", 5: "ERROR", 6: "FATAL"}
HEADER_BYTES = 16


@dataclass(frozen=True)
class LogRecord:
    source: str  # "telemetry" | "stdout" | "stderr"
    text: str  # the record, without its final newline
    format: str = "text"  # "json" | "text": what the frame type says (stdout/stderr: "text")
    level: str = ""  # the frame type's level (telemetry only)
    timestamp_us: int = 0  # the frame's timestamp (telemetry only)


def decode_frame_type(frame_type: int) -> tuple[str, str]:
    """(format, level) of a telemetry frame type; ValueError for anything else."""
    if frame_type & 0xFFFFFF00 != FRAME_MAGIC:
        raise ValueError(f"not a telemetry log frame type: {frame_type:#010x}")
    level, kind = divmod((frame_type & 0xFF) - 2, 4)
    if kind not in (0, 1) or level not in _LEVELS:
        raise ValueError(f"unknown telemetry log frame type: {frame_type:#010x}")
    return ("json" if kind == 0 else "text"), _LEVELS[level]


class FrameDecoder:
    """Telemetry frames from a byte stream that may arrive in pieces."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[LogRecord]:
        self._buffer += data
        records = []
        while len(self._buffer) >= HEADER_BYTES:
            frame_type = int.from_bytes(self._buffer[0:4], "big")
            length = int.from_bytes(self._buffer[4:8], "big")
            if len(self._buffer) < HEADER_BYTES + length:
                break
            timestamp = int.from_bytes(self._buffer[8:16], "big")
            message = bytes(self._buffer[HEADER_BYTES : HEADER_BYTES + length])
            del self._buffer[: HEADER_BYTES + length]
            format_, level = decode_frame_type(frame_type)
            text = message.decode("utf-8", errors="replace").removesuffix("\n")
            records.append(LogRecord("telemetry", text, format_, level, timestamp))
        return records

    @property
    def pending(self) -> int:
        return len(self._buffer)


class LineDecoder:
    """Lines of a text stream (stdout or stderr)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[LogRecord]:
        self._buffer += data
        *lines, rest = self._buffer.split(b"\n")
        self._buffer = bytearray(rest)
        return [LogRecord(self.source, line.decode("utf-8", errors="replace")) for line in lines]

    def flush(self) -> list[LogRecord]:
        """The last line when the stream ended without a newline."""
        rest, self._buffer = bytes(self._buffer), bytearray()
        return [LogRecord(self.source, rest.decode("utf-8", errors="replace"))] if rest else []


class LogCapture:
    """Reads the three streams of one process on a thread of its own."""

    def __init__(self, stdout: int, stderr: int, telemetry: int) -> None:
        self._decoders: dict[int, FrameDecoder | LineDecoder] = {
            stdout: LineDecoder("stdout"),
            stderr: LineDecoder("stderr"),
            telemetry: FrameDecoder(),
        }
        for fd in self._decoders:
            os.set_blocking(fd, False)
        self._wake_r, self._wake_w = os.pipe()
        self._lock = threading.Lock()
        self._records: list[LogRecord] = []
        self._requests: list[threading.Event] = []
        self._open = set(self._decoders)
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-capture", daemon=True)
        self._thread.start()

    def drain(self) -> list[LogRecord]:
        """Everything written so far (and not yet returned), in the order it was read."""
        done = threading.Event()
        with self._lock:
            if self._ended.is_set():
                done.set()
            else:
                self._requests.append(done)
        if not done.is_set():
            os.write(self._wake_w, b"d")
            done.wait()
        with self._lock:
            records, self._records = self._records, []
        return records

    def finish(self, timeout_s: float = 30.0) -> list[LogRecord]:
        """Once the process is gone: read to the end of every stream, then stop."""
        if not self._ended.wait(timeout_s):
            raise RuntimeError("the runtime's output did not end (is a child process still holding it?)")
        self._thread.join()
        with self._lock:
            records, self._records = self._records, []
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        return records

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_r, selectors.EVENT_READ)
            for fd in self._decoders:
                selector.register(fd, selectors.EVENT_READ)
            while self._open:
                for key, _ in selector.select():
                    fd = int(key.fd)
                    if fd == self._wake_r:
                        os.read(self._wake_r, 4096)
                        with self._lock:  # these asked before the reads below began
                            requests, self._requests = self._requests, []
                        for stream in list(self._open):
                            self._read(stream, selector)
                        for request in requests:
                            request.set()
                    elif fd in self._open:
                        self._read(fd, selector)
        self._ended.set()
        with self._lock:
            requests, self._requests = self._requests, []
        for request in requests:
            request.set()

    def _read(self, fd: int, selector: selectors.BaseSelector) -> None:
        """Read `fd` until it is empty (or ended)."""
        decoder = self._decoders[fd]
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            if not data:
                selector.unregister(fd)
                self._open.discard(fd)
                os.close(fd)
                tail = decoder.flush() if isinstance(decoder, LineDecoder) else []
                with self._lock:
                    self._records.extend(tail)
                return
            records = decoder.feed(data)
            with self._lock:
                self._records.extend(records)
