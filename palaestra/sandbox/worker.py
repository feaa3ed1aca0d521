"""The process inside a sandbox: a persistent Python session driven over one socket.

Standard library only, started by path as ``python -I worker.py CONFIG_JSON``; the channel is the
inherited descriptor ``fd``, or, with ``listen_dir``, the first connection to ``s0.sock`` there.
It never imports palaestra. On start it drops to the sandbox's uid (when started as root), clears
its capabilities, sets no_new_privs and its rlimits, and only then reads requests. Every request is
one frame (`wire.py`) and gets one reply frame:

    run       execute code in the persistent namespace; the last expression's value is returned
    exec      run a shell command in the working directory
    upload    write a file, never following a symbolic link
    download  read a regular file, never following a symbolic link
    fork      os.fork(): the child becomes a new session, with a copy of the working directory,
              and its channel goes to the host as a file descriptor (SCM_RIGHTS); with
              ``listen_dir`` set (Docker) the child listens on a socket there instead
    end       prepare to be killed: remove the working directory, leave the children to the
              kernel to reap

The first frame is the session's hello: its number, working directory and pid (in its pid
namespace). A session reaps the sessions it forked once they end, at its next request.

Output written to file descriptors 1 and 2, by Python or by anything else, is captured through
pipes; a reader thread keeps the head and the tail and counts what it cut.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import socket
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

# ast, linecache, shutil, subprocess and traceback load on first use: start-up time matters.

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402  (next to this file; kept off the code's path and out of its imports)

del sys.path[0]
del sys.modules["wire"]

Reply = tuple[dict[str, Any], bytes, list[int]]
"""A handler's answer: the reply header, a blob, and file descriptors to pass along."""

_PR_SET_NO_NEW_PRIVS = 38
KEEPER_UID = 65534  # "nobody": never a session's uid, so no session can signal the keeper
_PR_SET_CHILD_SUBREAPER = 36
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
_CLOSE_RANGE = 436


