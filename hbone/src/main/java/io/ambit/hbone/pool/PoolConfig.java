package io.ambit.hbone.pool;

import io.ambit.hbone.transport.Http2Config;
import java.time.Duration;

/**
 * Static configuration of the HBONE connection pool.
 *
 * @param http2 HTTP/2 settings; {@code maxConcurrentStreams} is the soft cap of streams per connection
 *     (ztunnel {@code POOL_MAX_STREAMS_PER_CONNECTION}, 100), lowered further by the server's setting
 * @param idleTimeout a connection not checked out for this long leaves the pool and closes once its
 *     streams end (ztunnel {@code POOL_UNUSED_RELEASE_TIMEOUT}, 5 min)
 * @param connectTimeout TCP connect plus TLS handshake plus the server's first SETTINGS (10 s)
 * @param heldResponseBytes bytes the server may send after its 200 that are held until the caller starts
 *     relaying; beyond that the stream is not read (flow control stops the server)
 */
public record PoolConfig(Http2Config http2, Duration idleTimeout, Duration connectTimeout, int heldResponseBytes) {

    public PoolConfig {
        if (http2 == null) {
            throw new IllegalArgumentException("http2: null");
        }
        positive("idleTimeout", idleTimeout);
        positive("connectTimeout", connectTimeout);
        if (heldResponseBytes <= 0) {
            throw new IllegalArgumentException("heldResponseBytes: " + heldResponseBytes + " (expected: > 0)");
        }
    }

    /** ztunnel's pool: 100 streams per connection, 5 min idle, 10 s to connect. */
    public static PoolConfig defaults() {
        return new PoolConfig(Http2Config.clientDefaults(), Duration.ofMinutes(5), Duration.ofSeconds(10), 64 * 1024);
    }

    public PoolConfig withHttp2(Http2Config value) {
        return new PoolConfig(value, idleTimeout, connectTimeout, heldResponseBytes);
    }

    public PoolConfig withIdleTimeout(Duration value) {
        return new PoolConfig(http2, value, connectTimeout, heldResponseBytes);
    }

    public PoolConfig withConnectTimeout(Duration value) {
        return new PoolConfig(http2, idleTimeout, value, heldResponseBytes);
    }

    private static void positive(String name, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
        }
    }
}
