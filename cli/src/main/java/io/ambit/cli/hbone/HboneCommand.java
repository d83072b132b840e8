package io.ambit.cli.hbone;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ambit hbone}: HBONE endpoints by hand, for trying tunnels and interop without a mesh. */
@Command(
        name = "hbone",
        mixinStandardHelpOptions = true,
        description = {
            "Run HBONE endpoints: mutual TLS 1.3 + HTTP/2 CONNECT tunnels, as ztunnel speaks them on 15008.",
            "Certificates come from a CA directory made by 'ambit ca init' (or any Istio cacerts directory)."
        },
        subcommands = {HboneServeCommand.class, HboneForwardCommand.class})
public final class HboneCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
