package io.ambit.xds.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.load.LoadError;
import io.ambit.xds.file.InvalidMeshFileException;
import io.ambit.xds.file.LocalMeshFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The local mesh file (issue 4: "a bad file is refused with a message naming the line and field, and the
 * last good state keeps serving"): the shipped quickstart mesh, mutated line by line (lines deleted,
 * duplicated, swapped, re-indented; values replaced by out-of-range numbers, YAML syntax, aliases, tags,
 * huge strings). Each mutant either loads or is refused with {@link InvalidMeshFileException} whose every
 * error names the file and a line or a field — never another exception.
 */
class MeshFileFuzzTest {
    private static final String NAME = "quickstart-mesh.yaml";
    private static final java.util.Set<String> CORE_KINDS =
            java.util.Set.of("AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication");
    private static final List<String> LINES = quickstart();

    @Property(seed = FuzzInputs.SEED)
    void aMutatedMeshFileLoadsOrIsRefusedWithLineAndField(@ForAll("mutants") String text) {
        try {
            LocalMeshFile.parse(text, NAME, List.of());
            FuzzInputs.outcome(true);
        } catch (InvalidMeshFileException e) {
            FuzzInputs.outcome(false);
            assertThat(e.errors()).isNotEmpty();
            for (LoadError error : e.errors()) {
                assertThat(error.file()).isEqualTo(NAME);
                assertThat(error.message()).isNotBlank();
                assertThat(error.line() > 0 || error.field() != null || error.object() != null)
                        .as("%s names where the problem is", error)
                        .isTrue();
            }
        }
    }

    /** Regression: a map or list used as a key was refused without any line (snakeyaml gives no mark). */
    @Example
    void aNonScalarKeyIsRefusedWithItsLine() {
        String text = "mesh:\n  trustDomain: cluster.local\nworkloads:\n- name: a\n  ? [x, y]\n  : z\n";
        try {
            LocalMeshFile.parse(text, NAME, List.of());
            throw new AssertionError("loaded a file with a list as a key");
        } catch (InvalidMeshFileException e) {
            assertThat(e.errors()).extracting(LoadError::line).containsExactly(5);
            assertThat(e.getMessage()).startsWith(NAME + ":5: invalid YAML: Non scalar key");
        }
    }

    /** Regression: a control character was refused without its line (snakeyaml gives an offset only). */
    @Example
    void aControlCharacterIsRefusedWithItsLine() {
        String text = "mesh:\n  trustDomain: cluster.local\nworkloads:\n- name: a\u0001b\n";
        try {
            LocalMeshFile.parse(text, NAME, List.of());
            throw new AssertionError("loaded a file with a control character");
        } catch (InvalidMeshFileException e) {
            assertThat(e.errors()).extracting(LoadError::line).containsExactly(4);
        }
    }

    private record Mutation(int kind, int line, int other, String value) {
        List<String> apply(List<String> lines) {
            List<String> out = new ArrayList<>(lines);
            if (out.isEmpty()) {
                return out;
            }
            int i = Math.floorMod(line, out.size());
            int j = Math.floorMod(other, out.size());
            switch (kind) {
                case 0 -> out.remove(i);
                case 1 -> out.add(i, out.get(i));
                case 2 -> {
                    String t = out.get(i);
                    out.set(i, out.get(j));
                    out.set(j, t);
                }
                case 3 -> out.set(i, value + out.get(i));
                case 4 -> out.add(i, value);
                default -> {
                    // replace the value after the first ": " or "- " (or the whole line)
                    String l = out.get(i);
                    int colon = l.indexOf(": ");
                    int dash = l.indexOf("- ");
                    int at = colon >= 0 ? colon + 2 : dash >= 0 ? dash + 2 : 0;
                    out.set(i, l.substring(0, at) + value);
                }
            }
            return out;
        }
    }

    @Provide
    Arbitrary<String> mutants() {
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.of(
                        "-1",
                        "0",
                        "65536",
                        "70000",
                        "99999999999999999999",
                        "1.5",
                        "0x10",
                        "\"\"",
                        "''",
                        "[",
                        "]",
                        "{",
                        "}",
                        "{a: b}",
                        "[1, [2]]",
                        "*",
                        "&a x",
                        "*a",
                        "*undefined",
                        "!!binary AAAA",
                        "!!int x",
                        "~",
                        "null",
                        "true",
                        "no",
                        "\"\\u0000\"",
                        "\t",
                        "  ",
                        "- ",
                        "? x",
                        ": y",
                        "|",
                        ">",
                        "\"127.0.0.1\"",
                        "[\"127.0.1.1\"]",
                        "[\"::1\", \"999.1.1.1\"]",
                        "{\"ns/x\": {1: 2}}",
                        "---",
                        "...",
                        "%YAML 1.1",
                        "kind: AuthorizationPolicy",
                        "x".repeat(5000),
                        "é\u0000\u0085",
                        "[".repeat(60),
                        "{a: ".repeat(40)),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(12));
        Arbitrary<Mutation> mutation = Combinators.combine(
                        Arbitraries.integers().between(0, 5),
                        Arbitraries.integers().between(0, 1000),
                        Arbitraries.integers().between(0, 1000),
                        value)
                .as(Mutation::new);
        return mutation.list().ofMinSize(1).ofMaxSize(4).map(ms -> {
            List<String> lines = LINES;
            for (Mutation m : ms) {
                lines = m.apply(lines);
            }
            return String.join("\n", lines) + "\n";
        });
    }

    /**
     * The quickstart mesh without the documents of kinds that modules above xds-client add (the waypoint's
     * LocalRateLimit): what LocalMeshFile itself reads.
     */
    private static List<String> quickstart() {
        String text;
        try {
            text = Files.readString(Path.of("../examples/quickstart-mesh.yaml"));
        } catch (IOException e) {
            throw new UncheckedIOException("the quickstart mesh this test mutates", e);
        }
        List<String> kept = new ArrayList<>();
        for (String doc : text.split("\n---\n", -1)) {
            boolean ours = doc.lines()
                    .filter(l -> l.startsWith("kind: "))
                    .allMatch(l ->
                            CORE_KINDS.contains(l.substring("kind: ".length()).strip()));
            if (ours) {
                kept.add(doc);
            }
        }
        return List.of(String.join("\n---\n", kept).split("\n", -1));
    }

    /** The file the mutations start from loads: the fuzzing starts from a valid mesh. */
    @Example
    void theUnmutatedQuickstartLoads() throws InvalidMeshFileException {
        LocalMeshFile.parse(String.join("\n", LINES), NAME, List.of());
    }
}
