"""Writing a file from Python so that a crash never leaves half of it: the Python side's one atomic
write (the checkpoints' lives in C++, io/safetensors.cpp)."""
import os
import tempfile


def write_atomically(path, data):
    """Writes ``data`` (bytes, or str as UTF-8) to a temporary file beside ``path``, fsyncs it and
    renames it over ``path``: readers see the old file or the new one, never a part."""
    path = os.fspath(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".chainrule-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
