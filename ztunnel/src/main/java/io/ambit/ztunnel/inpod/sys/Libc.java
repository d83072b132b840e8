package io.ambit.ztunnel.inpod.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * The few Linux libc calls in-pod capture needs (socket options, network namespaces, unix sockets with
 * file descriptors), made through Java's FFM API ({@code java.lang.foreign}): no JNI library to build or
 * ship. Each call captures {@code errno} and failures become an {@link ErrnoException} naming the call.
 * Linux x86-64 and aarch64 only (the struct layouts and constants here are theirs); elsewhere
 * {@link #unavailability()} says why and every call fails.
 *
 * <p>Package-private on purpose: callers use the typed wrappers ({@link SocketOptions},
 * {@link NetnsFd}, {@link NetnsThread}, {@link SeqpacketSocket}), which own the memory layouts.
 */
final class Libc {
    // <sys/socket.h>, <netinet/in.h>, <linux/netfilter_ipv4.h>, <sched.h>, <fcntl.h>: Linux generic ABI values
    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_SEQPACKET = 5;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1;
    static final int SO_REUSEADDR = 2;
    static final int SO_REUSEPORT = 15;
    static final int SO_MARK = 36;
    static final int SO_DOMAIN = 39;
    static final int SO_RCVTIMEO = 20;
    static final int SCM_RIGHTS = 1;
    static final int SOL_IP = 0;
    static final int SOL_IPV6 = 41;
    static final int IP_FREEBIND = 15;
    static final int IP_TRANSPARENT = 19;
    static final int IPV6_V6ONLY = 26;
    static final int IPV6_TRANSPARENT = 75;
    static final int SO_ORIGINAL_DST = 80; // also IP6T_SO_ORIGINAL_DST at SOL_IPV6
    static final int MSG_CTRUNC = 0x8;
    static final int MSG_TRUNC = 0x20;
    static final int MSG_CMSG_CLOEXEC = 0x40000000;
    static final int SHUT_RDWR = 2;
    static final int CLONE_NEWNET = 0x40000000;
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final long NS_GET_NSTYPE = 0xb703L; // _IO(0xb7, 0x3)

    static final int EINTR = 4;
    static final int ENOENT = 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private Libc() {}

    /** Why the calls cannot be made here, or empty when they can. */
    static Optional<String> unavailability() {
        return Optional.ofNullable(Handles.PROBLEM);
    }

    /** The downcall handles, bound once; a platform without them leaves {@link #PROBLEM} set. */
    private static final class Handles {
        static final String PROBLEM;
        static final MethodHandle SOCKET;
        static final MethodHandle SETSOCKOPT;
        static final MethodHandle GETSOCKOPT;
        static final MethodHandle SETNS;
        static final MethodHandle CLOSE;
        static final MethodHandle OPEN;
        static final MethodHandle IOCTL;
        static final MethodHandle CONNECT;
        static final MethodHandle BIND;
        static final MethodHandle LISTEN;
        static final MethodHandle ACCEPT4;
        static final MethodHandle SENDMSG;
        static final MethodHandle RECVMSG;
        static final MethodHandle SHUTDOWN;
        static final MethodHandle STRERROR;

        static {
            String problem = null;
            String os = System.getProperty("os.name", "");
            String arch = System.getProperty("os.arch", "");
            if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("aarch64"))) {
                problem = "in-pod capture needs Linux on x86-64 or aarch64 (this is " + os + " " + arch + ")";
            }
            MethodHandle[] h = new MethodHandle[15];
            if (problem == null) {
                try {
                    h[0] = errno("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
                    h[1] = errno(
                            "setsockopt",
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
                    h[2] = errno(
                            "getsockopt",
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
                    h[3] = errno("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
                    h[4] = errno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
                    // open(2) and ioctl(2) are variadic: the mode / argument are passed as variadic ints
                    h[5] = errno(
                            "open",
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                            Linker.Option.firstVariadicArg(2));
                    h[6] = errno(
                            "ioctl",
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
                            Linker.Option.firstVariadicArg(2));
                    h[7] = errno("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
                    h[8] = errno("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
                    h[9] = errno("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
                    h[10] = errno("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
                    h[11] = errno("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
                    h[12] = errno("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
                    h[13] = errno("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
                    h[14] = LINKER.downcallHandle(
                            LINKER.defaultLookup().find("strerror").orElseThrow(),
                            FunctionDescriptor.of(ADDRESS, JAVA_INT));
                } catch (RuntimeException | LinkageError e) {
                    problem = "libc calls unavailable: " + e;
                }
            }
            PROBLEM = problem;
            SOCKET = h[0];
            SETSOCKOPT = h[1];
            GETSOCKOPT = h[2];
            SETNS = h[3];
            CLOSE = h[4];
            OPEN = h[5];
            IOCTL = h[6];
            CONNECT = h[7];
            BIND = h[8];
            LISTEN = h[9];
            ACCEPT4 = h[10];
            SENDMSG = h[11];
            RECVMSG = h[12];
            SHUTDOWN = h[13];
            STRERROR = h[14];
        }

        private static MethodHandle errno(String name, FunctionDescriptor fd, Linker.Option... more) {
            var options = new Linker.Option[more.length + 1];
            options[0] = Linker.Option.captureCallState("errno");
            System.arraycopy(more, 0, options, 1, more.length);
            var symbol = LINKER.defaultLookup()
                    .find(name)
                    .orElseThrow(() -> new IllegalStateException("libc has no " + name));
            return LINKER.downcallHandle(symbol, fd, options);
        }
    }

    private static void check() {
        if (Handles.PROBLEM != null) {
            throw new UnsupportedOperationException(Handles.PROBLEM);
        }
    }

    /** The text of an errno value, as strerror(3) has it. */
    static String strerror(int errno) {
        try {
            var text = (MemorySegment) Handles.STRERROR.invokeExact(errno);
            return text.reinterpret(512).getString(0);
        } catch (Throwable e) {
            return "errno " + errno;
        }
    }

    private static ErrnoException fail(String call, MemorySegment state) {
        int errno = (int) ERRNO.get(state, 0L);
        return new ErrnoException(call, errno, strerror(errno));
    }

    private static MemorySegment state(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    static int socket(int domain, int type, int protocol) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int fd = (int) Handles.SOCKET.invokeExact(state, domain, type, protocol);
            if (fd < 0) {
                throw fail("socket", state);
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void setsockopt(int fd, int level, int name, int value, String what) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            var v = arena.allocateFrom(JAVA_INT, value);
            int rc = (int) Handles.SETSOCKOPT.invokeExact(state, fd, level, name, v, 4);
            if (rc != 0) {
                throw fail("setsockopt(" + what + ")", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** setsockopt with a {@code struct timeval} (SO_RCVTIMEO). */
    static void setsockoptTimeval(int fd, int level, int name, long micros, String what) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            var tv = arena.allocate(16, 8);
            tv.set(JAVA_LONG, 0, micros / 1_000_000);
            tv.set(JAVA_LONG, 8, micros % 1_000_000);
            int rc = (int) Handles.SETSOCKOPT.invokeExact(state, fd, level, name, tv, 16);
            if (rc != 0) {
                throw fail("setsockopt(" + what + ")", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getsockoptInt(int fd, int level, int name, String what) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            var v = arena.allocate(JAVA_INT);
            var len = arena.allocateFrom(JAVA_INT, 4);
            int rc = (int) Handles.GETSOCKOPT.invokeExact(state, fd, level, name, v, len);
            if (rc != 0) {
                throw fail("getsockopt(" + what + ")", state);
            }
            return v.get(JAVA_INT, 0);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * getsockopt into a buffer of {@code size} bytes; returns the bytes the kernel wrote.
     */
    static byte[] getsockoptBytes(int fd, int level, int name, int size, String what) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            var buf = arena.allocate(size);
            var len = arena.allocateFrom(JAVA_INT, size);
            int rc = (int) Handles.GETSOCKOPT.invokeExact(state, fd, level, name, buf, len);
            if (rc != 0) {
                throw fail("getsockopt(" + what + ")", state);
            }
            int n = Math.min(size, len.get(JAVA_INT, 0));
            return buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void setns(int fd, int nstype) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int rc = (int) Handles.SETNS.invokeExact(state, fd, nstype);
            if (rc != 0) {
                throw fail("setns", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close(2); an error is reported but the descriptor is gone either way (Linux semantics). */
    static void close(int fd) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int rc = (int) Handles.CLOSE.invokeExact(state, fd);
            if (rc != 0) {
                throw fail("close", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int open(String path, int flags) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int fd = (int) Handles.OPEN.invokeExact(state, arena.allocateFrom(path), flags, 0);
            if (fd < 0) {
                throw fail("open(" + path + ")", state);
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ioctl(int fd, long request, String what) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int rc = (int) Handles.IOCTL.invokeExact(state, fd, request, 0L);
            if (rc < 0) {
                throw fail("ioctl(" + what + ")", state);
            }
            return rc;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void connect(int fd, MemorySegment address, String what) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int rc;
            do {
                rc = (int) Handles.CONNECT.invokeExact(state, fd, address, (int) address.byteSize());
            } while (rc != 0 && (int) ERRNO.get(state, 0L) == EINTR);
            if (rc != 0) {
                throw fail("connect(" + what + ")", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void bind(int fd, MemorySegment address, String what) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int rc = (int) Handles.BIND.invokeExact(state, fd, address, (int) address.byteSize());
            if (rc != 0) {
                throw fail("bind(" + what + ")", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void listen(int fd, int backlog) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int rc = (int) Handles.LISTEN.invokeExact(state, fd, backlog);
            if (rc != 0) {
                throw fail("listen", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int accept(int fd) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int rc;
            do {
                rc = (int) Handles.ACCEPT4.invokeExact(state, fd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
            } while (rc < 0 && (int) ERRNO.get(state, 0L) == EINTR);
            if (rc < 0) {
                throw fail("accept", state);
            }
            return rc;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long sendmsg(int fd, MemorySegment msghdr, int flags) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            long rc;
            do {
                rc = (long) Handles.SENDMSG.invokeExact(state, fd, msghdr, flags);
            } while (rc < 0 && (int) ERRNO.get(state, 0L) == EINTR);
            if (rc < 0) {
                throw fail("sendmsg", state);
            }
            return rc;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long recvmsg(int fd, MemorySegment msghdr, int flags) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            long rc;
            do {
                rc = (long) Handles.RECVMSG.invokeExact(state, fd, msghdr, flags);
            } while (rc < 0 && (int) ERRNO.get(state, 0L) == EINTR);
            if (rc < 0) {
                throw fail("recvmsg", state);
            }
            return rc;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void shutdown(int fd, int how) throws ErrnoException {
        check();
        try (var arena = Arena.ofConfined()) {
            var state = state(arena);
            int rc = (int) Handles.SHUTDOWN.invokeExact(state, fd, how);
            if (rc != 0) {
                throw fail("shutdown", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
