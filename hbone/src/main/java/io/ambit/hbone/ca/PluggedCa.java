package io.ambit.hbone.ca;

import io.ambit.hbone.cert.CertificateSource;
import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A CA plugged in as an Istio {@code cacerts} directory (the layout of istiod's {@code cacerts} secret):
 *
 * <table>
 *   <caption>Files</caption>
 *   <tr><td>{@code root-cert.pem}</td><td>the root(s) workloads trust; several roots are all trusted</td></tr>
 *   <tr><td>{@code ca-cert.pem}</td><td>the intermediate that signs workload certificates</td></tr>
 *   <tr><td>{@code ca-key.pem}</td><td>its private key (EC, RSA or Ed25519; PKCS#8, PKCS#1 or SEC1)</td></tr>
 *   <tr><td>{@code cert-chain.pem}</td><td>{@code ca-cert.pem} followed by its issuers up to the root;
 *       presented after every workload certificate</td></tr>
 *   <tr><td>{@code ca-crl.pem}</td><td>optional: a CRL signed by one of the CA certificates above</td></tr>
 * </table>
 *
 * <p>Everything is checked when the directory is opened: each file parses, {@code ca-cert.pem} is one CA
 * certificate valid now, {@code ca-key.pem} is its key, {@code cert-chain.pem} starts with it and leads to
 * {@code root-cert.pem} (JDK PKIX), and the CRL is signed by one of them. Errors name the file and what was
 * expected. The files are read again on every issuance and CRL request: a changed set that passes the
 * checks replaces the old one; one that fails them is logged and the last good set stays in use.
 */
public final class PluggedCa implements CertificateSource {
    /** The trust roots. */
    public static final String ROOT_CERT = "root-cert.pem";
    /** The chain presented after each leaf: {@code ca-cert.pem}, then its issuers up to the root. */
    public static final String CERT_CHAIN = "cert-chain.pem";
    /** The signing (intermediate) CA certificate. */
    public static final String CA_CERT = "ca-cert.pem";
    /** The signing CA's private key. */
    public static final String CA_KEY = "ca-key.pem";
    /** The optional revocation list. */
    public static final String CA_CRL = "ca-crl.pem";

    private static final String LAYOUT = "an Istio cacerts directory with " + ROOT_CERT + ", " + CERT_CHAIN + ", "
            + CA_CERT + ", " + CA_KEY + " and optionally " + CA_CRL;

    /** Created on first use: the CLI has no SLF4J provider, and an idle logger must not warn about it. */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(PluggedCa.class);
    }

    private final Path dir;
    private final Clock clock;

    // guarded by this
    private Texts texts;
    private SigningCa ca;
    private Texts rejected;
    private String crlText;
    private X509CRL crl;
    private String rejectedCrlText;

    private record Texts(String root, String chain, String cert, String key) {}

    private PluggedCa(Path dir, Clock clock, Texts texts, SigningCa ca, String crlText, X509CRL crl) {
        this.dir = dir;
        this.clock = clock;
        this.texts = texts;
        this.ca = ca;
        this.crlText = crlText;
        this.crl = crl;
    }

    /** Opens {@code dir}, checking every file now, on the system clock. */
    public static PluggedCa open(Path dir) throws CertificateSourceException {
        return open(dir, Clock.systemUTC());
    }

    /**
     * Opens {@code dir}, checking every file at {@code clock}'s time; certificates are issued on it too.
     *
     * @throws CertificateSourceException naming the missing or bad file and what was expected
     */
    public static PluggedCa open(Path dir, Clock clock) throws CertificateSourceException {
        if (!Files.isDirectory(dir)) {
            throw new CertificateSourceException(dir + ": no such directory (expected " + LAYOUT + ")");
        }
        Texts texts = readTexts(dir);
        Instant now = clock.instant();
        SigningCa ca = load(dir, texts, now);
        String crlText = readCrlText(dir);
        X509CRL crl = crlText == null ? null : loadCrl(dir, crlText, ca);
        return new PluggedCa(dir, clock, texts, ca, crlText, crl);
    }

    @Override
    public WorkloadCertificate issue(SpiffeId identity, Duration ttl) throws CertificateSourceException {
        return signingCa().issue(identity, clock.instant(), ttl);
    }

    /** The CRL from {@code ca-crl.pem}, re-read if the file changed; a bad new CRL is logged and ignored. */
    @Override
    public synchronized Optional<X509CRL> crl() {
        String text;
        try {
            text = readCrlText(dir);
        } catch (CertificateSourceException e) {
            Log.LOG.warn("{}; keeping the last good CRL", e.getMessage());
            return Optional.ofNullable(crl);
        }
        if (text == null || text.equals(crlText) || text.equals(rejectedCrlText)) {
            // A CRL that disappears keeps its revocations: un-revoking takes a newer CRL.
            return Optional.ofNullable(crl);
        }
        try {
            crl = loadCrl(dir, text, signingCa());
            crlText = text;
            Log.LOG.info("{}: loaded a new CRL ({} revoked)", dir.resolve(CA_CRL), count(crl));
        } catch (CertificateSourceException e) {
            rejectedCrlText = text;
            Log.LOG.warn("{}; keeping the last good CRL", e.getMessage());
        }
        return Optional.ofNullable(crl);
    }

    /**
     * The CA in use, after reading the files again: a changed set that passes the checks replaces it, one
     * that does not is logged (once) and ignored.
     */
    public synchronized SigningCa signingCa() {
        Texts now;
        try {
            now = readTexts(dir);
        } catch (CertificateSourceException e) {
            Log.LOG.warn("{}; keeping the CA loaded before", e.getMessage());
            return ca;
        }
        if (now.equals(texts) || now.equals(rejected)) {
            return ca;
        }
        try {
            ca = load(dir, now, clock.instant());
            texts = now;
            Log.LOG.info(
                    "{}: reloaded the plugged CA ({})", dir, ca.certificate().getSubjectX500Principal());
        } catch (CertificateSourceException e) {
            rejected = now;
            Log.LOG.warn("{}; keeping the CA loaded before", e.getMessage());
        }
        return ca;
    }

    /** The directory this CA reads. */
    public Path directory() {
        return dir;
    }

    private static Texts readTexts(Path dir) throws CertificateSourceException {
        return new Texts(
                required(dir, ROOT_CERT, "the root certificate(s) workloads trust"),
                required(dir, CERT_CHAIN, CA_CERT + " followed by its issuers up to the root"),
                required(dir, CA_CERT, "the CA certificate that signs workload certificates"),
                required(dir, CA_KEY, "the private key of " + CA_CERT));
    }

    private static String required(Path dir, String name, String what) throws CertificateSourceException {
        Path file = dir.resolve(name);
        if (!Files.exists(file)) {
            throw new CertificateSourceException(
                    dir + " has no " + name + " (expected " + what + "; the directory should be " + LAYOUT + ")");
        }
        return Pem.read(file, what);
    }

    private static String readCrlText(Path dir) throws CertificateSourceException {
        Path file = dir.resolve(CA_CRL);
        return Files.exists(file) ? Pem.read(file, "a CRL signed by the CA") : null;
    }

    /** Parses and cross-checks the four files. */
    static SigningCa load(Path dir, Texts texts, Instant now) throws CertificateSourceException {
        List<X509Certificate> roots =
                Pem.parseCertificates(texts.root(), origin(dir, ROOT_CERT), "the root certificate(s) workloads trust");
        for (int i = 0; i < roots.size(); i++) {
            if (roots.get(i).getBasicConstraints() < 0) {
                throw new CertificateSourceException(origin(dir, ROOT_CERT) + ": certificate " + (i + 1) + " "
                        + subject(roots.get(i)) + " is not a CA certificate (expected basicConstraints cA=true)");
            }
        }

        List<X509Certificate> caCerts = Pem.parseCertificates(
                texts.cert(), origin(dir, CA_CERT), "the CA certificate that signs workload certificates");
        if (caCerts.size() != 1) {
            throw new CertificateSourceException(origin(dir, CA_CERT) + ": found " + caCerts.size()
                    + " certificates (expected exactly one, the signing CA; its issuers belong in " + CERT_CHAIN + ")");
        }
        X509Certificate caCert = caCerts.getFirst();
        if (!Chains.isCa(caCert)) {
            throw new CertificateSourceException(origin(dir, CA_CERT) + ": " + subject(caCert)
                    + " cannot sign certificates (expected basicConstraints cA=true and, if keyUsage is set,"
                    + " keyCertSign)");
        }
        if (now.isBefore(caCert.getNotBefore().toInstant())) {
            throw new CertificateSourceException(origin(dir, CA_CERT) + ": " + subject(caCert) + " is not valid before "
                    + caCert.getNotBefore().toInstant() + " (now " + now + ")");
        }
        if (!now.isBefore(caCert.getNotAfter().toInstant())) {
            throw new CertificateSourceException(origin(dir, CA_CERT) + ": " + subject(caCert) + " expired at "
                    + caCert.getNotAfter().toInstant() + " (expected a CA certificate valid now, " + now + ")");
        }

        PrivateKey key = Pem.parsePrivateKey(texts.key(), origin(dir, CA_KEY), "the private key of " + CA_CERT);
        try {
            SigningCa.signatureAlgorithm(key);
        } catch (IllegalArgumentException e) {
            throw new CertificateSourceException(origin(dir, CA_KEY) + ": " + e.getMessage());
        }
        if (!SigningCa.keyMatches(key, caCert.getPublicKey())) {
            throw new CertificateSourceException(origin(dir, CA_KEY) + " does not match the public key of " + CA_CERT
                    + " " + subject(caCert) + " (expected the key that certificate was issued for)");
        }

        List<X509Certificate> chain = Pem.parseCertificates(
                texts.chain(), origin(dir, CERT_CHAIN), CA_CERT + " followed by its issuers up to the root");
        if (!chain.getFirst().equals(caCert)) {
            throw new CertificateSourceException(origin(dir, CERT_CHAIN) + " starts with "
                    + subject(chain.getFirst()) + " (expected " + CA_CERT + " " + subject(caCert)
                    + " first, then its issuers up to the root: it is presented after every workload certificate)");
        }
        try {
            Chains.verify(chain, roots, now);
        } catch (GeneralSecurityException e) {
            throw new CertificateSourceException(
                    CA_CERT + " in " + dir + " does not chain to " + ROOT_CERT + " through " + CERT_CHAIN + ": "
                            + e.getMessage(),
                    e);
        }
        return new SigningCa(caCert, key, chain, roots);
    }

    private static X509CRL loadCrl(Path dir, String text, SigningCa ca) throws CertificateSourceException {
        List<X509CRL> crls = Pem.parseCrls(text, origin(dir, CA_CRL), "a CRL signed by the CA");
        if (crls.size() != 1) {
            throw new CertificateSourceException(origin(dir, CA_CRL) + ": found " + crls.size()
                    + " CRLs (expected one, from " + CA_CERT + " or one of its issuers)");
        }
        X509CRL crl = crls.getFirst();
        List<X509Certificate> issuers = new ArrayList<>();
        issuers.add(ca.certificate());
        issuers.addAll(ca.chain());
        issuers.addAll(ca.roots());
        for (X509Certificate issuer : issuers) {
            if (issuer.getSubjectX500Principal().equals(crl.getIssuerX500Principal())) {
                try {
                    crl.verify(issuer.getPublicKey());
                    return crl;
                } catch (GeneralSecurityException e) {
                    // try the next certificate with the same name (a CA that was re-keyed)
                }
            }
        }
        throw new CertificateSourceException(origin(dir, CA_CRL) + ": the CRL from \""
                + crl.getIssuerX500Principal().getName() + "\" is not signed by " + CA_CERT + ", " + CERT_CHAIN
                + " or " + ROOT_CERT + " (expected a CRL issued by this CA)");
    }

    private static int count(X509CRL crl) {
        var revoked = crl.getRevokedCertificates();
        return revoked == null ? 0 : revoked.size();
    }

    private static String origin(Path dir, String name) {
        return dir.resolve(name).toString();
    }

    private static String subject(X509Certificate cert) {
        return "\"" + cert.getSubjectX500Principal().getName() + "\"";
    }
}
