"""A FUSE file system that loses, at a power cut, every write that was not made durable.

    python3 powerfs.py LIVE DISK INODES MOUNTPOINT [FAULT]

Everything done under MOUNTPOINT happens at once in LIVE, a scratch folder that is the
volatile layer (the page cache, so to speak): reads, writes, mmap and locks see it as on any
file system. DISK is the durable image, the one a restart after the power cut finds:

- A file's data reaches DISK only when the file is fsynced or fdatasynced (through any
  descriptor of it): then the blocks written since its last sync, and its size, are copied
  from LIVE into the file's durable inode, INODES/<id>.
- A file's name reaches DISK only when its folder is fsynced: creates, hard links, renames
  and unlinks of files are queued per folder, in order, and applied to DISK by fsyncdir
  (a durable name is a hard link to INODES/<id>, so INODES must be on DISK's file system).
  A file synced but never named in a synced folder is lost, as on a real disk.
- Folders themselves (mkdir, rmdir, renaming a folder) and metadata (mode, owner, times)
  are durable at once: nothing here depends on them.

A power cut is: SIGKILL the programs using the mount, SIGKILL this process (the volatile
state is its memory and LIVE), unmount, then delete LIVE and INODES. DISK is then what a
disk would hold after losing power: the latest synced data under the latest synced names.
See cut() in test_power_loss.py.

A failed sync, as Linux has one (the "fsyncgate" case): when the file FAULT exists at an
fsync or fdatasync of a file whose name ends with FAULT's content (say "-wal"), FAULT is
removed and that sync fails with EIO; the blocks written since the file's last sync never
reach DISK and are no longer dirty, so the next sync succeeds without them, while LIVE (the
page cache) still returns them.

It prints "ready" once mounted. Files already in DISK at start are taken as they are (they
appear in LIVE as copies and are durable). Symbolic links and special files are refused.
"""
import ctypes
import errno
import itertools
import os
import shutil
import signal
import stat
import sys
import threading

try:
    import fusepy as fuse  # Debian's python3-fusepy names the module fusepy
except ImportError:
    import fuse  # fusepy installed under its upstream name

BLOCK = 4096


