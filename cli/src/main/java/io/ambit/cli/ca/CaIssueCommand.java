package io.ambit.cli.ca;

import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.ca.PluggedCa;
import io.ambit.hbone.ca.StaticCertificates;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ambit ca issue SPIFFE-ID --ca DIR --out DIR}: a workload certificate from a CA directory, written
 * as {@code cert-chain.pem} (leaf first, then the CA's {@code cert-chain.pem}), {@code key.pem} (PKCS#8,
 * mode 0600) and {@code root-cert.pem} — the files {@code StaticCertificates} reads. Exit 0 on success, 2
 * on bad input, 1 when a file cannot be written.
 */
@Command(
        name = "issue",
        mixinStandardHelpOptions = true,
        description = {
            "Mint a workload certificate for SPIFFE-ID.",
            "The CA in --ca is one made by 'ambit ca init' or any Istio cacerts directory; the files go into --out.",
            "SPIFFE-ID is spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>.",
            "Files:",
            "  cert-chain.pem  the certificate, then the CA's chain",
            "  key.pem         its private key (PKCS#8, mode 0600)",
            "  root-cert.pem   the roots to trust",
            "Check them with:",
            "  openssl verify -CAfile root-cert.pem -untrusted cert-chain.pem cert-chain.pem",
            "Exit status: 0 on success; 2 on bad input; 1 when writing fails."
        })
public final class CaIssueCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SPIFFE-ID", description = "The workload identity.")
    String identity;

    @Option(names = "--ca", required = true, paramLabel = "DIR", description = "The CA directory (cacerts layout).")
    Path caDir;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write; created when missing.")
    Path outDir;

    @Option(
            names = "--ttl",
            defaultValue = "24h",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Lifetime, e.g. 24h (the default), 90m, 7d; capped by the CA certificate's.")
    Duration ttl;

    @Option(names = "--force", description = "Replace a key.pem already in --out.")
    boolean force;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            return issue(out, err);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int issue(PrintWriter out, PrintWriter err) {
        SpiffeId id;
        try {
            id = SpiffeId.parse(identity);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        if (ttl.isNegative() || ttl.isZero()) {
            err.println("error: --ttl " + ttl + " (expected > 0)");
            return 2;
        }
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            err.println("error: --out " + outDir + " is not a directory");
            return 2;
        }
        Path keyFile = outDir.resolve(StaticCertificates.KEY);
        if (!force && Files.exists(keyFile)) {
            err.println("error: " + keyFile + " exists; use --force to replace it");
            return 2;
        }
        WorkloadCertificate cert;
        try {
            cert = PluggedCa.open(caDir).issue(id, ttl);
        } catch (CertificateSourceException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        try {
            Files.createDirectories(outDir);
            Pem.write(keyFile, Pem.encodePrivateKey(cert.key()), true);
            Pem.write(outDir.resolve(StaticCertificates.CERT_CHAIN), Pem.encodeCertificates(cert.chain()), false);
            Pem.write(outDir.resolve(StaticCertificates.ROOT_CERT), Pem.encodeCertificates(cert.roots()), false);
        } catch (IOException e) {
            err.println("error: cannot write to " + outDir + ": " + e);
            return 1;
        }
        if (cert.notAfter().isBefore(cert.notBefore().plus(ttl))) {
            err.println("warning: the lifetime was shortened to end with the CA certificate, at " + cert.notAfter());
        }
        out.println("issued " + id + ", serial " + cert.leaf().getSerialNumber().toString(16) + ", valid "
                + cert.notBefore() + " to " + cert.notAfter());
        out.println("  " + outDir.resolve(StaticCertificates.CERT_CHAIN) + " (the certificate and "
                + (cert.chain().size() - 1) + " CA certificate(s))");
        out.println("  " + keyFile);
        out.println("  " + outDir.resolve(StaticCertificates.ROOT_CERT));
        return 0;
    }
}
