#!/usr/bin/python3
"""A pass-through filesystem that keeps only what was synced, for power-cut tests of the journal (the LazyFS idea).

Usage: lazyfs.py BACKING MOUNTPOINT CUT_AT

BACKING is one flat folder (the journal, its WAL and its key files live in one). Every operation goes through
to it at once, as the page cache would; besides, the filesystem keeps the *durable* state, what a disk would
hold after a power cut:
- a file's bytes become durable when it is fsynced (fsync or fdatasync), and
- the folder's names (created, renamed, removed) become durable when the folder is fsynced.
At the CUT_AT-th changing operation (write, truncate, create, link, rename, unlink, fsync, fsyncdir, chmod) the
power goes: that operation and every later one fails with EIO, and BACKING is rewritten to the durable state
(names that were never synced into the folder are gone; each file holds its bytes as of its last fsync, or
nothing). Then it prints "cut after N operations" and waits to be unmounted. If the power never goes, it
prints nothing. Debian's python3-fusepy (over libfuse) and fuse3's fusermount3; nothing of the kiosk's code.
"""
import errno
import os
import sys
import threading

import fusepy


class PowerCut(fusepy.Operations):
    def __init__(self, backing, cut_at):
        self.root = os.path.realpath(backing)
        self.cut_at = cut_at
        self.ops = 0
        self.dead = False
        self.mutex = threading.RLock()
        self.next_id = 0
        # Current names → file ids (a file keeps its id through renames), and what a power cut keeps.
        self.names = {}
        for name in sorted(os.listdir(self.root)):
            self.names[name] = self._new_id()
        self.durable_names = dict(self.names)
        self.durable_data = {}
        for name, fid in self.names.items():
            with open(self._path("/" + name), "rb") as f:
                self.durable_data[fid] = f.read()

    def _new_id(self):
        self.next_id += 1
        return self.next_id

    def _path(self, path):
        name = path.lstrip("/")
        if "/" in name:
            raise fusepy.FuseOSError(errno.EINVAL)
        return os.path.join(self.root, name)

    def _change(self):
        """Counts a changing operation; at CUT_AT the power goes before it is done."""
        if self.dead:
            raise fusepy.FuseOSError(errno.EIO)
        self.ops += 1
        if self.ops >= self.cut_at:
            self._cut()
            raise fusepy.FuseOSError(errno.EIO)

    def _alive(self):
        if self.dead:
            raise fusepy.FuseOSError(errno.EIO)

    def _cut(self):
        self.dead = True
        for name in os.listdir(self.root):
            os.unlink(os.path.join(self.root, name))
        for name, fid in self.durable_names.items():
            with open(os.path.join(self.root, name), "wb") as f:
                f.write(self.durable_data.get(fid, b""))
        print(f"cut after {self.ops - 1} operations", flush=True)

    # Reading: straight through.
    def getattr(self, path, fh=None):
        with self.mutex:
            self._alive()
            st = os.lstat(self.root if path == "/" else self._path(path))
            return {k: getattr(st, k) for k in
                    ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size", "st_uid")}

    def readdir(self, path, fh):
        with self.mutex:
            self._alive()
            return [".", ".."] + os.listdir(self.root)

    def access(self, path, mode):
        with self.mutex:
            self._alive()
            if not os.access(self.root if path == "/" else self._path(path), mode):
                raise fusepy.FuseOSError(errno.EACCES)

    def statfs(self, path):
        st = os.statvfs(self.root)
        return {k: getattr(st, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree",
                                            "f_files", "f_flag", "f_frsize", "f_namemax")}

    def open(self, path, flags):
        with self.mutex:
            self._alive()
            if flags & os.O_TRUNC:
                self._change()
            # Read and write whatever the caller asked for: the kernel pages a shared mapping in and out
            # through any handle of the file.
            return os.open(self._path(path), (flags & ~(os.O_CREAT | os.O_ACCMODE)) | os.O_RDWR)

    def read(self, path, size, offset, fh):
        with self.mutex:
            self._alive()
            return os.pread(fh, size, offset)

    # Changing: counted, and kept in the durable state only when synced.
    def create(self, path, mode, fi=None):
        with self.mutex:
            self._change()
            name = path.lstrip("/")
            fd = os.open(self._path(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)
            if name not in self.names:
                self.names[name] = self._new_id()
            return fd

    def write(self, path, data, offset, fh):
        with self.mutex:
            self._change()
            return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        with self.mutex:
            self._change()
            if fh is not None:
                os.ftruncate(fh, length)
            else:
                os.truncate(self._path(path), length)

    def fsync(self, path, datasync, fh):
        with self.mutex:
            self._change()
            os.fsync(fh)
            fid = self.names.get(path.lstrip("/"))
            if fid is not None:
                with open(self._path(path), "rb") as f:
                    self.durable_data[fid] = f.read()

    def fsyncdir(self, path, datasync, fh):
        with self.mutex:
            self._change()
            self.durable_names = dict(self.names)

    def rename(self, old, new):
        with self.mutex:
            self._change()
            os.rename(self._path(old), self._path(new))
            self.names[new.lstrip("/")] = self.names.pop(old.lstrip("/"))

    def link(self, target, source):
        # `target` is the new name of `source`'s file (a create that never replaces: the key files).
        with self.mutex:
            self._change()
            os.link(self._path(source), self._path(target))
            self.names[target.lstrip("/")] = self.names[source.lstrip("/")]

    def unlink(self, path):
        with self.mutex:
            self._change()
            os.unlink(self._path(path))
            self.names.pop(path.lstrip("/"), None)

    def chmod(self, path, mode):
        with self.mutex:
            self._change()
            os.chmod(self._path(path), mode)

    def chown(self, path, uid, gid):
        with self.mutex:
            self._alive()
            os.chown(self._path(path), uid, gid)

    def utimens(self, path, times=None):
        with self.mutex:
            self._alive()
            os.utime(self._path(path), times)

    def flush(self, path, fh):
        with self.mutex:
            self._alive()

    def release(self, path, fh):
        os.close(fh)

    def mkdir(self, path, mode):
        raise fusepy.FuseOSError(errno.EPERM)


def main():
    backing, mountpoint, cut_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fusepy.FUSE(PowerCut(backing, cut_at), mountpoint, foreground=True, nothreads=False, default_permissions=True)


if __name__ == "__main__":
    main()
