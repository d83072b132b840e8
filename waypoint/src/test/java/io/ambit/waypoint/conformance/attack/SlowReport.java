package io.ambit.waypoint.conformance.attack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * slowhttptest's own report ({@code -g -o prefix} writes {@code prefix.csv}): per second of the test, how
 * many of its connections the server had closed, were pending, were connected, and whether its probe
 * connection was served ({@code Service Available}: the connection target when it was, 0 when not).
 */
record SlowReport(List<Row> rows, String text) {
    record Row(int second, int closed, int pending, int connected, int available) {}

    static SlowReport read(Path csv, String toolOutput) throws IOException {
        if (!Files.exists(csv)) {
            throw new AssertionError("slowhttptest wrote no report " + csv + "; it printed:\n" + toolOutput);
        }
        List<String> lines = Files.readAllLines(csv);
        if (lines.isEmpty() || !lines.getFirst().startsWith("Seconds,Closed,Pending,Connected,Service Available")) {
            throw new AssertionError("unexpected slowhttptest report header in " + csv + ": " + lines);
        }
        List<Row> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",");
            rows.add(new Row(
                    Integer.parseInt(f[0].trim()),
                    Integer.parseInt(f[1].trim()),
                    Integer.parseInt(f[2].trim()),
                    Integer.parseInt(f[3].trim()),
                    Integer.parseInt(f[4].trim())));
        }
        if (rows.isEmpty()) {
            throw new AssertionError("slowhttptest report " + csv + " has no rows; it printed:\n" + toolOutput);
        }
        return new SlowReport(List.copyOf(rows), String.join("\n", lines));
    }

    /** The most connections the attack held at once. */
    int peakConnected() {
        return rows.stream().mapToInt(Row::connected).max().orElse(0);
    }

    /** Whether the probe found the service unavailable in any second. */
    boolean everUnavailable() {
        return rows.stream().anyMatch(r -> r.available() == 0);
    }

    @Override
    public String toString() {
        return text;
    }
}
