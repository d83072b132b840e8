package io.ambit.hbone.transport;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Netty's epoll I/O handler with one correction: a socket that waits for nothing stays in the epoll set.
 *
 * <p>Why: in Netty 4.2.18, when a channel's interest set becomes empty, {@code EpollIoHandler} removes the
 * descriptor from the epoll set ({@code EPOLL_CTL_DEL}, netty/netty#16689, so that a level-triggered mask
 * of 0 does not report EPOLLHUP/EPOLLERR forever) but keeps its registration marked as added. The next
 * interest is then sent as {@code EPOLL_CTL_MOD}, which fails with ENOENT. A half-closed socket reaches an
 * empty set as a matter of course: after the peer's FIN, Netty clears EPOLLIN (nothing more to read) and
 * EPOLLRDHUP (handled), so when the answer we relay back must wait for the socket to drain, asking for
 * EPOLLOUT fails, the channel closes, and the client loses the tail of its answer.
 *
 * <p>The correction: an empty interest set is submitted as {@code EPOLLET} alone. The descriptor stays in
 * the set with no events asked for; the kernel still reports EPOLLHUP and EPOLLERR, but edge-triggered,
 * so once per change rather than on every wait (what the removal was for); a later interest is a valid
 * {@code EPOLL_CTL_MOD}. Everything else is Netty's handler unchanged.
 */
final class EpollKeepRegistered implements IoHandler {
    private final IoHandler delegate;

    private EpollKeepRegistered(IoHandler delegate) {
        this.delegate = delegate;
    }

    /** A factory of epoll handlers that keep idle descriptors registered. */
    static IoHandlerFactory newFactory() {
        IoHandlerFactory epoll = EpollIoHandler.newFactory();
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor ioExecutor) {
                return new EpollKeepRegistered(epoll.newHandler(ioExecutor));
            }

            @Override
            public boolean isChangingThreadSupported() {
                return epoll.isChangingThreadSupported();
            }
        };
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        return new Registration(delegate.register(handle));
    }

    @Override
    public void initialize() {
        delegate.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
        return delegate.run(context);
    }

    @Override
    public void prepareToDestroy() {
        delegate.prepareToDestroy();
    }

    @Override
    public void destroy() {
        delegate.destroy();
    }

    @Override
    public void wakeup() {
        delegate.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return delegate.isCompatible(handleType);
    }

    /** Netty's registration, with an empty interest set replaced by {@code EPOLLET}. */
    private record Registration(IoRegistration delegate) implements IoRegistration {
        @Override
        public <T> T attachment() {
            return delegate.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            if (ops instanceof EpollIoOps epoll && epoll.value() == EpollIoOps.NONE.value()) {
                return delegate.submit(EpollIoOps.EPOLLET);
            }
            return delegate.submit(ops);
        }

        @Override
        public boolean isValid() {
            return delegate.isValid();
        }

        @Override
        public boolean cancel() {
            return delegate.cancel();
        }
    }
}
