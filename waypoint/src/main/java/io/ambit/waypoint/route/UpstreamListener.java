package io.ambit.waypoint.route;

import io.netty.handler.codec.http.HttpObject;

/** What an {@link Upstream} reports to its exchange, on the exchange's event loop. */
public interface UpstreamListener {
    /** A response part; the listener owns (and releases) it. */
    void onResponse(HttpObject part);

    /** The upstream finished a batch of reads: flush what was written on without flushing. */
    default void onUpstreamReadComplete() {}

    /** The upstream can take more request body again. */
    void onUpstreamWritable();

    /** The upstream connection or stream ended before the exchange was released. */
    void onUpstreamClosed(Throwable cause);
}
