package io.ambit.waypoint.conformance.h2;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.testing.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

/**
 * Runs the project's HTTP/2 conformance script ({@code conformance/h2/h2conf.py}, h2spec's cases on Debian's
 * python3-hyperframe and python3-hpack) against a live server, as a real process, and turns each case it reports
 * into a test named by the case's id. A case fails with what it expected and what it observed.
 */
final class H2Conformance {
    /** Debian's interpreter: the one the python3-hyperframe/-hpack packages install into (not a pyenv one). */
    static final String PYTHON = "/usr/bin/python3";

    private static final String SCRIPT = "conformance/h2/h2conf.py";

    /** One case as the script reported it. */
    record Result(String id, boolean passed, String title, String expected, String observed) {}

    private H2Conformance() {}

    /** The script, found from the module's directory up to the repository root. */
    static Path script() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(SCRIPT);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError(SCRIPT + " not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * Fails (never skips) when the interpreter or its packages are missing: CI installs them
     * (python3-hyperframe python3-hpack python3-h2).
     */
    static void requirePython() throws IOException, InterruptedException {
        var check = Processes.run(
                List.of(
                        PYTHON,
                        "-c",
                        "import hyperframe, hpack, h2; print(hyperframe.__version__, hpack.__version__, h2.__version__)"),
                Duration.ofSeconds(30));
        assertThat(check.exit())
                .as(
                        "%s with python3-hyperframe, python3-hpack and python3-h2 (Debian packages) is needed: %s",
                        PYTHON, check)
                .isZero();
    }

    /** The cases the script has for {@code profile} (its {@code --list}). */
    static List<String> caseIds(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PYTHON, script().toString()));
        command.addAll(args);
        command.add("--list");
        var listed = Processes.run(command, Duration.ofSeconds(30));
        assertThat(listed.exit()).as("h2conf.py --list: %s", listed).isZero();
        return listed.out().lines().map(l -> l.split("\t", 2)[0]).toList();
    }

    /** Runs every case of the profile in {@code args}; the run itself is bounded by {@code timeout}. */
    static List<Result> run(List<String> args, Duration timeout) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PYTHON, script().toString()));
        command.addAll(args);
        var run = Processes.run(command, timeout);
        List<Result> results = new ArrayList<>();
        for (String line : run.out().lines().toList()) {
            if (line.startsWith("RESULT\t")) {
                String[] f = line.split("\t", 6);
                assertThat(f).as("a RESULT line with 6 fields: %s", line).hasSize(6);
                results.add(new Result(f[1], f[2].equals("PASS"), f[3], f[4], f[5]));
            }
        }
        assertThat(run.out()).as("the script's summary; %s", run).contains("SUMMARY passed=");
        assertThat(run.exit())
                .as("exit status agrees with the results; %s", run)
                .isEqualTo(results.stream().allMatch(Result::passed) ? 0 : 1);
        return results;
    }

    /** One test per case: passes when the case did, else fails naming the case, expected and observed. */
    static Stream<DynamicTest> tests(List<String> expectedIds, List<Result> results) {
        assertThat(results.stream().map(Result::id).toList())
                .as("every case of the profile ran and reported")
                .containsExactlyElementsOf(expectedIds);
        return results.stream()
                .map(r -> DynamicTest.dynamicTest(r.id() + " " + r.title(), () -> assertThat(r.passed())
                        .as("case %s (%s): expected %s; observed %s", r.id(), r.title(), r.expected(), r.observed())
                        .isTrue()));
    }
}
