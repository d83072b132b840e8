package io.ambit.xds.kube;

import java.time.Duration;

/**
 * The bounds of listing and watching: every response, line and wait is limited.
 *
 * @param pageSize objects per list page ({@code limit=})
 * @param maxPageBytes the largest list page read
 * @param maxObjects the most objects of one kind held; more is refused (the last good state serves)
 * @param maxEventBytes the longest watch event line (an object is at most 1.5 MiB in etcd)
 * @param watchSeconds how long the server keeps one watch open ({@code timeoutSeconds=}) before the
 *     watcher reconnects from its last resourceVersion
 * @param idleTimeout a watch that sends nothing (not even a bookmark) for this long is dropped as dead
 * @param requestTimeout how long until response headers must arrive
 * @param initialBackoff the first delay after a failure; doubled per failure
 * @param maxBackoff the longest delay between attempts
 * @param absentRecheck how often a resource that does not exist (a CRD not installed) is looked for again
 */
public record WatchLimits(
        int pageSize,
        int maxPageBytes,
        int maxObjects,
        int maxEventBytes,
        int watchSeconds,
        Duration idleTimeout,
        Duration requestTimeout,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration absentRecheck) {

    public static final WatchLimits DEFAULT = new WatchLimits(
            500,
            32 * 1024 * 1024,
            50_000,
            4 * 1024 * 1024,
            300,
            Duration.ofSeconds(420),
            Duration.ofSeconds(30),
            Duration.ofMillis(100),
            Duration.ofSeconds(30),
            Duration.ofSeconds(60));

    public WatchLimits {
        if (pageSize < 1 || maxPageBytes < 1024 || maxObjects < 1 || maxEventBytes < 1024 || watchSeconds < 1) {
            throw new IllegalArgumentException("watch limits: pageSize " + pageSize + ", maxPageBytes " + maxPageBytes
                    + ", maxObjects " + maxObjects + ", maxEventBytes " + maxEventBytes + ", watchSeconds "
                    + watchSeconds + " (expected: >= 1, >= 1024, >= 1, >= 1024, >= 1)");
        }
        for (var d : new Duration[] {idleTimeout, requestTimeout, initialBackoff, maxBackoff, absentRecheck}) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("watch limits: a duration is " + d + " (expected: > 0)");
            }
        }
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException(
                    "watch limits: maxBackoff " + maxBackoff + " (expected: >= initialBackoff " + initialBackoff + ")");
        }
    }

    public WatchLimits withBackoff(Duration initial, Duration max) {
        return new WatchLimits(
                pageSize,
                maxPageBytes,
                maxObjects,
                maxEventBytes,
                watchSeconds,
                idleTimeout,
                requestTimeout,
                initial,
                max,
                absentRecheck);
    }

    public WatchLimits withPageSize(int value) {
        return new WatchLimits(
                value,
                maxPageBytes,
                maxObjects,
                maxEventBytes,
                watchSeconds,
                idleTimeout,
                requestTimeout,
                initialBackoff,
                maxBackoff,
                absentRecheck);
    }

    public WatchLimits withMaxEventBytes(int value) {
        return new WatchLimits(
                pageSize,
                maxPageBytes,
                maxObjects,
                value,
                watchSeconds,
                idleTimeout,
                requestTimeout,
                initialBackoff,
                maxBackoff,
                absentRecheck);
    }

    public WatchLimits withAbsentRecheck(Duration value) {
        return new WatchLimits(
                pageSize,
                maxPageBytes,
                maxObjects,
                maxEventBytes,
                watchSeconds,
                idleTimeout,
                requestTimeout,
                initialBackoff,
                maxBackoff,
                value);
    }
}
