package io.ambit.ztunnel.inpod.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open network-namespace descriptor (what the CNI agent hands over for each pod), owned by this
 * object until {@link #close()}. Checked on the way in: {@code ioctl(NS_GET_NSTYPE)} must say
 * {@code CLONE_NEWNET}; anything else is refused with what it is instead (its {@code /proc/self/fd}
 * link: a path, {@code socket:[…]}, …).
 */
public final class NetnsFd implements AutoCloseable {
    private final int fd;
    private final long inode;
    private final AtomicBoolean closed = new AtomicBoolean();

    private NetnsFd(int fd, long inode) {
        this.fd = fd;
        this.inode = inode;
    }

    /** A descriptor that is not a network namespace; what it is instead is in the message. */
    public static final class NotANetnsException extends IOException {
        private static final long serialVersionUID = 1L;

        NotANetnsException(String message) {
            super(message);
        }
    }

    /**
     * Takes ownership of {@code fd} after checking it is a network namespace.
     *
     * @throws NotANetnsException when it is not (the caller still owns {@code fd} and must close it)
     */
    public static NetnsFd adopt(int fd) throws NotANetnsException {
        Path self = Path.of("/proc/self/fd/" + fd);
        String what;
        try {
            what = Files.readSymbolicLink(self).toString(); // a path, or e.g. socket:[123] / net:[4026...]
        } catch (IOException | UnsupportedOperationException e) {
            throw new NotANetnsException("fd " + fd + " is not an open descriptor here (" + e + ")");
        }
        // The kernel's answer, not the name: a bind-mounted namespace (/run/netns/NAME) reads as its path.
        int type;
        try {
            type = Libc.ioctl(fd, Libc.NS_GET_NSTYPE, "NS_GET_NSTYPE");
        } catch (ErrnoException e) {
            throw new NotANetnsException("fd " + fd + " is " + what
                    + ", not a network namespace (expected: an open /proc/PID/ns/net or /run/netns/NAME; "
                    + e.getMessage() + ")");
        }
        if (type != Libc.CLONE_NEWNET) {
            throw new NotANetnsException("fd " + fd + " (" + what + ") is a namespace of type 0x"
                    + Integer.toHexString(type) + ", not a network namespace (expected: CLONE_NEWNET)");
        }
        try {
            long inode = ((Number) Files.getAttribute(self, "unix:ino")).longValue();
            return new NetnsFd(fd, inode);
        } catch (IOException | RuntimeException e) {
            throw new NotANetnsException("fd " + fd + " (" + what + "): cannot read its inode: " + e);
        }
    }

    /**
     * Opens a network namespace by path: {@code /run/netns/NAME} ({@code ip netns}), or
     * {@code /proc/PID/ns/net}.
     *
     * @throws IOException when it cannot be opened or is no network namespace
     */
    public static NetnsFd open(Path path) throws IOException {
        int fd = Libc.open(path.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            return adopt(fd);
        } catch (NotANetnsException e) {
            closeQuietly(fd);
            throw new NotANetnsException(path + ": " + e.getMessage());
        }
    }

    /** The calling thread's own network namespace. */
    public static NetnsFd ofCurrentThread() throws IOException {
        return open(Path.of("/proc/thread-self/ns/net"));
    }

    /** Closes a descriptor this code does not keep (e.g. a second one in a message), ignoring errors. */
    public static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (ErrnoException | RuntimeException e) {
            // already gone: nothing left to release
        }
    }

    public int fd() {
        return fd;
    }

    /** The namespace's inode: equal for two descriptors of the same namespace. */
    public long inode() {
        return inode;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            closeQuietly(fd);
        }
    }

    @Override
    public String toString() {
        return "net:[" + inode + "] (fd " + fd + ")";
    }
}
