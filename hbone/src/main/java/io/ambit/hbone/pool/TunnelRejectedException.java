package io.ambit.hbone.pool;

import java.io.IOException;

/** The HBONE server answered the CONNECT with something other than 200. */
public final class TunnelRejectedException extends IOException {
    private final int status;

    public TunnelRejectedException(int status, String target) {
        super("HBONE server answered " + status + " to CONNECT " + target);
        this.status = status;
    }

    /** The HTTP status the server answered (ztunnel: 400, 401 or 503). */
    public int status() {
        return status;
    }
}