class Capture:
    """Everything written to one file descriptor, head and tail kept, the middle counted."""

    def __init__(self, target_fd: int, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self._reset_buffers()
        self.target_fd = target_fd
        self._start()

    def _reset_buffers(self) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def _start(self) -> None:
        read_end, write_end = os.pipe()
        os.dup2(write_end, self.target_fd)
        os.close(write_end)
        os.set_blocking(read_end, False)
        self.read_end = read_end
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def restart_after_fork(self) -> None:
        """Threads do not survive fork: give the child its own pipe and reader."""
        os.close(self.read_end)
        self.lock = threading.Lock()
        self._reset_buffers()
        self._start()

    def _pump(self) -> None:
        read_end = self.read_end
        while True:
            try:
                select.select([read_end], [], [])
            except (OSError, ValueError):
                return
            with self.lock:
                if read_end != self.read_end:
                    return
                if not self._drain():
                    return

    def _drain(self) -> bool:
        """Read what is buffered in the pipe; False once the pipe has no writer left."""
        while True:
            try:
                chunk = os.read(self.read_end, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self._keep(chunk)

    def _keep(self, chunk: bytes) -> None:
        self.total += len(chunk)
        half = self.limit // 2
        if len(self.head) < half:
            take = half - len(self.head)
            self.head += chunk[:take]
            chunk = chunk[take:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > half:
                del self.tail[: len(self.tail) - half]

    def take(self) -> tuple[str, bool]:
        """The output since the last take, and whether some of it was cut."""
        with self.lock:
            self._drain()
            kept = len(self.head) + len(self.tail)
            cut = self.total - kept
            if cut > 0:
                marker = f"\n[... {cut:,} bytes of output cut ...]\n".encode()
                data = bytes(self.head) + marker + bytes(self.tail)
            else:
                data = bytes(self.head) + bytes(self.tail)
            self._reset_buffers()
        return data.decode("utf-8", errors="replace"), cut > 0


class Session:
    """One persistent Python session and its working directory."""

    def __init__(self, config: dict[str, Any], channel: socket.socket) -> None:
        self.config = config
        self.channel = channel
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
        self.cells = 0
        self.running = False
        self.forks: set[int] = set()
        """The sessions this one forked that it has not reaped yet."""
        self.enter_workdir(config["session"], copy_from=None)
        limit = int(config["output_limit"])
        sys.stdout.flush()
        sys.stderr.flush()
        self.captures = (Capture(1, limit), Capture(2, limit))
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        signal.signal(signal.SIGINT, self._interrupt)

    # -------------------------------------------------------------------------- set-up
    def enter_workdir(self, session: int, copy_from: str | None) -> None:
        """Make (or copy) and enter this session's working directory."""
        self.session = session
        self.pid = os.getpid()
        # Orphans of the code's processes come back to this session, so that killing the
        # session's process tree kills them too.
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.workdir = os.path.join(self.config["workdir_root"], str(session))
        if copy_from is not None:
            import shutil

            shutil.copytree(copy_from, self.workdir, symlinks=True)
        else:
            os.makedirs(self.workdir, exist_ok=True)
        os.chdir(self.workdir)
        os.environ["HOME"] = self.workdir
        os.environ["PWD"] = self.workdir
        if sys.path and sys.path[0] != self.workdir:
            sys.path.insert(0, self.workdir)
        if copy_from is not None and copy_from in sys.path:
            sys.path.remove(copy_from)

    def _interrupt(self, signum: int, frame: Any) -> None:
        if self.running:
            raise KeyboardInterrupt("interrupted: the run exceeded its time limit")

    def hello(self) -> None:
        """Announce the session; the credentials let the host learn this process's host pid."""
        header = json.dumps(
            {"op": "hello", "session": self.session, "workdir": self.workdir, "pid": os.getpid()}
        ).encode()
        frame = len(header).to_bytes(4, "big") + (0).to_bytes(4, "big") + header
        credentials = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
        self.channel.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, credentials)])

    # -------------------------------------------------------------------------- the loop
    def serve(self) -> NoReturn:
        """Answer requests until the channel closes."""
        self.hello()
        while True:
            try:
                request, blob = wire.recv_frame(self.channel, int(self.config["max_transfer"]))
            except wire.ChannelClosed:
                os._exit(0)
            self._reap_forks()
            op = request.get("op")
            handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
            if handler is None:
                wire.send_frame(self.channel, {"ok": False, "error": f"unknown op {op!r}"})
                continue
            try:
                reply, data, fds = handler(request, blob)
            except Exception as exc:  # noqa: BLE001 - the host gets every failure as a reply
                reply, data, fds = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}, b"", []
            if fds:
                header = json.dumps(reply).encode()
                prefix = len(header).to_bytes(4, "big") + len(data).to_bytes(4, "big")
                socket.send_fds(self.channel, [prefix + header + data], fds)
                for fd in fds:
                    os.close(fd)
            else:
                wire.send_frame(self.channel, reply, data)

    def _reap_forks(self) -> None:
        """Reap the sessions this one forked that have ended (the code's children are its own)."""
        for pid in list(self.forks):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.forks.discard(pid)

    # -------------------------------------------------------------------------- operations
    def op_ping(self, request: dict[str, Any], blob: bytes) -> Reply:
        """Answer that the session is alive."""
        return {"ok": True, "session": self.session}, b"", []

    def op_run(self, request: dict[str, Any], blob: bytes) -> Reply:
        """Execute code in the namespace; the last expression's value is returned."""
        code = request.get("code")
        if not isinstance(code, str):
            return {"ok": False, "error": "code must be text"}, b"", []
        import ast
        import linecache

        self.cells += 1
        filename = f"<cell {self.cells}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        value = None
        error = None
        started = time.perf_counter()
        try:
            self.running = True
            try:
                tree = ast.parse(code, filename=filename)
                last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
                if last is not None:
                    tree.body.pop()
                exec(compile(tree, filename, "exec"), self.namespace)
                if last is not None:
                    result = eval(
                        compile(ast.Expression(last.value), filename, "eval"), self.namespace
                    )
                    if result is not None:
                        value = _short_repr(result, int(self.config["output_limit"]))
            finally:
                self.running = False
        except BaseException as exc:  # noqa: BLE001 - the code's failures are results
            error = _describe(exc)
        if os.getpid() != self.pid:
            # A process the code forked has finished the code: it must not answer the host.
            os._exit(0)
        duration = time.perf_counter() - started
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, cut_out = self.captures[0].take()
        stderr, cut_err = self.captures[1].take()
        reply = {
            "ok": True,
            "stdout": stdout,
            "stderr": stderr,
            "value": value,
            "error": error,
            "duration_s": duration,
            "truncated": cut_out or cut_err,
        }
        return reply, b"", []

    def op_exec(self, request: dict[str, Any], blob: bytes) -> Reply:
        """Run a shell command in the working directory, killing its group on timeout."""
        command = request.get("cmd")
        timeout = float(request.get("timeout", 30))
        if not isinstance(command, str):
            return {"ok": False, "error": "cmd must be text"}, b"", []
        import subprocess

        started = time.perf_counter()
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=1,
            stderr=2,
            start_new_session=True,
        )
        timed_out = False
        try:
            exit_code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process.pid)
            exit_code = process.wait()
        stdout, cut_out = self.captures[0].take()
        stderr, cut_err = self.captures[1].take()
        return (
            {
                "ok": True,
                "stdout": stdout,
                "stderr": stderr,
                "exit_code": exit_code,
                "timed_out": timed_out,
                "duration_s": time.perf_counter() - started,
                "truncated": cut_out or cut_err,
            },
            b"",
            [],
        )

    def op_upload(self, request: dict[str, Any], blob: bytes) -> Reply:
        """Write the blob to a path, refusing symbolic links."""
        path = self._resolve(request.get("path"))
        mode = int(request.get("mode", 0o644)) & 0o777
        fd = _open_nofollow(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise IsADirectoryError(f"{path} is not a regular file")
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        return {"ok": True, "path": path, "size": len(blob)}, b"", []

    def op_download(self, request: dict[str, Any], blob: bytes) -> Reply:
        """Read a regular file, refusing symbolic links."""
        path = self._resolve(request.get("path"))
        limit = int(self.config["max_transfer"])
        fd = _open_nofollow(path, os.O_RDONLY, 0)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise IsADirectoryError(f"{path} is not a regular file")
            if info.st_size > limit:
                raise ValueError(
                    f"{path} has {info.st_size:,} bytes; the transfer limit is {limit:,}"
                )
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(fd)
        return {"ok": True, "path": path}, b"".join(chunks), []

    def op_fork(self, request: dict[str, Any], blob: bytes) -> Reply:
        """Fork the session; the child answers on a new channel, passed to the host."""
        child_session = int(request["session"])
        listen_dir = self.config.get("listen_dir")
        if listen_dir:
            # For hosts that cannot take a passed descriptor (Docker): the child listens.
            path = os.path.join(listen_dir, f"s{child_session}.sock")
            server = _listen(path)
            pid = self._fork(child_session, lambda: _accept_one(server))
            server.close()
            return {"ok": True, "pid": pid, "listen": path}, b"", []
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

        def connect() -> socket.socket:
            theirs.close()
            return mine

        pid = self._fork(child_session, connect)
        mine.close()
        return {"ok": True, "pid": pid}, b"", [theirs.detach()]

    def _fork(self, child_session: int, connect: Callable[[], socket.socket]) -> int:
        """Fork; the child serves as session ``child_session`` on the channel ``connect`` gives.

        The parent gets the child's pid; the child never returns.
        """
        # Hold the capture locks across fork so that no reader thread owns one in the child.
        for capture in self.captures:
            capture.lock.acquire()
        pid = os.fork()
        for capture in self.captures:
            capture.lock.release()
        if pid:
            self.forks.add(pid)
            return pid
        try:
            os.setsid()
            self.channel.close()
            self.forks = set()
            for capture in self.captures:
                capture.restart_after_fork()
            self.channel = connect()
            self.enter_workdir(child_session, copy_from=self.workdir)
        except BaseException:  # noqa: BLE001 - a child that cannot start must not answer
            os._exit(1)
        self.serve()

    def op_end(self, request: dict[str, Any], blob: bytes) -> Reply:
        """Prepare to be killed: remove the working directory, leave the children to the kernel.

        Reaped by the kernel, none of the processes the host kills next is left a zombie.
        """
        import shutil

        os.chdir("/")
        shutil.rmtree(self.workdir, ignore_errors=True)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        return {"ok": True}, b"", []

    def _resolve(self, path: Any) -> str:
        if not isinstance(path, str) or not path or "\x00" in path:
            raise ValueError("path must be non-empty text")
        return os.path.normpath(os.path.join(self.workdir, path))


def _open_nofollow(path: str, flags: int, mode: int) -> int:
    """Open ``path`` walking from / one component at a time, refusing every symbolic link."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise IsADirectoryError("/ is not a regular file")
    directory = os.open("/", os.O_PATH | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory)
            except NotADirectoryError:
                raise PermissionError(
                    f"{part!r} in {path} is a symbolic link or not a directory"
                ) from None
            os.close(directory)
            directory = child
        try:
            return os.open(parts[-1], flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=directory)
        except OSError as exc:
            if exc.errno == 40:  # ELOOP: the last component is a symbolic link
                raise PermissionError(
                    f"{path} is a symbolic link; links are never followed"
                ) from None
            raise
    finally:
        os.close(directory)


def _short_repr(value: Any, limit: int) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001
        text = f"<repr failed: {type(exc).__name__}: {exc}>"
    if len(text) > limit:
        text = (
            text[: limit // 2]
            + f" [... {len(text) - limit:,} characters cut ...] "
            + text[-limit // 2 :]
        )
    return text


def _describe(exc: BaseException) -> dict[str, str]:
    """The exception as the code's author should see it: the worker's own frames left out."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    lines = (
        ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    )
    lines += traceback.format_exception_only(type(exc), exc)
    return {"type": type(exc).__name__, "message": str(exc), "traceback": "".join(lines)}


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _listen(path: str) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    return server


