"""The archives: a gzip-compressed tar of `.env`, `data/`, `public/` and
`translations/` (folders included), with `manifest.json` last, listing each
file's size and SHA-256. Reading checks every entry before anything is
written, so a damaged or hostile archive is refused as a whole."""

import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import time

ROOTS = ("data", "public", "translations")
MANIFEST = "manifest.json"
CHUNK = 1 << 20


class Damaged(Exception):
    """The archive is damaged or holds something it must not."""


def sha256_of_file(path, progress=None):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)
            if progress:
                progress(len(chunk))


def walk(root):
    """(path, is_folder) of everything under `root`, parents first; links and
    special files are skipped."""
    out = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in dirs:
            path = folder + "/" + name
            if stat.S_ISDIR(os.lstat(path).st_mode):
                out.append((path, True))
        for name in sorted(files):
            path = folder + "/" + name
            if stat.S_ISREG(os.lstat(path).st_mode):
                out.append((path, False))
    return out


def entry(name, kind, size=0):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.mtime = int(time.time())
    return info


def write(path, env, progress):
    """Writes the archive of the tenant to `path`: `env` (bytes, left out
    when empty) and the three folders. `progress(n)` is told of every n
    bytes read."""
    files = []
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        if env:
            tar.addfile(entry(".env", tarfile.REGTYPE, len(env)), io.BytesIO(env))
            files.append({"path": ".env", "size": len(env), "sha256": hashlib.sha256(env).hexdigest()})
        for root in ROOTS:
            for name, is_folder in walk(root):
                if is_folder:
                    tar.addfile(entry(name, tarfile.DIRTYPE))
                    continue
                with open(name, "rb") as f:
                    data = f.read()
                tar.addfile(entry(name, tarfile.REGTYPE, len(data)), io.BytesIO(data))
                files.append({"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
                progress(len(data))
        manifest = json.dumps({"format": "python-plain/1", "files": files}, indent=1).encode("utf-8")
        tar.addfile(entry(MANIFEST, tarfile.REGTYPE, len(manifest)), io.BytesIO(manifest))


def safe_name(name):
    """Whether `name` lies inside one of the roots (or is `.env`)."""
    if name.startswith("/") or "\\" in name:
        return False
    parts = name.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        return False
    return name == ".env" or (parts[0] in ROOTS and len(parts) > 1)


def read(path, sink=None, progress=None):
    """Reads the whole archive at `path` and checks it against its manifest.
    Every file's bytes go to `sink(name, data)` when given, folders to
    `sink(name, None)`. Answers (files, bytes); raises Damaged."""
    files, total, seen, manifest = 0, 0, {}, None
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.name == MANIFEST and member.isfile():
                    manifest = json.loads(tar.extractfile(member).read().decode("utf-8"))
                    continue
                if not safe_name(member.name):
                    raise Damaged(f"the entry {member.name!r} lies outside .env, data/, public/ and translations/")
                if member.isdir():
                    if sink:
                        sink(member.name.rstrip("/"), None)
                    continue
                if not member.isfile():
                    raise Damaged(f"the entry {member.name!r} is a link or a special file")
                data = tar.extractfile(member).read()
                seen[member.name] = (len(data), hashlib.sha256(data).hexdigest())
                files += 1
                total += len(data)
                if progress:
                    progress(len(data))
                if sink:
                    sink(member.name, data)
    except (tarfile.TarError, OSError, EOFError, ValueError, gzip.BadGzipFile) as e:
        raise Damaged(f"the archive cannot be read: {e}")
    if manifest is None:
        raise Damaged("the archive has no manifest")
    listed = {f["path"]: (f["size"], f["sha256"]) for f in manifest.get("files", [])}
    for name in sorted(set(seen) | set(listed)):
        if name not in listed:
            raise Damaged(f"{name} is not in the manifest")
        if name not in seen:
            raise Damaged(f"{name} is in the manifest but not in the archive")
        if seen[name] != listed[name]:
            raise Damaged(f"{name} does not match its size and SHA-256 in the manifest")
    return files, total


def empty_folder(root):
    """Removes everything inside `root`."""
    for name in os.listdir(root):
        path = root + "/" + name
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path)
        else:
            os.remove(path)
