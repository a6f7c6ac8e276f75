"""Lines from standard input without a blocked thread, for `wam chat`.

`input()` in a worker thread keeps a stopped process alive until the next line comes (and a daemon
thread holding stdin's lock aborts interpreter shutdown). Here the event loop waits for stdin to be
readable and reads it with `os.read`, so stopping the process (Ctrl-C, SIGTERM, the local stack's
owner going away) ends the chat at once.
"""

from __future__ import annotations

import asyncio
import os
import sys


class StdinLines:
    """`await lines.read_line("you> ")`: one line without its newline; EOFError at the end."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._buffer = b""

    async def read_line(self, prompt: str) -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        while b"\n" not in self._buffer:
            await self._readable()
            chunk = os.read(self.fd, 65536)
            if not chunk:
                if not self._buffer:
                    raise EOFError
                line, self._buffer = self._buffer, b""
                return line.decode(errors="replace")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode(errors="replace").removesuffix("\r")

    async def _readable(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        try:
            loop.add_reader(self.fd, wake)
        except (OSError, ValueError, NotImplementedError):
            return  # a regular file (`wam chat < lines.txt`): reads never block
        try:
            await ready
        finally:
            loop.remove_reader(self.fd)