def _accept_one(server: socket.socket) -> socket.socket:
    """The host's connection; the listening socket and its path go away at once."""
    channel, _ = server.accept()
    os.unlink(server.getsockname())
    server.close()
    os.set_inheritable(channel.fileno(), False)
    return channel


def _drop_privileges(config: dict[str, Any]) -> None:
    uid, gid = config.get("uid"), config.get("gid")
    if os.getuid() == 0 and uid is not None and gid is not None:
        os.setgroups([])
        os.setgid(int(gid))
        os.setuid(int(uid))
    libc = ctypes.CDLL(None, use_errno=True)
    number = _SYS_CAPSET.get(os.uname().machine)
    if number is not None:
        # Clear inheritable (and any remaining) capabilities: header v3, two empty data blocks.
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        libc.syscall(number, header, data)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def _apply_rlimits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        kind = getattr(resource, f"RLIMIT_{name}")
        _, hard = resource.getrlimit(kind)
        target = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (target, target))


def _keep_the_sandbox_alive(config: dict[str, Any]) -> None:
    """Fork: the parent stays as the sandbox's first process, so that it outlives any session.

    bubblewrap ends the sandbox when its first process exits; sessions come and go (forks,
    closes), so the first process must be one that only waits. The child returns, still
    privileged, to become session 0. The keeper itself drops to a uid of its own: code in a
    session cannot signal it, so the sandbox dies only from outside (and the host can tell an
    infrastructure failure from code that ended its own session).
    """
    if os.fork() == 0:
        return
    if config.get("fd") is not None:
        os.close(int(config["fd"]))
    if config.get("uid") is not None:
        config = {**config, "uid": KEEPER_UID, "gid": KEEPER_UID}
    _drop_privileges(config)
    # SIGCHLD ignored: the kernel reaps the session when it ends, even before its forks do.
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(number, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    while True:
        signal.pause()


def main() -> None:
    """Start: drop privileges, set limits, serve."""
    config = json.loads(sys.argv[1])
    # Started with -S: the installation's site-packages are added here, without running .pth
    # hooks, which would cost start-up time and reach into the host (editable installs).
    sys.path.extend(p for p in config.get("site_packages", []) if p not in sys.path)
    if config.get("keeper"):
        _keep_the_sandbox_alive(config)
    _drop_privileges(config)
    if config.get("listen_dir"):
        channel = _accept_one(_listen(os.path.join(config["listen_dir"], "s0.sock")))
    else:
        channel = socket.socket(fileno=int(config["fd"]))
        os.set_inheritable(channel.fileno(), False)
    if os.getsid(0) != os.getpid():
        os.setsid()
    _apply_rlimits(config.get("rlimits", {}))
    Session(config, channel).serve()


if __name__ == "__main__":
    main()
