package io.ambit.waypoint.conformance.attack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ambit.waypoint.testing.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * wfuzz 3.1.0 (Debian) run over one of our wordlists, read back from its JSON report ({@code -f file,json}):
 * the status of every payload, keyed by the payload. wfuzz sends the path as it is (libcurl's PATH_AS_IS), so
 * dot segments, backslashes and escapes reach the waypoint unchanged; libcurl itself drops a {@code #fragment}.
 */
final class Wfuzz {
    private Wfuzz() {}

    /** One payload's answer. */
    record Hit(String payload, int code, String url) {}

    /**
     * Fuzzes {@code url} (containing {@code FUZZ}) with the payloads of wordlist {@code list}, with extra wfuzz
     * {@code options} (e.g. {@code -H "Host: FUZZ"}); fails naming the list when any payload got no answer.
     */
    static Map<String, Hit> run(Path dir, String list, String url, String... options) throws Exception {
        List<String> payloads = AttackTools.wordlist(list);
        Path words = AttackTools.writeList(dir, list + ".lst", payloads);
        Path report = dir.resolve(list + ".json");
        Files.deleteIfExists(report);
        List<String> cmd = new ArrayList<>(List.of("wfuzz", "-z", "file," + words, "-t", "4"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-f", report + ",json", url));
        var r = Processes.run(cmd, Duration.ofSeconds(120));
        if (!Files.exists(report)) {
            throw new AssertionError("wfuzz wrote no report for " + list + ": " + r);
        }
        Map<String, Hit> hits = new LinkedHashMap<>();
        for (JsonNode n : new ObjectMapper().readTree(report.toFile())) {
            String payload = n.path("payload").asText();
            hits.put(
                    payload,
                    new Hit(payload, n.path("code").asInt(-1), n.path("url").asText()));
        }
        List<String> missing =
                payloads.stream().filter(p -> !hits.containsKey(p)).toList();
        if (!missing.isEmpty()) {
            throw new AssertionError("wfuzz reported no answer for " + missing + " of " + list + ": " + r);
        }
        return hits;
    }
}
