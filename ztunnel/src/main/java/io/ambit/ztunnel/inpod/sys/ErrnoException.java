package io.ambit.ztunnel.inpod.sys;

import java.io.IOException;

/** A libc call failed: which call, and the {@code errno} it set (with its text). */
public final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public ErrnoException(String call, int errno, String text) {
        super(call + ": " + text + " (errno " + errno + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
