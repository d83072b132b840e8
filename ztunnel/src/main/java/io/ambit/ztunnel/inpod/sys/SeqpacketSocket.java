package io.ambit.ztunnel.inpod.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A unix-domain {@code SOCK_SEQPACKET} socket (what ZDS runs over: every message arrives whole, with the
 * descriptors sent beside it as {@code SCM_RIGHTS}), through {@link Libc}; the JDK's unix sockets are
 * stream sockets only and cannot pass descriptors. Blocking: use it from a dedicated thread, never an
 * event loop; {@link #shutdown()} from another thread wakes a blocked {@link #receive} or {@link #accept}.
 *
 * <p>Both ends are here: ztunnel connects; the CNI agent's end (listen, accept, send with a descriptor)
 * serves tests and tools that play the agent.
 */
public final class SeqpacketSocket implements AutoCloseable {
    // struct msghdr / iovec / cmsghdr on LP64 Linux (x86-64, aarch64)
    private static final long MSGHDR_SIZE = 56;
    private static final long MSG_IOV = 16;
    private static final long MSG_IOVLEN = 24;
    private static final long MSG_CONTROL = 32;
    private static final long MSG_CONTROLLEN = 40;
    private static final long MSG_FLAGS = 48;
    private static final long IOVEC_SIZE = 16;
    private static final long CMSG_HEADER = 16;
    private static final int SUN_PATH_MAX = 108;

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SeqpacketSocket(int fd) {
        this.fd = fd;
    }

    /**
     * One message as received.
     *
     * @param data          its bytes (at most the size asked for)
     * @param fds           the descriptors that came with it; the receiver owns them (close or adopt)
     * @param truncated     the message was longer than asked for: the rest is lost
     * @param fdsTruncated  more descriptors came than there was room for: the kernel closed the rest
     */
    public record Message(byte[] data, int[] fds, boolean truncated, boolean fdsTruncated) {
        /** The peer closed the connection (SEQPACKET has no empty messages in ZDS). */
        public boolean eof() {
            return data.length == 0 && fds.length == 0 && !truncated;
        }
    }

    /** Connects to the socket at {@code path}. */
    public static SeqpacketSocket connect(Path path) throws IOException {
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0);
        try (var arena = Arena.ofConfined()) {
            Libc.connect(fd, sockaddrUn(arena, path), path.toString());
            return new SeqpacketSocket(fd);
        } catch (IOException | RuntimeException e) {
            NetnsFd.closeQuietly(fd);
            throw e;
        }
    }

    /** Binds and listens at {@code path} (the CNI agent's end). */
    public static SeqpacketSocket listen(Path path, int backlog) throws IOException {
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0);
        try (var arena = Arena.ofConfined()) {
            Libc.bind(fd, sockaddrUn(arena, path), path.toString());
            Libc.listen(fd, backlog);
            return new SeqpacketSocket(fd);
        } catch (IOException | RuntimeException e) {
            NetnsFd.closeQuietly(fd);
            throw e;
        }
    }

    /** Waits for the next connection on a listening socket. */
    public SeqpacketSocket accept() throws IOException {
        return new SeqpacketSocket(Libc.accept(fd));
    }

    private static MemorySegment sockaddrUn(Arena arena, Path path) throws IOException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH_MAX) {
            throw new IOException(
                    "unix socket path " + path + " is " + name.length + " bytes (expected: < " + SUN_PATH_MAX + ")");
        }
        var addr = arena.allocate(2 + name.length + 1);
        addr.set(JAVA_SHORT, 0, (short) Libc.AF_UNIX);
        MemorySegment.copy(name, 0, addr, JAVA_BYTE, 2, name.length);
        return addr;
    }

    /** Sends one message with {@code fds} as {@code SCM_RIGHTS} (none: a plain message). */
    public void send(byte[] message, int... fds) throws IOException {
        try (var arena = Arena.ofConfined()) {
            var data = arena.allocate(Math.max(1, message.length));
            MemorySegment.copy(message, 0, data, JAVA_BYTE, 0, message.length);
            var iov = arena.allocate(IOVEC_SIZE, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, message.length);
            var hdr = arena.allocate(MSGHDR_SIZE, 8);
            hdr.set(ADDRESS, MSG_IOV, iov);
            hdr.set(JAVA_LONG, MSG_IOVLEN, 1);
            if (fds.length > 0) {
                long payload = 4L * fds.length;
                long space = CMSG_HEADER + align8(payload);
                var control = arena.allocate(space, 8);
                control.set(JAVA_LONG, 0, CMSG_HEADER + payload); // cmsg_len = CMSG_LEN(payload)
                control.set(JAVA_INT, 8, Libc.SOL_SOCKET);
                control.set(JAVA_INT, 12, Libc.SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    control.set(JAVA_INT, CMSG_HEADER + 4L * i, fds[i]);
                }
                hdr.set(ADDRESS, MSG_CONTROL, control);
                hdr.set(JAVA_LONG, MSG_CONTROLLEN, space);
            }
            long sent = Libc.sendmsg(fd, hdr, 0);
            if (sent != message.length) {
                throw new IOException("sendmsg sent " + sent + " of " + message.length + " bytes");
            }
        }
    }

    /**
     * Receives one message of up to {@code maxBytes} with up to {@code maxFds} descriptors; received
     * descriptors are close-on-exec.
     */
    public Message receive(int maxBytes, int maxFds) throws IOException {
        try (var arena = Arena.ofConfined()) {
            var data = arena.allocate(Math.max(1, maxBytes));
            var iov = arena.allocate(IOVEC_SIZE, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, maxBytes);
            long space = CMSG_HEADER + align8(4L * Math.max(1, maxFds));
            var control = arena.allocate(space, 8);
            var hdr = arena.allocate(MSGHDR_SIZE, 8);
            hdr.set(ADDRESS, MSG_IOV, iov);
            hdr.set(JAVA_LONG, MSG_IOVLEN, 1);
            hdr.set(ADDRESS, MSG_CONTROL, control);
            hdr.set(JAVA_LONG, MSG_CONTROLLEN, space);
            long n = Libc.recvmsg(fd, hdr, Libc.MSG_CMSG_CLOEXEC);
            int flags = hdr.get(JAVA_INT, MSG_FLAGS);
            long controlLen = hdr.get(JAVA_LONG, MSG_CONTROLLEN);
            int[] fds = fds(control, Math.min(controlLen, space));
            byte[] bytes = data.asSlice(0, Math.min(n, maxBytes)).toArray(JAVA_BYTE);
            return new Message(bytes, fds, (flags & Libc.MSG_TRUNC) != 0, (flags & Libc.MSG_CTRUNC) != 0);
        }
    }

    /** The descriptors of every SCM_RIGHTS header in {@code control}. */
    private static int[] fds(MemorySegment control, long length) {
        int[] out = new int[0];
        long offset = 0;
        while (offset + CMSG_HEADER <= length) {
            long len = control.get(JAVA_LONG, offset);
            if (len < CMSG_HEADER || offset + len > length) {
                break;
            }
            int level = control.get(JAVA_INT, offset + 8);
            int type = control.get(JAVA_INT, offset + 12);
            if (level == Libc.SOL_SOCKET && type == Libc.SCM_RIGHTS) {
                int count = (int) ((len - CMSG_HEADER) / 4);
                int base = out.length;
                out = Arrays.copyOf(out, base + count);
                for (int i = 0; i < count; i++) {
                    out[base + i] = control.get(JAVA_INT, offset + CMSG_HEADER + 4L * i);
                }
            }
            offset += CMSG_HEADER + align8(len - CMSG_HEADER);
        }
        return out;
    }

    private static long align8(long n) {
        return (n + 7) & ~7L;
    }

    /**
     * Bounds every later {@link #receive} and {@link #accept}: past {@code timeout} they fail with an
     * {@link ErrnoException} (EAGAIN) instead of waiting on. Zero waits forever (the default).
     */
    public void receiveTimeout(java.time.Duration timeout) throws ErrnoException {
        Libc.setsockoptTimeval(fd, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, timeout.toNanos() / 1000, "SO_RCVTIMEO");
    }

    /** Wakes a blocked receive or accept (which then sees end-of-stream or an error). */
    public void shutdown() {
        try {
            Libc.shutdown(fd, Libc.SHUT_RDWR);
        } catch (ErrnoException e) {
            // not connected (any more): nothing is blocked on it
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            NetnsFd.closeQuietly(fd);
        }
    }
}
