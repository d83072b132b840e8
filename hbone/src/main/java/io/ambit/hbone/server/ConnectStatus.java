package io.ambit.hbone.server;

/** The answers an HBONE server gives a CONNECT, with ztunnel's meaning of each (ztunnel-reference.md §2.4). */
public enum ConnectStatus {
    /** Accepted: the tunnel is open. */
    OK(200),
    /** Not a CONNECT, an unparsable authority, or a destination this node does not serve. */
    BAD_REQUEST(400),
    /** Denied by authorization policy. */
    UNAUTHORIZED(401),
    /** Destination unknown, not listening, or the server is not ready (also: the decision failed or timed out). */
    SERVICE_UNAVAILABLE(503);

    private final int code;

    ConnectStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