class PowerFS(fuse.Operations):
    use_ns = True

    def __init__(self, live, disk, inodes, fault=None):
        self.live, self.disk, self.inodes, self.fault = live, disk, inodes, fault
        self.mutex = threading.RLock()  # not "lock": that name would be the FUSE lock operation
        self.ids = itertools.count(1)
        self.uid_of = {}    # LIVE inode number -> durable inode id
        self.dirty = {}     # durable inode id -> block numbers written since its last sync
        self.pending = {}   # LIVE folder inode number -> [("link", name, id) | ("unlink", name)]
        self.fd_uid = {}    # open descriptor -> durable inode id
        self.adopt_disk()

    # --- the durable side ---------------------------------------------------------------

    def adopt_disk(self):
        """Mirrors what DISK already holds into LIVE, as durable files."""
        for folder, dirs, files in os.walk(self.disk):
            rel = os.path.relpath(folder, self.disk)
            for d in dirs:
                os.makedirs(os.path.join(self.live, rel, d), exist_ok=True)
            for f in files:
                src, dst = os.path.join(folder, f), os.path.join(self.live, rel, f)
                shutil.copyfile(src, dst)
                uid = self.new_inode(os.lstat(dst).st_ino, create=False)
                os.link(src, self.inode_path(uid))

    def inode_path(self, uid):
        return os.path.join(self.inodes, str(uid))

    def new_inode(self, live_ino, create=True):
        uid = next(self.ids)
        self.uid_of[live_ino] = uid  # LIVE may reuse a freed inode number: a new id each time
        self.dirty[uid] = set()
        if create:
            os.close(os.open(self.inode_path(uid), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        return uid

    def uid(self, live_path):
        return self.uid_of[os.lstat(live_path).st_ino]

    def mark(self, uid, start, end):
        """Blocks [start, end) bytes changed in LIVE and not yet on DISK."""
        if end > start:
            self.dirty[uid].update(range(start // BLOCK, (end - 1) // BLOCK + 1))

    def sync_file(self, uid, live_fd):
        blocks = self.dirty[uid]
        size = os.fstat(live_fd).st_size
        out = os.open(self.inode_path(uid), os.O_WRONLY)
        try:
            for b in sorted(blocks):
                if b * BLOCK < size:
                    os.pwrite(out, os.pread(live_fd, BLOCK, b * BLOCK), b * BLOCK)
            os.ftruncate(out, size)
        finally:
            os.close(out)
        blocks.clear()

    def queue(self, live_path, op):
        folder = os.lstat(os.path.dirname(live_path)).st_ino
        self.pending.setdefault(folder, []).append(op)

    def sync_folder(self, path):
        ops = self.pending.pop(os.lstat(self._live(path)).st_ino, [])
        for op in ops:
            target = os.path.join(self.disk + path, op[1])
            if os.path.lexists(target):
                os.unlink(target)
            if op[0] == "link":
                os.link(self.inode_path(op[2]), target)

    # --- helpers --------------------------------------------------------------------------

    def _live(self, path):
        return self.live + path

    def _disk(self, path):
        return self.disk + path

    @staticmethod
    def _live_flags(flags):
        # Read-write so the kernel can write mmap'ed pages back through any handle; no
        # O_APPEND (the kernel passes the offset, and pwrite on O_APPEND ignores it); no
        # O_SYNC or O_DSYNC (the kernel turns those into fsync requests itself).
        flags &= ~(os.O_ACCMODE | os.O_APPEND | os.O_SYNC | os.O_DSYNC | os.O_CREAT |
                   os.O_EXCL | os.O_TRUNC | getattr(os, "O_DIRECT", 0))
        return flags | os.O_RDWR

    # --- FUSE operations ------------------------------------------------------------------

    def init(self, path):
        print("ready", flush=True)

    def getattr(self, path, fh=None):
        st = os.fstat(fh) if fh is not None else os.lstat(self._live(path))
        attrs = {key: getattr(st, key) for key in (
            "st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_size", "st_blocks",
            "st_blksize")}
        attrs.update(st_atime=st.st_atime_ns, st_mtime=st.st_mtime_ns, st_ctime=st.st_ctime_ns)
        return attrs

    def access(self, path, amode):
        if not os.access(self._live(path), amode):
            raise fuse.FuseOSError(errno.EACCES)

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._live(path))

    def statfs(self, path):
        st = os.statvfs(self._live(path))
        return {key: getattr(st, key) for key in (
            "f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files",
            "f_flag", "f_frsize", "f_namemax")}

    def chmod(self, path, mode):
        with self.mutex:
            os.chmod(self._live(path), mode)
            if os.path.isdir(self._disk(path)):
                os.chmod(self._disk(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._live(path), uid, gid)

    def utimens(self, path, times=None):
        if times is None:
            os.utime(self._live(path))
        else:
            os.utime(self._live(path), ns=times)

    def readlink(self, path):
        raise fuse.FuseOSError(errno.EINVAL)

    def symlink(self, target, source):
        raise fuse.FuseOSError(errno.EPERM)

    def mknod(self, path, mode, dev):
        if not stat.S_ISREG(mode):
            raise fuse.FuseOSError(errno.EPERM)
        self.release(path, self.create(path, stat.S_IMODE(mode)))

    def mkdir(self, path, mode):
        with self.mutex:
            os.mkdir(self._live(path), mode)
            os.mkdir(self._disk(path), mode)

    def rmdir(self, path):
        with self.mutex:
            os.rmdir(self._live(path))
            shutil.rmtree(self._disk(path), ignore_errors=True)

    def create(self, path, mode, fi=None):
        with self.mutex:
            fd = os.open(self._live(path), os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
            uid = self.new_inode(os.fstat(fd).st_ino)
            self.queue(self._live(path), ("link", os.path.basename(path), uid))
            self.fd_uid[fd] = uid
            return fd

    def open(self, path, flags):
        with self.mutex:
            fd = os.open(self._live(path), self._live_flags(flags))
            self.fd_uid[fd] = self.uid_of[os.fstat(fd).st_ino]
            return fd

    def release(self, path, fh):
        with self.mutex:
            if fh is not None:
                self.fd_uid.pop(fh, None)
                os.close(fh)

    def flush(self, path, fh):
        return 0

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        with self.mutex:
            written = os.pwrite(fh, data, offset)
            self.mark(self.fd_uid[fh], offset, offset + written)
            return written

    def truncate(self, path, length, fh=None):
        with self.mutex:
            if fh is None:
                fd = os.open(self._live(path), os.O_RDWR)
            else:
                fd = fh
            try:
                uid = self.uid_of[os.fstat(fd).st_ino]
                old = os.fstat(fd).st_size
                os.ftruncate(fd, length)
                self.mark(uid, length, old)  # a shrink; growing adds zeros, as the sync will
            finally:
                if fh is None:
                    os.close(fd)

    def fsync(self, path, datasync, fh):
        with self.mutex:
            if self.sync_fails(path):
                self.dirty[self.fd_uid[fh]].clear()  # lost, and marked clean
                raise fuse.FuseOSError(errno.EIO)
            self.sync_file(self.fd_uid[fh], fh)

    def sync_fails(self, path):
        """Whether this sync is the one FAULT asks to fail (then FAULT is consumed)."""
        if self.fault is None:
            return False
        try:
            with open(self.fault) as f:
                suffix = f.read().strip()
        except FileNotFoundError:
            return False
        if not suffix or not path.endswith(suffix):
            return False
        os.unlink(self.fault)
        return True

    def fsyncdir(self, path, datasync, fh):
        with self.mutex:
            self.sync_folder(path)

    def link(self, target, source):
        with self.mutex:
            os.link(self._live(source), self._live(target))
            self.queue(self._live(target), ("link", os.path.basename(target),
                                            self.uid(self._live(target))))

    def unlink(self, path):
        with self.mutex:
            os.unlink(self._live(path))
            self.queue(self._live(path), ("unlink", os.path.basename(path)))

    def rename(self, old, new):
        with self.mutex:
            if os.path.isdir(self._live(old)):
                os.rename(self._live(old), self._live(new))
                os.rename(self._disk(old), self._disk(new))
                return
            uid = self.uid(self._live(old))
            os.rename(self._live(old), self._live(new))
            self.queue(self._live(old), ("unlink", os.path.basename(old)))
            self.queue(self._live(new), ("link", os.path.basename(new), uid))


def main():
    live, disk, inodes, mountpoint = sys.argv[1:5]
    fault = os.path.abspath(sys.argv[5]) if len(sys.argv) > 5 else None
    # Die with the test that started us (PR_SET_PDEATHSIG = 1), not linger serving a mount.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    fuse.FUSE(PowerFS(os.path.abspath(live), os.path.abspath(disk), os.path.abspath(inodes), fault),
              mountpoint, foreground=True, use_ino=True, hard_remove=True, big_writes=True,
              max_write=131072, fsname="powerfs", subtype="powerfs")


if __name__ == "__main__":
    main()
