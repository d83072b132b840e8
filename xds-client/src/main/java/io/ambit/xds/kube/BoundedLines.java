package io.ambit.xds.kube;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a watch stream one event (one line) at a time, never holding more than {@code maxLine} bytes: a
 * server that sends an endless line is cut off instead of filling the heap.
 */
final class BoundedLines {
    /** Thrown when a line is longer than the limit; the stream is then useless and must be closed. */
    static final class LineTooLongException extends IOException {
        LineTooLongException(int max) {
            super("a watch event is longer than " + max + " bytes (expected: one Kubernetes object per line)");
        }
    }

    private final InputStream in;
    private final int maxLine;
    private final byte[] buffer = new byte[16 * 1024];
    private int start;
    private int end;

    BoundedLines(InputStream in, int maxLine) {
        this.in = in;
        this.maxLine = maxLine;
    }

    /** The next non-empty line without its end, or null at the end of the stream. */
    String next() throws IOException {
        var line = new ByteArrayOutputStream();
        while (true) {
            if (start == end) {
                int n = in.read(buffer);
                if (n < 0) {
                    // a last line without newline is an event cut off mid-way: not applied
                    return null;
                }
                start = 0;
                end = n;
            }
            int nl = -1;
            for (int i = start; i < end; i++) {
                if (buffer[i] == '\n') {
                    nl = i;
                    break;
                }
            }
            int stop = nl < 0 ? end : nl;
            if (line.size() + (stop - start) > maxLine) {
                throw new LineTooLongException(maxLine);
            }
            line.write(buffer, start, stop - start);
            start = nl < 0 ? end : nl + 1;
            if (nl >= 0) {
                if (line.size() == 0 || (line.size() == 1 && line.toByteArray()[0] == '\r')) {
                    line.reset();
                    continue; // blank keep-alive line
                }
                return line.toString(StandardCharsets.UTF_8).stripTrailing();
            }
        }
    }
}
