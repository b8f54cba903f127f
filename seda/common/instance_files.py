"""Secrets generated once per instance folder (outside production), shared by every process."""

import logging
import os

log = logging.getLogger(__name__)


def generated_once(path, generate, setting):
    """The bytes kept in `path` (mode 0600), `generate()`d on first use. Written aside, then
    linked in place: a process starting at the same moment never reads a half-written file, and
    the first link wins, so every process of the instance reads the same secret."""
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(generate())
        try:
            os.link(draft, path)
            log.warning("%s is not set: generated one in %s", setting, path)
        except FileExistsError:
            pass  # another process won the race; its secret is the instance's
        finally:
            draft.unlink()
    return path.read_bytes()
