package io.ambit.waypoint.route;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpObject;

/**
 * One request's way to its endpoint: an HTTP/1.1 connection (checked out of the idle pool for the
 * duration of the exchange) or one HTTP/2 stream, inside an HBONE tunnel. Everything is called on the
 * event loop of the request, which is also the upstream's: the waypoint keeps one set of upstream
 * connections per event loop (as Envoy keeps one per worker), so a request never changes threads.
 *
 * <p>Written {@link HttpObject}s are owned by the upstream from then on.
 */
public interface Upstream {

    /** Where responses, writability changes and the end of the connection are reported. */
    void listen(UpstreamListener listener);

    /** Writes (and flushes) a request part. */
    void write(HttpObject part);

    /** Whether the upstream can take more without queueing beyond its high-water mark. */
    boolean isWritable();

    /** Stops or resumes reading responses (back-pressure from a slow client). */
    void reading(boolean on);

    /**
     * The exchange is over. {@code reusable}: request and response both ended cleanly and the connection
     * may carry another request (HTTP/1.1 keep-alive); otherwise it is closed (HTTP/2: the stream ends).
     */
    void release(boolean reusable);

    /** Ends the exchange abruptly: the HTTP/1.1 connection is closed, the HTTP/2 stream reset. */
    void abort();

    /** The channel the request goes through, for logs. */
    Channel channel();

    /**
     * Why an upstream ended: the server refused the request's stream without processing it (RST_STREAM
     * REFUSED_STREAM, or above the last stream id of its GOAWAY) and it could not be retried (retried once
     * already, or its body was not kept). Envoy's {@code UR}, "remote refused stream reset".
     */
    final class Refused extends java.io.IOException {
        public Refused(String message) {
            super(message);
        }
    }
}
