package io.ambit.cli;

import io.ambit.cli.authz.AuthzCommand;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ambit} command. Subcommands are added as the proxies that need them arrive. */
@Command(
        name = "ambit",
        mixinStandardHelpOptions = true,
        version = "ambit 0.1.0",
        description = "A pure-Java ambient-mesh data plane: ztunnel and waypoint.",
        subcommands = {
            AuthzCommand.class,
            io.ambit.cli.ca.CaCommand.class,
            io.ambit.cli.hbone.HboneCommand.class,
            io.ambit.cli.run.RunCommand.class,
            io.ambit.cli.ztunnel.ZtunnelCommand.class,
            io.ambit.cli.controlplane.ControlPlaneCommand.class,
            io.ambit.cli.waypoint.WaypointCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Buffered: authz check writes thousands of lines; flushed once at the end.
        var out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)));
        var err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = run(out, err, args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** The width of {@code --help} output. */
    static final int USAGE_WIDTH = 120;

    /** Runs the command line with the given streams; returns the exit code (2 for usage errors). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        var cl = new CommandLine(new Main());
        // The commands' descriptions are written as lines of up to ~105 characters; picocli's default 80 would
        // re-wrap each into a long and a short line.
        cl.setUsageHelpWidth(USAGE_WIDTH);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            var e = ex.getCommandLine().getErr();
            e.println("ambit: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, e);
            e.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return 2;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
