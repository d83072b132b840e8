package io.ambit.hbone.pool;

/**
 * A snapshot of the pool's counts.
 *
 * @param dials connections attempted so far (one per TLS handshake)
 * @param dialFailures attempts that failed
 * @param pooledConnections connections in the pool now (retired ones excluded)
 */
public record PoolStats(long dials, long dialFailures, int pooledConnections) {}
