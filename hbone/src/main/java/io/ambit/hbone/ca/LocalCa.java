package io.ambit.hbone.ca;

import io.ambit.hbone.cert.CertificateSource;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded CA for a laptop or a test (the counterpart of ztunnel's fake CA, §3.5): a self-signed ECDSA
 * P-256 root, created once in a state directory ({@code root-cert.pem}, and {@code root-key.pem} with mode
 * 0600) and loaded from there on every later start, so that restarts keep trust. The root signs workload
 * certificates directly: the chain presented is the leaf alone, the trust root is the root.
 *
 * <p>Creation is serialised by a lock file, so two processes starting on one directory make one root.
 * Any identity is issued: there is no caller to authenticate inside one process. It publishes no CRL.
 */
public final class LocalCa implements CertificateSource {
    /** The root certificate file in the state directory. */
    public static final String ROOT_CERT = "root-cert.pem";
    /** The root private key file in the state directory (mode 0600). */
    public static final String ROOT_KEY = "root-key.pem";
    /** How long a new root is valid. */
    public static final Duration ROOT_VALIDITY = Duration.ofDays(3650);

    private static final Logger LOG = LoggerFactory.getLogger(LocalCa.class);

    private final SigningCa ca;
    private final Clock clock;

    private LocalCa(SigningCa ca, Clock clock) {
        this.ca = ca;
        this.clock = clock;
    }

    /**
     * Loads the root from {@code stateDir}, creating the directory (mode 0700) and the root when there is
     * none.
     *
     * @throws CertificateSourceException when the directory holds half a CA, a bad file, or an expired root
     */
    public static LocalCa open(Path stateDir, Clock clock) throws CertificateSourceException {
        try {
            createDirectory(stateDir);
            try (var channel =
                    FileChannel.open(stateDir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock lock = channel.lock(); // released when the channel closes
                try {
                    return new LocalCa(loadOrCreate(stateDir, clock.instant()), clock);
                } finally {
                    lock.release();
                }
            }
        } catch (IOException e) {
            throw new CertificateSourceException(
                    stateDir + ": cannot use as the local CA state directory: " + e.getMessage(), e);
        }
    }

    @Override
    public WorkloadCertificate issue(SpiffeId identity, Duration ttl) throws CertificateSourceException {
        return ca.issue(identity, clock.instant(), ttl);
    }

    /** The root every issued certificate chains to. */
    public X509Certificate root() {
        return ca.certificate();
    }

    /** The root as a signing CA (for tools and tests that need to sign something else with it). */
    public SigningCa signingCa() {
        return ca;
    }

    private static SigningCa loadOrCreate(Path dir, Instant now) throws CertificateSourceException, IOException {
        Path certFile = dir.resolve(ROOT_CERT);
        Path keyFile = dir.resolve(ROOT_KEY);
        boolean hasCert = Files.exists(certFile);
        boolean hasKey = Files.exists(keyFile);
        if (hasCert != hasKey) {
            throw new CertificateSourceException(dir + " has " + (hasCert ? ROOT_CERT : ROOT_KEY) + " but no "
                    + (hasCert ? ROOT_KEY : ROOT_CERT) + " (expected both or neither; remove the directory to"
                    + " start a new local CA, which peers will have to trust again)");
        }
        if (!hasCert) {
            byte[] random = new byte[4];
            new SecureRandom().nextBytes(random);
            // A distinct name per root, so that chain building never confuses two local CAs.
            String suffix = HexFormat.of().formatHex(random);
            SigningCa root = SigningCa.newRoot("O=ambit, CN=ambit local CA " + suffix, now, ROOT_VALIDITY);
            Pem.write(keyFile, Pem.encodePrivateKey(root.key()), true);
            Pem.write(certFile, Pem.encodeCertificates(List.of(root.certificate())), false);
            LOG.info(
                    "{}: created a local CA root \"{}\"",
                    dir,
                    root.certificate().getSubjectX500Principal());
            return root;
        }
        warnIfReadable(keyFile);
        List<X509Certificate> certs = Pem.readCertificates(certFile, "the local CA root certificate");
        if (certs.size() != 1) {
            throw new CertificateSourceException(
                    certFile + ": found " + certs.size() + " certificates (expected the one local CA root)");
        }
        X509Certificate root = certs.getFirst();
        PrivateKey key = Pem.readPrivateKey(keyFile, "the private key of " + ROOT_CERT);
        if (!SigningCa.keyMatches(key, root.getPublicKey())) {
            throw new CertificateSourceException(
                    keyFile + " does not match the public key of " + certFile + " (expected the root's own key)");
        }
        if (!Chains.isCa(root)) {
            throw new CertificateSourceException(certFile + " is not a CA certificate (expected the local CA root)");
        }
        if (!now.isBefore(root.getNotAfter().toInstant())) {
            throw new CertificateSourceException(certFile + ": the local CA root expired at "
                    + root.getNotAfter().toInstant() + " (remove " + dir + " to start a new local CA)");
        }
        return new SigningCa(root, key, List.of(), List.of(root));
    }

    private static void createDirectory(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createDirectories(
                    dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
            Files.createDirectories(dir);
        }
    }

    private static void warnIfReadable(Path keyFile) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(keyFile);
            if (mode.contains(PosixFilePermission.GROUP_READ) || mode.contains(PosixFilePermission.OTHERS_READ)) {
                LOG.warn(
                        "{} is readable by others (mode {}); expected 0600",
                        keyFile,
                        PosixFilePermissions.toString(mode));
            }
        }
    }
}
