package io.ambit.waypoint.http2;

/**
 * The client's most recent streams (the last {@value #CAPACITY} it opened) and whether each ended by our
 * RST_STREAM, so that a frame for a stream Netty no longer tracks can be told apart as RFC 9113 tells it:
 * <ul>
 *   <li>{@link Fate#RESET_BY_US}: the client may have sent it before our reset reached it — ignored (§5.1: "MUST
 *       ignore frames that it receives on closed streams after it has sent a RST_STREAM frame");
 *   <li>{@link Fate#CLOSED}: the client reset it or both sides ended it — a stream error STREAM_CLOSED (§5.1);
 *   <li>{@link Fate#NEVER_OPENED}: an id below one the client already used, never opened — a new stream that
 *       cannot be (§5.1.1: "MUST respond with a connection error of type PROTOCOL_ERROR");
 *   <li>{@link Fate#UNKNOWN}: older than what is kept — a stream error STREAM_CLOSED, the lesser error.
 * </ul>
 * A client opens its streams with increasing ids, so the ring is sorted and looked up by binary search. Fixed
 * size (about 1 KiB per connection), allocated with the connection's first stream; event loop only.
 */
final class StreamHistory {
    static final int CAPACITY = 256;

    enum Fate {
        RESET_BY_US,
        CLOSED,
        NEVER_OPENED,
        UNKNOWN
    }

    private int[] ids; // ring, ascending from `start`
    private boolean[] resetByUs;
    private int start;
    private int size;
    private boolean forgot; // the ring wrapped: ids below its oldest are no longer known

    /** The client opened {@code id} (greater than every id before it). */
    void opened(int id) {
        if (ids == null) {
            ids = new int[CAPACITY];
            resetByUs = new boolean[CAPACITY];
        }
        int slot;
        if (size < CAPACITY) {
            slot = (start + size++) % CAPACITY;
        } else {
            slot = start;
            start = (start + 1) % CAPACITY;
            forgot = true;
        }
        ids[slot] = id;
        resetByUs[slot] = false;
    }

    /** Stream {@code id} closed; {@code ourReset} when it ended by a RST_STREAM we sent. */
    void closed(int id, boolean ourReset) {
        int slot = find(id);
        if (slot >= 0) {
            resetByUs[slot] = ourReset;
        }
    }

    /** What became of {@code id}, a client stream id below the last one it opened and no longer open. */
    Fate fate(int id) {
        if (size > 0 && id < ids[start] && forgot) {
            return Fate.UNKNOWN;
        }
        int slot = find(id);
        if (slot < 0) {
            return Fate.NEVER_OPENED;
        }
        return resetByUs[slot] ? Fate.RESET_BY_US : Fate.CLOSED;
    }

    private int find(int id) {
        if (size == 0) {
            return -1;
        }
        int lo = 0;
        int hi = size - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int slot = (start + mid) % CAPACITY;
            int at = ids[slot];
            if (at < id) {
                lo = mid + 1;
            } else if (at > id) {
                hi = mid - 1;
            } else {
                return slot;
            }
        }
        return -1;
    }
}
