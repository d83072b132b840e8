package io.ambit.cli.authz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ambit.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shipped example under {@code examples/policies/} decides its requests as its
 * {@code expected.jsonl} says. The expectations were derived by hand from the spec, independently of
 * the engine; each line lists only the keys the spec determines.
 */
class ExamplesTest {
    private static final Path EXAMPLES = Path.of("..", "examples", "policies");
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<String> examples() throws IOException {
        try (var dirs = Files.list(EXAMPLES)) {
            return dirs
                    .filter(d -> Files.isRegularFile(d.resolve("requests.jsonl")))
                    .map(d -> d.getFileName().toString())
                    .sorted()
                    .toList()
                    .stream();
        }
    }

    @ParameterizedTest(name = "examples/policies/{0} decides as expected.jsonl says")
    @MethodSource("examples")
    void decidesAsExpected(String name) throws IOException {
        Path dir = EXAMPLES.resolve(name);
        var args = new ArrayList<>(List.of("authz", "check", "--policies", dir.toString()));
        if (Files.exists(dir.resolve("mesh.yaml"))) {
            args.addAll(List.of("--mesh", dir.resolve("mesh.yaml").toString()));
        }
        args.addAll(List.of("--requests", dir.resolve("requests.jsonl").toString()));
        var out = new StringWriter();
        var err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));

        assertThat(code).as("exit code; stderr:%n%s", err).isZero();
        var actual = out.toString().lines().toList();
        var expected = Files.readAllLines(dir.resolve("expected.jsonl")).stream()
                .filter(l -> !l.isBlank())
                .toList();
        var requests = Files.readAllLines(dir.resolve("requests.jsonl")).stream()
                .filter(l -> !l.isBlank())
                .toList();
        assertThat(actual).hasSameSizeAs(expected);
        var mismatches = new ArrayList<String>();
        for (int i = 0; i < expected.size(); i++) {
            JsonNode want = JSON.readTree(expected.get(i));
            JsonNode got = JSON.readTree(actual.get(i));
            for (var e : want.properties()) {
                if (!e.getValue().equals(got.get(e.getKey()))) {
                    mismatches.add("line " + (i + 1) + ": " + e.getKey() + " expected " + e.getValue() + " got "
                            + got.get(e.getKey()) + "\n    request: " + requests.get(i) + "\n    output:  " + got);
                }
            }
        }
        assertThat(mismatches).as("mismatches in %s", dir).isEmpty();
    }
}
