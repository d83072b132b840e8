package io.ambit.waypoint.proxy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;

/**
 * The client side of one exchange: an HTTP/1.1 connection (one request at a time) or one HTTP/2 stream.
 * Reading is by demand: the exchange asks for the next request part when it can forward it, so a slow
 * upstream slows the client through TCP or HTTP/2 flow control, never through our memory. All calls on
 * {@link #eventLoop()}.
 */
public interface Downstream {

    EventLoop eventLoop();

    ByteBufAllocator alloc();

    /** {@code HTTP/1.1} or {@code HTTP/2}, for logs and the {@code request_protocol} label. */
    String protocol();

    /** Asks for the next request part (delivered to the exchange later, never from inside this call). */
    void requestMore();

    /** Writes (and flushes) a response part; the downstream owns it from then on. */
    void write(HttpObject part);

    /** Writes a response part without flushing: more follows in the same batch ({@link #flush()} comes). */
    void writeLater(HttpObject part);

    /** Sends what {@link #writeLater} queued. */
    void flush();

    /** Whether the client can take more without queueing beyond the high-water mark. */
    boolean isWritable();

    /** Whether the client is still there. */
    boolean isActive();

    /**
     * The exchange is over and its response fully written. {@code keepOpen}: an HTTP/1.1 connection may
     * read the next request (otherwise it closes once the response is flushed); an HTTP/2 stream ignores it.
     */
    void exchangeDone(boolean keepOpen);

    /** Ends abruptly: the HTTP/1.1 connection is closed, the HTTP/2 stream reset. */
    void abort();
}
