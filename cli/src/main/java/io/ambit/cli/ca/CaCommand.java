package io.ambit.cli.ca;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ambit ca}: a CA directory for development and tests, in Istio's {@code cacerts} layout. */
@Command(
        name = "ca",
        mixinStandardHelpOptions = true,
        description = {
            "Create a CA and mint workload certificates.",
            "The CA directory uses Istio's cacerts layout (root-cert.pem, cert-chain.pem, ca-cert.pem,",
            "ca-key.pem), so it plugs into ambit and istiod as is."
        },
        subcommands = {CaInitCommand.class, CaIssueCommand.class})
public final class CaCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
