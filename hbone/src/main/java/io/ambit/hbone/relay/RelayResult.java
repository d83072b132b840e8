package io.ambit.hbone.relay;

/**
 * How a relay ended.
 *
 * @param aToB bytes read from side A and written to B
 * @param bToA bytes read from side B and written to A
 * @param outcome how it ended
 * @param cause the error that ended it, or {@code null}
 */
public record RelayResult(long aToB, long bToA, Outcome outcome, Throwable cause) {

    /** How a relay ended. */
    public enum Outcome {
        /** Both directions ended with FIN / END_STREAM (or RST_STREAM NO_ERROR). */
        CLEAN,
        /** A side was reset or closed before both directions ended; the other side was reset too. */
        RESET,
        /** An I/O error on a side; the other side was reset. */
        ERROR
    }
}
