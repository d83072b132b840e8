package io.ambit.cli.authz;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ambit authz}: offline policy tools. */
@Command(
        name = "authz",
        mixinStandardHelpOptions = true,
        description = "Offline authorization tools: decide requests against Istio policies before a rollout.",
        subcommands = {AuthzCheckCommand.class})
public final class AuthzCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
