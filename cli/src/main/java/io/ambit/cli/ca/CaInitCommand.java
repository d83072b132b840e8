package io.ambit.cli.ca;

import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.ca.PluggedCa;
import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.identity.SpiffeId;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ambit ca init DIR}: a new root and an intermediate signed by it, written in Istio's {@code
 * cacerts} layout so that {@code PluggedCa} (or istiod) uses the directory as is. Refuses to replace an
 * existing CA without {@code --force}. Exit 0 on success, 2 on bad input, 1 when a file cannot be written.
 */
@Command(
        name = "init",
        mixinStandardHelpOptions = true,
        description = {
            "Create a CA (a root and a signing intermediate) in DIR.",
            "Files, in Istio's cacerts layout:",
            "  root-cert.pem   the root workloads trust",
            "  ca-cert.pem     the intermediate",
            "  ca-key.pem      its private key (mode 0600)",
            "  cert-chain.pem  ca-cert.pem then root-cert.pem",
            "The root's key is not kept unless --root-key-out is given.",
            "Exit status: 0 on success; 2 on bad input or an existing CA; 1 when writing fails."
        })
public final class CaInitCommand implements Callable<Integer> {
    private static final List<String> CA_FILES =
            List.of(PluggedCa.ROOT_CERT, PluggedCa.CERT_CHAIN, PluggedCa.CA_CERT, PluggedCa.CA_KEY);

    @Parameters(index = "0", paramLabel = "DIR", description = "The CA directory; created when missing.")
    Path dir;

    @Option(names = "--force", description = "Replace a CA already in DIR (its ca-crl.pem is removed too).")
    boolean force;

    @Option(
            names = "--trust-domain",
            defaultValue = "cluster.local",
            paramLabel = "DOMAIN",
            description = "Written as the organisation (O=) of both CA certificates. Default: ${DEFAULT-VALUE}.")
    String trustDomain;

    @Option(
            names = "--root-ttl",
            defaultValue = "87600h",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Lifetime of the root, e.g. 87600h (10 years, the default), 30d.")
    Duration rootTtl;

    @Option(
            names = "--ca-ttl",
            defaultValue = "43800h",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Lifetime of the intermediate (capped by the root's). Default: ${DEFAULT-VALUE}.")
    Duration caTtl;

    @Option(
            names = "--root-key-out",
            paramLabel = "FILE",
            description = "Also save the root's private key here (mode 0600), to sign more intermediates later.")
    Path rootKeyOut;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            return init(out, err);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int init(PrintWriter out, PrintWriter err) {
        if (rootTtl.isNegative() || rootTtl.isZero() || caTtl.isNegative() || caTtl.isZero()) {
            err.println("error: --root-ttl " + rootTtl + ", --ca-ttl " + caTtl + " (expected both > 0)");
            return 2;
        }
        try {
            new SpiffeId(trustDomain, "ns", "sa");
        } catch (IllegalArgumentException e) {
            err.println("error: --trust-domain: " + e.getMessage());
            return 2;
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            err.println("error: " + dir + " is not a directory (expected a directory for the CA files)");
            return 2;
        }
        for (String name : CA_FILES) {
            if (!force && Files.exists(dir.resolve(name))) {
                err.println("error: " + dir + " already holds a CA (" + name + " exists); use --force to replace it."
                        + " Workloads that trust the old root will not trust certificates from the new one.");
                return 2;
            }
        }

        Instant now = Instant.now();
        SigningCa root = SigningCa.newRoot("O=" + trustDomain + ", CN=ambit root CA", now, rootTtl);
        SigningCa ca;
        try {
            ca = root.newIntermediate("O=" + trustDomain + ", CN=ambit intermediate CA", now, caTtl);
        } catch (CertificateSourceException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(PluggedCa.CA_CRL)); // signed by the old CA, it would not load
            Pem.write(dir.resolve(PluggedCa.CA_KEY), Pem.encodePrivateKey(ca.key()), true);
            Pem.write(dir.resolve(PluggedCa.CA_CERT), Pem.encodeCertificates(List.of(ca.certificate())), false);
            Pem.write(dir.resolve(PluggedCa.CERT_CHAIN), Pem.encodeCertificates(ca.chain()), false);
            Pem.write(dir.resolve(PluggedCa.ROOT_CERT), Pem.encodeCertificates(root.roots()), false);
            if (rootKeyOut != null) {
                Pem.write(rootKeyOut, Pem.encodePrivateKey(root.key()), true);
            }
        } catch (IOException e) {
            err.println("error: cannot write the CA to " + dir + ": " + e);
            return 1;
        }
        try {
            PluggedCa.open(dir); // what we wrote must load as a plugged CA
        } catch (CertificateSourceException e) {
            err.println("error: the CA written to " + dir + " does not load: " + e.getMessage());
            return 1;
        }

        out.println("created a CA in " + dir);
        out.println("  root:         "
                + root.certificate().getSubjectX500Principal().getName() + ", valid until "
                + root.certificate().getNotAfter().toInstant());
        out.println(
                "  intermediate: " + ca.certificate().getSubjectX500Principal().getName() + ", valid until "
                        + ca.certificate().getNotAfter().toInstant());
        out.println("  files:        " + String.join(" ", CA_FILES));
        out.println(
                rootKeyOut != null
                        ? "  root key:     " + rootKeyOut
                        : "  root key:     not kept (use --root-key-out FILE to keep it)");
        return 0;
    }
}
