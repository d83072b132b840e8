package io.ambit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code --help} prints each command's description as written: every description line fits the usage width,
 * so picocli does not re-wrap it into a long and a short line.
 */
class HelpWidthTest {

    @Test
    void everyCommandsDescriptionLinesAreKeptWhole() {
        var out = new StringWriter();
        assertThat(Main.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "waypoint", "--help"))
                .isZero();
        String help = out.toString();
        List<String> lines = new ArrayList<>();
        collect(new CommandLine(new Main()), lines);
        assertThat(lines).isNotEmpty();
        for (String line : lines) {
            assertThat(line.length())
                    .as("description line longer than the usage width: %s", line)
                    .isLessThanOrEqualTo(Main.USAGE_WIDTH);
        }
        // a line of the waypoint's description as written, not broken in two
        assertThat(help).contains("gateway.networking.k8s.io/gateway-name, or named by a service's waypoint:. Each");
    }

    private static void collect(CommandLine cl, List<String> lines) {
        for (String d : cl.getCommandSpec().usageMessage().description()) {
            lines.addAll(d.lines().toList());
        }
        for (CommandLine sub : cl.getSubcommands().values()) {
            collect(sub, lines);
        }
    }
}
