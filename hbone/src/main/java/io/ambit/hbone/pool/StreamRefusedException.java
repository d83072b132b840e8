package io.ambit.hbone.pool;

import java.io.IOException;

/**
 * The server did not process the stream (GOAWAY below its id, or RST_STREAM REFUSED_STREAM), so it is
 * safe to try again on another connection; the pool does so once by itself.
 */
final class StreamRefusedException extends IOException {
    StreamRefusedException(String message) {
        super(message);
    }
}
